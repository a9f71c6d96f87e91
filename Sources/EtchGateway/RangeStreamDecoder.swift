/// Decodes a `/kv/range` reply as its bytes arrive: the header first, then the key-values in batches, then
/// `more` and `count`, which the gateway writes after them (protobuf field order). Memory stays bounded by one
/// key-value however large the reply, so a large range can be read in few, large pages.
public struct RangeStreamDecoder {
    private static let kvsKey = Array("\"kvs\":[".utf8)
    private static let replyStart = Array("{\"header\":".utf8)

    private enum State { case prefix, kvs, trailer, other }
    private var state = State.prefix
    private var buffer: [UInt8] = []
    private var scan = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var start = -1

    public init() {}

    /// Feeds a chunk; calls `onHeader` once, then `onKVs` with each batch of whole key-values.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, onHeader: (ResponseHeader) -> Void,
                              onKVs: ([KeyValue]) -> Void) throws(GatewayError) {
        buffer.append(contentsOf: chunk)
        if state == .prefix {
            if buffer.count >= RangeStreamDecoder.replyStart.count,
               !buffer.starts(with: RangeStreamDecoder.replyStart) {
                state = .other  // an error body or something else: decoded whole at the end
                return
            }
            guard let key = buffer.firstRange(of: RangeStreamDecoder.kvsKey) else { return }
            var prefix = Array(buffer[..<key.lowerBound])
            while let last = prefix.last, last == UInt8(ascii: ",") || last == 0x20 { prefix.removeLast() }
            prefix.append(UInt8(ascii: "}"))
            let json: JSON
            do { json = try JSONParser.parse(prefix) } catch {
                throw .malformedReply("range reply header is not JSON (\(error.message))")
            }
            onHeader(try ResponseHeader(json: json["header"]))
            buffer.removeFirst(key.upperBound)
            state = .kvs
            scan = 0
        }
        if state == .kvs { try scanKVs(onKVs) }
    }

    private mutating func scanKVs(_ onKVs: ([KeyValue]) -> Void) throws(GatewayError) {
        var kvs: [KeyValue] = []
        var failure: GatewayError?
        buffer.withUnsafeBufferPointer { b in
            var i = scan
            while i < b.count {
                let c = b[i]
                if inString {
                    if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                } else if c == 0x22 {
                    inString = true
                } else if c == UInt8(ascii: "{") {
                    if depth == 0 { start = i }
                    depth += 1
                } else if c == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0, start >= 0 {
                        do {
                            kvs.append(try KeyValue(json: JSONParser.parse(UnsafeBufferPointer(rebasing: b[start...i]))))
                        } catch {
                            failure = error as? GatewayError ?? .malformedReply("range reply key-value is not valid JSON")
                            return
                        }
                        start = -1
                    }
                } else if c == UInt8(ascii: "]") && depth == 0 {
                    state = .trailer
                    i += 1
                    break
                }
                i += 1
            }
            scan = i
        }
        if let failure { throw failure }
        if !kvs.isEmpty { onKVs(kvs) }
        // Keep only what is still needed: the key-value being read, or the trailer.
        let keep = state == .trailer ? scan : (start >= 0 ? start : scan)
        if keep > 0 && (keep > 64 * 1024 || state == .trailer) {
            buffer.removeFirst(keep)
            scan -= keep
            if start >= 0 { start -= keep }
        }
    }

    /// What the reply said after its key-values; nil when the reply was not a streamed range reply (then
    /// `wholeBody` is everything received, to be decoded as a whole).
    public func finish() throws(GatewayError) -> (more: Bool, count: Int64)? {
        switch state {
        case .prefix, .other:
            return nil
        case .kvs:
            throw .malformedReply("range reply ended inside its key-values")
        case .trailer:
            var trailer = Array("{\"kvs\":0".utf8)
            trailer.append(contentsOf: buffer)
            guard let json = try? JSONParser.parse(trailer) else {
                throw .malformedReply("range reply does not end as JSON")
            }
            return (json["more"]?.boolValue ?? false, json["count"]?.int64Value ?? 0)
        }
    }

    /// Everything received, when the reply was not streamed.
    public var wholeBody: [UInt8] { buffer }
}
