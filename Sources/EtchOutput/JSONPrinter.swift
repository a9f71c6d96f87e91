import EtchGateway

/// etcdctl's `json` format: Go's encoding/json of the client's response structs. 64-bit integers are numbers,
/// bytes are base64, zero fields are omitted, a DELETE event is `"type":1`, and the watch response uses Go
/// field names (`Header`, `Events`, ...).
public struct JSONPrinter: Printer {
    public init() {}

    /// Appends `,"name":` (or `"name":` first in an object) from `member`, which is `,"name":` whole: one copy
    /// (a catch-up prints 400,000 of them).
    @inline(__always) private static func name(_ member: StaticString, _ first: inout Bool, _ out: OutputBuffer) {
        let skip = first ? 1 : 0
        first = false
        out.append(UnsafeBufferPointer(start: member.utf8Start + skip, count: member.utf8CodeUnitCount - skip))
    }

    static func header(_ h: ResponseHeader, _ out: OutputBuffer) {
        var first = true
        out.append(UInt8(ascii: "{"))
        if h.clusterID != 0 { name(",\"cluster_id\":", &first, out); out.appendUInt(h.clusterID) }
        if h.memberID != 0 { name(",\"member_id\":", &first, out); out.appendUInt(h.memberID) }
        if h.revision != 0 { name(",\"revision\":", &first, out); out.appendInt(h.revision) }
        if h.raftTerm != 0 { name(",\"raft_term\":", &first, out); out.appendUInt(h.raftTerm) }
        out.append(UInt8(ascii: "}"))
    }

    static func base64(_ b: [UInt8], _ out: OutputBuffer) {
        out.write(upTo: Base64.encodedCount(b.count) + 2) { p in
            p[0] = UInt8(ascii: "\"")
            let n = b.withUnsafeBufferPointer { Base64.encode($0, to: p + 1) }
            p[n + 1] = UInt8(ascii: "\"")
            return n + 2
        }
    }

    static func kv(_ kv: KeyValue, _ out: OutputBuffer) {
        var first = true
        out.append(UInt8(ascii: "{"))
        if !kv.key.isEmpty { name(",\"key\":", &first, out); base64(kv.key, out) }
        if kv.createRevision != 0 { name(",\"create_revision\":", &first, out); out.appendInt(kv.createRevision) }
        if kv.modRevision != 0 { name(",\"mod_revision\":", &first, out); out.appendInt(kv.modRevision) }
        if kv.version != 0 { name(",\"version\":", &first, out); out.appendInt(kv.version) }
        if !kv.value.isEmpty { name(",\"value\":", &first, out); base64(kv.value, out) }
        if kv.lease != 0 { name(",\"lease\":", &first, out); out.appendInt(kv.lease) }
        out.append(UInt8(ascii: "}"))
    }

    static func kvArray(_ kvs: [KeyValue], _ out: OutputBuffer) {
        out.append(UInt8(ascii: "["))
        for (i, item) in kvs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            kv(item, out)
            out.flushIfLarge()
        }
        out.append(UInt8(ascii: "]"))
    }

    public func getBegin(_ header: ResponseHeader, to out: OutputBuffer) {
        out.append("{\"header\":")
        JSONPrinter.header(header, out)
    }

    public func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer) {
        out.append(first ? ",\"kvs\":[" : ",")
        for (i, item) in kvs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONPrinter.kv(item, out)
            out.flushIfLarge()
        }
    }

    public func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer) {
        if anyKVs { out.append(UInt8(ascii: "]")) }
        if more { out.append(",\"more\":true") }
        if count != 0 { out.append(",\"count\":"); out.appendInt(count) }
        out.append("}\n")
    }

    public func put(_ r: PutResponse, to out: OutputBuffer) {
        var first = true
        out.append(UInt8(ascii: "{"))
        JSONPrinter.name(",\"header\":", &first, out); JSONPrinter.header(r.header, out)
        if let prev = r.prevKV { JSONPrinter.name(",\"prev_kv\":", &first, out); JSONPrinter.kv(prev, out) }
        out.append("}\n")
    }

    public func delete(_ r: DeleteRangeResponse, to out: OutputBuffer) {
        var first = true
        out.append(UInt8(ascii: "{"))
        JSONPrinter.name(",\"header\":", &first, out); JSONPrinter.header(r.header, out)
        if r.deleted != 0 { JSONPrinter.name(",\"deleted\":", &first, out); out.appendInt(r.deleted) }
        if !r.prevKVs.isEmpty { JSONPrinter.name(",\"prev_kvs\":", &first, out); JSONPrinter.kvArray(r.prevKVs, out) }
        out.append("}\n")
    }

    public func watch(_ r: WatchResponse, to out: OutputBuffer) {
        if r.part == .whole || r.part == .first {
            out.append("{\"Header\":")
            JSONPrinter.header(r.header, out)
            out.append(",\"Events\":[")
        }
        for (i, ev) in r.events.enumerated() {
            // Parts after the first continue an array that already has events.
            if i > 0 || r.part == .middle || r.part == .last { out.append(UInt8(ascii: ",")) }
            var first = true
            out.append(UInt8(ascii: "{"))
            if ev.type == .delete { JSONPrinter.name(",\"type\":", &first, out); out.append("1") }
            JSONPrinter.name(",\"kv\":", &first, out); JSONPrinter.kv(ev.kv, out)
            if let prev = ev.prevKV { JSONPrinter.name(",\"prev_kv\":", &first, out); JSONPrinter.kv(prev, out) }
            out.append(UInt8(ascii: "}"))
            out.flushIfLarge()
        }
        guard r.part == .whole || r.part == .last else { return }
        out.append("],\"CompactRevision\":")
        out.appendInt(r.compactRevision)
        out.append(r.canceled ? ",\"Canceled\":true" : ",\"Canceled\":false")
        out.append(r.created ? ",\"Created\":true}\n" : ",\"Created\":false}\n")
    }
}
