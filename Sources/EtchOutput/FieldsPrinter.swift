import EtchGateway

/// etcdctl's `fields` format: one `"Name" : value` line per field, strings quoted with Go's `%q`.
public struct FieldsPrinter: Printer {
    public init() {}

    private func header(_ h: ResponseHeader, _ out: OutputBuffer) {
        out.append("\"ClusterID\" : "); out.appendUInt(h.clusterID); out.append(0x0A)
        out.append("\"MemberID\" : "); out.appendUInt(h.memberID); out.append(0x0A)
        out.append("\"Revision\" : "); out.appendInt(h.revision); out.append(0x0A)
        out.append("\"RaftTerm\" : "); out.appendUInt(h.raftTerm); out.append(0x0A)
    }

    private func kv(_ prefix: String, _ kv: KeyValue, _ out: OutputBuffer) {
        out.append("\"\(prefix)Key\" : ")
        out.appendDirectly { GoQuote.append(kv.key, to: &$0) }
        out.append(0x0A)
        out.append("\"\(prefix)CreateRevision\" : "); out.appendInt(kv.createRevision); out.append(0x0A)
        out.append("\"\(prefix)ModRevision\" : "); out.appendInt(kv.modRevision); out.append(0x0A)
        out.append("\"\(prefix)Version\" : "); out.appendInt(kv.version); out.append(0x0A)
        out.append("\"\(prefix)Value\" : ")
        out.appendDirectly { GoQuote.append(kv.value, to: &$0) }
        out.append(0x0A)
        out.append("\"\(prefix)Lease\" : "); out.appendInt(kv.lease); out.append(0x0A)
    }

    public func getBegin(_ header: ResponseHeader, to out: OutputBuffer) { self.header(header, out) }

    public func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer) {
        for item in kvs {
            kv("", item, out)
            out.flushIfLarge()
        }
    }

    public func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer) {
        out.append(more ? "\"More\" : true\n" : "\"More\" : false\n")
        out.append("\"Count\" : "); out.appendInt(count); out.append(0x0A)
    }

    public func put(_ r: PutResponse, to out: OutputBuffer) {
        header(r.header, out)
        if let prev = r.prevKV { kv("Prev", prev, out) }
    }

    public func delete(_ r: DeleteRangeResponse, to out: OutputBuffer) {
        header(r.header, out)
        out.append("\"Deleted\" : "); out.appendInt(r.deleted); out.append(0x0A)
        for prev in r.prevKVs { kv("Prev", prev, out) }
    }

    public func watch(_ r: WatchResponse, to out: OutputBuffer) {
        if r.part == .whole || r.part == .first { header(r.header, out) }
        for ev in r.events {
            out.append(ev.type == .put ? "\"Type\" : PUT\n" : "\"Type\" : DELETE\n")
            if let prev = ev.prevKV { kv("Prev", prev, out) }
            kv("", ev.kv, out)
        }
    }
}
