import EtchGateway

/// The output formats `-w/--write-out` accepts.
public enum OutputFormat: String, Sendable, CaseIterable {
    case simple, json, fields
}

/// Writes command results in one output format, byte for byte as etcdctl 3.4 does.
public protocol Printer {
    func get(_ r: RangeResponse, to out: OutputBuffer)
    func put(_ r: PutResponse, to out: OutputBuffer)
    func delete(_ r: DeleteRangeResponse, to out: OutputBuffer)
    func watch(_ r: WatchResponse, to out: OutputBuffer)
}

/// Builds the printer for a format.
public func makePrinter(_ format: OutputFormat, hex: Bool, valueOnly: Bool) -> Printer {
    switch format {
    case .simple: return SimplePrinter(hex: hex, valueOnly: valueOnly)
    case .json: return JSONPrinter()
    case .fields: return FieldsPrinter()
    }
}
