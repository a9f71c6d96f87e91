/// Decodes a `/kv/range` reply as its bytes arrive: the header first, then the key-values in batches, then
/// `more` and `count`, which the gateway writes after them (protobuf field order). Memory stays bounded by one
/// key-value however large the reply, so a large range can be read in few, large pages.
public struct RangeStreamDecoder {
    private static let kvsKey = Array("\"kvs\":[".utf8)
    private static let replyStart = Array("{\"header\":".utf8)

    private enum State { case prefix, kvs, trailer, other }
    private var state = State.prefix
    private var buffer: [UInt8] = []
    private var scanner = JSONArrayScanner()

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
            guard buffer.firstRange(of: RangeStreamDecoder.kvsKey) != nil else { return }
            guard let (json, start) = parsePrefix(buffer, before: RangeStreamDecoder.kvsKey, closing: "}") else {
                throw .malformedReply("range reply header is not JSON")
            }
            onHeader(try ResponseHeader(json: json["header"]))
            buffer.removeFirst(start)
            state = .kvs
            scanner = JSONArrayScanner()
        }
        if state == .kvs { try scanKVs(onKVs) }
    }

    private mutating func scanKVs(_ onKVs: ([KeyValue]) -> Void) throws(GatewayError) {
        let (kvs, failed) = buffer.withUnsafeBufferPointer { b in
            scanner.decode(b, stopAtFailure: true, fast: FastDecode.keyValue(in:at:), slow: KeyValue.decode)
        }
        let failure = failed.map { $0 as? GatewayError ?? .malformedReply("range reply key-value is not valid JSON") }
        if let failure { throw failure }
        if scanner.foundNonObject { throw .malformedReply("kv is not a JSON object") }
        if !kvs.isEmpty { onKVs(kvs) }
        if scanner.ended { state = .trailer }
        // Keep only what is still needed: the key-value being read, or the trailer.
        let keep = scanner.firstNeeded
        if keep > 0 && (keep > 64 * 1024 || state == .trailer) {
            buffer.removeFirst(keep)
            scanner.dropFront(keep)
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
            // The same rules as for a reply decoded whole.
            let f = try Fields(json, "range response")
            return (try f.bool("more"), try f.count("count"))
        }
    }

    /// Everything received, when the reply was not streamed.
    public var wholeBody: [UInt8] { buffer }
}
