import EtchGateway

/// The output formats `-w/--write-out` accepts: etcdctl's five and etch's `jsonl` (JSON lines for jq).
public enum OutputFormat: String, Sendable, CaseIterable {
    case simple, json, fields, table, protobuf, jsonl
}

/// Writes command results in one output format, byte for byte as etcdctl 3.4 does.
public protocol Printer {
    /// A get printed page by page (a large range read in pages at one revision): the header, each page's
    /// key-values, then the totals. The bytes are the same as `get` of the whole response.
    func getBegin(_ header: ResponseHeader, to out: OutputBuffer)
    func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer)
    func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer)
    func get(_ r: RangeResponse, to out: OutputBuffer)
    func put(_ r: PutResponse, to out: OutputBuffer)
    func delete(_ r: DeleteRangeResponse, to out: OutputBuffer)
    func watch(_ r: WatchResponse, to out: OutputBuffer)
    /// A watch progress notification at `revision`.
    func progressNotify(revision: Int64, to out: OutputBuffer)
}

/// Builds the printer for a format; `keysOnly` tells the JSON-lines printer that values were not asked for.
public func makePrinter(_ format: OutputFormat, hex: Bool, valueOnly: Bool, keysOnly: Bool = false) -> Printer {
    switch format {
    case .simple: return SimplePrinter(hex: hex, valueOnly: valueOnly)
    case .json: return JSONPrinter()
    case .fields: return FieldsPrinter()
    case .jsonl: return JSONLinesPrinter(keysOnly: keysOnly)
    case .protobuf: return ProtobufPrinter()
    case .table: preconditionFailure("get, put, del and watch have no table form: refused before the printer is made")
    }
}

extension Printer {
    /// etcdctl prints a progress notification as this line in every format.
    public func progressNotify(revision: Int64, to out: OutputBuffer) {
        out.append("progress notify: ")
        out.appendInt(revision)
        out.append(0x0A)
    }

    public func get(_ r: RangeResponse, to out: OutputBuffer) {
        getBegin(r.header, to: out)
        if !r.kvs.isEmpty { getPage(r.kvs, first: true, to: out) }
        getEnd(more: r.more, count: r.count, anyKVs: !r.kvs.isEmpty, to: out)
    }
}

/// A printer as the sink of a range read: etch get prints a range of any size as it is read.
public final class PrintingRangeSink: RangeSink {
    let printer: Printer
    let out: OutputBuffer

    public init(_ printer: Printer, _ out: OutputBuffer) {
        self.printer = printer
        self.out = out
    }

    public func begin(_ header: ResponseHeader) { printer.getBegin(header, to: out) }

    public func page(_ kvs: [KeyValue], first: Bool) {
        printer.getPage(kvs, first: first, to: out)
        out.flushIfLarge()
    }

    public func end(more: Bool, count: Int64, anyKVs: Bool) { printer.getEnd(more: more, count: count, anyKVs: anyKVs, to: out) }
}
