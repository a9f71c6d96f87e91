import EtchGateway

/// etcdctl's `simple` format: raw key and value lines; `--hex` writes every byte as `\xNN`.
public struct SimplePrinter: Printer {
    public var hex: Bool
    public var valueOnly: Bool
    private static let digits = Array("0123456789abcdef".utf8)

    public init(hex: Bool, valueOnly: Bool) {
        self.hex = hex
        self.valueOnly = valueOnly
    }

    private func line(_ bytes: [UInt8], _ out: OutputBuffer) {
        if hex {
            for b in bytes {
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "x"))
                out.append(SimplePrinter.digits[Int(b >> 4)])
                out.append(SimplePrinter.digits[Int(b & 0xF)])
            }
        } else {
            out.append(bytes)
        }
        out.append(0x0A)
    }

    private func kv(_ kv: KeyValue, _ out: OutputBuffer) {
        if !valueOnly { line(kv.key, out) }
        line(kv.value, out)
    }

    public func getBegin(_ header: ResponseHeader, to out: OutputBuffer) {}

    public func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer) {
        for item in kvs {
            kv(item, out)
            out.flushIfLarge()
        }
    }

    public func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer) {}

    public func put(_ r: PutResponse, to out: OutputBuffer) {
        out.append("OK\n")
        if let prev = r.prevKV { kv(prev, out) }
    }

    public func delete(_ r: DeleteRangeResponse, to out: OutputBuffer) {
        out.appendInt(r.deleted)
        out.append(0x0A)
        for prev in r.prevKVs { kv(prev, out) }
    }

    public func watch(_ r: WatchResponse, to out: OutputBuffer) {
        for ev in r.events {
            out.append(ev.type == .put ? "PUT\n" : "DELETE\n")
            if let prev = ev.prevKV { kv(prev, out) }
            kv(ev.kv, out)
        }
    }
}
