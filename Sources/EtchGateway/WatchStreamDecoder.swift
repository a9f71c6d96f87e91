import Glibc

/// Splits a watch stream into messages like `LineFramer`, but decodes a message that grows past
/// `streamThreshold` bytes event by event as its bytes arrive, handing on parts (`.first`, `.middle`, `.last`)
/// instead of buffering the whole line: a replay of one revision with 100,000 events is a 7 MB line, and
/// memory must stay flat however large a message is.
public struct WatchStreamDecoder {
    /// What the decoder hands on.
    public enum Piece {
        /// A complete message line that was small enough to buffer.
        case line(UnsafeRawBufferPointer)
        /// Part of a large message, decoded as it arrived.
        case part(WatchResponse)
    }

    public static let streamThreshold = 256 * 1024
    private static let eventsKey = Array("\"events\":[".utf8)

    private var framer = LineFramer()
    /// The unconsumed bytes of the message being streamed.
    private var buffer: [UInt8] = []
    private var streaming = false
    /// The current line turned out to have no events array: buffer it whole, do not look again.
    private var plainLine = false
    private var base = WatchResponse()
    private var opened = false
    private var scanner = JSONArrayScanner()
    /// Set when a streamed event could not be decoded.
    public private(set) var error: GatewayError?

    /// Lines longer than this are decoded event by event (tests set a small one to reach that path cheaply).
    private let threshold: Int

    public init(streamThreshold: Int = WatchStreamDecoder.streamThreshold) { threshold = streamThreshold }

    /// Whether a large message is being streamed and has been opened (a `.first` part was handed on).
    public var inOpenMessage: Bool { streaming && opened }

    /// Feeds one chunk of the stream.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (Piece) -> Void) {
        var rest = chunk
        while !rest.isEmpty {
            if streaming {
                let nl = newline(in: rest)
                let end = nl ?? rest.count
                buffer.append(contentsOf: rest[..<end])
                scanEvents(emit)
                if let nl {
                    endMessage(emit)
                    rest = UnsafeRawBufferPointer(rebasing: rest[(nl + 1)...])
                } else {
                    compact()
                    return
                }
                continue
            }
            // Not streaming: frame lines, but watch the pending line's size.
            if let nl = newline(in: rest) {
                framer.feed(UnsafeRawBufferPointer(rebasing: rest[...nl])) { emit(.line($0)) }
                rest = UnsafeRawBufferPointer(rebasing: rest[(nl + 1)...])
                plainLine = false
                if framer.pendingCount > threshold { startStreaming(emit) }
                continue
            }
            framer.feed(rest) { emit(.line($0)) }
            rest = UnsafeRawBufferPointer(start: nil, count: 0)
            if !plainLine && framer.pendingCount > threshold { startStreaming(emit) }
        }
    }

    /// The offset of the first newline in `bytes`, by memchr (a catch-up line is megabytes long).
    private func newline(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, let p = memchr(base, 0x0A, bytes.count) else { return nil }
        return base.distance(to: UnsafeRawPointer(p))
    }

    /// Delivers what is left when the stream ends normally.
    public mutating func finish(_ emit: (Piece) -> Void) {
        if streaming {
            if opened { emit(.part(closingPart())) }
            reset()
            return
        }
        framer.finish { emit(.line($0)) }
    }

    /// After a broken stream: the partial small line (for salvage), or, when a large message was open, a
    /// closing part so printers end the response they started.
    public mutating func takePartial() -> (partialLine: [UInt8], closing: WatchResponse?) {
        defer { reset() }
        if streaming { return ([], opened ? closingPart() : nil) }
        return (framer.takePending(), nil)
    }

    private mutating func reset() {
        buffer = []
        streaming = false
        opened = false
        scanner = JSONArrayScanner()
        base = WatchResponse()
    }

    private func closingPart() -> WatchResponse {
        var r = base
        r.events = []
        r.part = .last
        return r
    }

    /// Switches the pending line to event-by-event decoding once its header has arrived.
    private mutating func startStreaming(_ emit: (Piece) -> Void) {
        let pending = framer.takePending()
        guard let (outer, start) = parsePrefix(pending, before: WatchStreamDecoder.eventsKey, closing: "}}"),
              let result = outer["result"], let parsed = try? WatchResponse(json: result) else {
            // No events array, or a prefix that does not parse: keep buffering this line as a plain line.
            plainLine = true
            pending.withUnsafeBytes { framer.feed($0) { emit(.line($0)) } }
            return
        }
        base = parsed
        streaming = true
        buffer = Array(pending[start...])
        scanner = JSONArrayScanner()
        scanEvents(emit)
        compact()
    }

    /// Decodes every event object completed in `buffer` and hands them on as one part.
    private mutating func scanEvents(_ emit: (Piece) -> Void) {
        let (events, failed) = buffer.withUnsafeBufferPointer { b in
            scanner.decode(b, stopAtFailure: false, fast: FastDecode.event(in:at:), slow: Event.decode)
        }
        let failure = failed.map { $0 as? GatewayError ?? .malformedReply("watch event is not valid JSON") }
        if let failure { error = failure }
        if scanner.foundNonObject && error == nil { error = .malformedReply("event is not a JSON object") }
        if !events.isEmpty {
            var r = base
            r.events = events
            r.part = opened ? .middle : .first
            opened = true
            emit(.part(r))
        }
    }

    /// Drops bytes no longer needed: everything before the event being scanned.
    private mutating func compact() {
        let keep = scanner.firstNeeded
        if keep > 64 * 1024 {
            buffer.removeFirst(keep)
            scanner.dropFront(keep)
        }
    }

    private mutating func endMessage(_ emit: (Piece) -> Void) {
        if opened { emit(.part(closingPart())) }
        reset()
    }
}
