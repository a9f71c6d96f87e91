import EtchTransport

/// What can go wrong receiving a snapshot, each with a message a user can act on.
public enum SnapshotError: Error, Sendable, Equatable {
    /// The server refused the request or the connection failed (including a stream error sent in-band).
    case gateway(GatewayError)
    /// No byte arrived for this long: the server or the network stalled.
    case stalled(endpoint: String, milliseconds: Int)
    /// The stream ended before the size its first message announced (a cut connection).
    case truncated(received: Int64, expected: Int64)
    /// The stream is too short to hold the trailing SHA-256.
    case tooShort(received: Int64)
    /// The trailing SHA-256 is not the digest of the bytes before it: the snapshot is corrupt.
    case digestMismatch(expected: [UInt8], computed: [UInt8])
    /// A message is not what etcd sends.
    case malformed(String)
    /// The consumer of the bytes failed (a write error); the transfer was stopped.
    case sink(String)

    public var message: String {
        switch self {
        case let .gateway(e):
            return e.message
        case let .stalled(endpoint, ms):
            return "snapshot stalled: nothing received from \(endpoint) for \(GatewaySnapshot.seconds(ms))"
        case let .truncated(received, expected):
            return "snapshot stream ended early: received \(received) of \(expected) bytes (connection lost?)"
        case let .tooShort(received):
            return "snapshot stream ended after \(received) bytes, too short to hold its sha256 checksum"
        case let .digestMismatch(expected, computed):
            return "snapshot is corrupt: its sha256 checksum is \(hex(expected)) but its data hashes to \(hex(computed))"
        case let .malformed(why):
            return "unexpected snapshot stream from the server: \(why)"
        case let .sink(why):
            return why
        }
    }

    private func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s: [UInt8] = []
        for x in b { s.append(digits[Int(x >> 4)]); s.append(digits[Int(x & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}

/// The outcome of a verified snapshot transfer.
public struct SnapshotSummary: Sendable, Equatable {
    /// Bytes delivered to the sink: the database followed by its 32-byte SHA-256.
    public var size: Int64
    /// The SHA-256 of the database (the last 32 bytes delivered), verified.
    public var digest: [UInt8]
}

/// Where the decoded snapshot bytes go, in order; throwing stops the transfer.
public typealias SnapshotByteSink = (UnsafeRawBufferPointer) throws(SnapshotError) -> Void

/// Decodes `/v3/maintenance/snapshot`'s stream, one `{"result":{"remaining_bytes":"N","blob":"<base64>"}}` line per
/// 32 KiB: hands each blob's bytes to the sink as they arrive, hashes all but the last 32 bytes and checks them
/// against those 32 (etcd's trailing SHA-256). Memory stays at one message however large the database.
public struct SnapshotStreamDecoder {
    private var framer = LineFramer()
    private var hasher = SHA256()
    /// The last (up to) 32 bytes received, not yet hashed: they may be the digest.
    private var window: [UInt8] = []
    private var scratch: [UInt8] = []
    private var failure: SnapshotError?
    /// Bytes handed to the sink so far.
    public private(set) var received: Int64 = 0
    /// The whole stream's size (database + 32), known from the first message.
    public private(set) var expected: Int64?

    public init() {}

    /// Feeds one chunk of the HTTP body.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, sink: SnapshotByteSink) throws(SnapshotError) {
        var f = framer
        framer = LineFramer()
        defer { framer = f }
        f.feed(chunk) { line in
            guard failure == nil else { return }
            do throws(SnapshotError) { try message(line, sink: sink) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Called when the body ended without a transport error: decodes a last line without a newline, then
    /// checks the size and the digest.
    public mutating func finish(sink: SnapshotByteSink) throws(SnapshotError) -> SnapshotSummary {
        var f = framer
        framer = LineFramer()
        f.finish { line in
            guard failure == nil else { return }
            do throws(SnapshotError) { try message(line, sink: sink) } catch { failure = error }
        }
        if let failure { throw failure }
        if let expected, received != expected {
            throw received < expected ? .truncated(received: received, expected: expected)
                : .malformed("received \(received) bytes, more than the \(expected) announced")
        }
        guard window.count == SHA256.digestSize else { throw .tooShort(received: received) }
        let computed = hasher.finish()
        guard computed == window else { throw .digestMismatch(expected: window, computed: computed) }
        return SnapshotSummary(size: received, digest: window)
    }

    private static let resultStart = Array("{\"result\":{".utf8)
    private static let blobKey = Array("\"blob\":\"".utf8)
    private static let remainingKey = Array("\"remaining_bytes\":".utf8)

    /// One message: a blob (fast path without building JSON values for the 44 KB of base64), or an error.
    private mutating func message(_ line: UnsafeRawBufferPointer, sink: SnapshotByteSink) throws(SnapshotError) {
        let bytes = line.bindMemory(to: UInt8.self)
        guard bytes.starts(with: SnapshotStreamDecoder.resultStart), let blob = find(SnapshotStreamDecoder.blobKey, in: bytes, from: 0) else {
            try slowMessage(bytes, sink: sink)
            return
        }
        let start = blob
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\"") && bytes[end] != UInt8(ascii: "\\") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else {
            try slowMessage(bytes, sink: sink)
            return
        }
        // remaining_bytes comes before the blob (proto field order) or, from another encoder, after it.
        var remaining: Int64 = 0
        let r = find(SnapshotStreamDecoder.remainingKey, in: UnsafeBufferPointer(rebasing: bytes[..<start]), from: 0)
            ?? find(SnapshotStreamDecoder.remainingKey, in: bytes, from: end).map { $0 }
        if let r {
            var i = r
            if i < bytes.count && bytes[i] == UInt8(ascii: "\"") { i += 1 }
            var digits = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), digits < 19 {
                remaining = remaining * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                i += 1; digits += 1
            }
            guard digits > 0 else { throw .malformed("remaining_bytes is not a number") }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if scratch.count < Base64.decodedCapacity(text.count) { scratch = [UInt8](repeating: 0, count: Base64.decodedCapacity(text.count)) }
        let n = scratch.withUnsafeMutableBufferPointer { Base64.decode(text, into: $0) }
        guard let n else { throw .malformed("blob is not valid base64") }
        let decoded = scratch
        try decoded.withUnsafeBytes { b in deliver(UnsafeRawBufferPointer(rebasing: b[..<n]), remaining: remaining, sink: sink) }.get()
    }

    /// A message the fast path did not recognise: an in-band stream error, an HTTP error body, or a blob in an
    /// encoding the fast path does not read (escapes, other spacing).
    private mutating func slowMessage(_ bytes: UnsafeBufferPointer<UInt8>, sink: SnapshotByteSink) throws(SnapshotError) {
        let json: JSON
        do { json = try JSONParser.parse(bytes) } catch {
            throw .malformed("not JSON (\(error.message)): \(GatewayClient.snippet(Array(bytes)))")
        }
        if let e = GatewayError.parseStreamError(json) { throw .gateway(e) }
        if let e = GatewayError.parseErrorBody(Array(bytes), httpStatus: 0) { throw .gateway(e) }
        guard let result = json["result"], result.isObject else {
            throw .malformed("not a snapshot message: \(GatewayClient.snippet(Array(bytes)))")
        }
        let text = result["blob"]?.stringValue ?? ""
        guard let blob = Base64.decode(text) else { throw .malformed("blob is not valid base64") }
        let remaining = result["remaining_bytes"].flatMap { $0.int64Value } ?? 0
        try blob.withUnsafeBytes { b in deliver(b, remaining: remaining, sink: sink) }.get()
    }

    /// Delivers one decoded blob; the result (not a throw) crosses `withUnsafeBytes`, which has no typed throws.
    private mutating func deliver(_ b: UnsafeRawBufferPointer, remaining: Int64, sink: SnapshotByteSink) -> Result<Void, SnapshotError> {
        do throws(SnapshotError) { try deliverChecked(b, remaining: remaining, sink: sink) } catch { return .failure(error) }
        return .success(())
    }

    private mutating func deliverChecked(_ b: UnsafeRawBufferPointer, remaining: Int64, sink: SnapshotByteSink) throws(SnapshotError) {
        // The first message announces the rest (unless it is the only data: then the size is unknown).
        if received == 0 && expected == nil && remaining > 0 {
            let (sum, overflow) = Int64(b.count).addingReportingOverflow(remaining)
            guard !overflow, sum <= Int64.max - 32 else { throw .malformed("remaining_bytes \(remaining) is out of range") }
            expected = sum + Int64(SHA256.digestSize)
        }
        try sink(b)
        received += Int64(b.count)
        if let expected, received > expected {
            throw .malformed("received \(received) bytes, more than the \(expected) announced")
        }
        // Hash everything but the last 32 bytes seen.
        let d = SHA256.digestSize
        if b.count >= d {
            hasher.update(window)
            hasher.update(UnsafeRawBufferPointer(rebasing: b[..<(b.count - d)]))
            window = Array(b[(b.count - d)...])
        } else {
            window.append(contentsOf: b)
            if window.count > d {
                let extra = window.count - d
                hasher.update(Array(window[..<extra]))
                window.removeFirst(extra)
            }
        }
    }

    /// The index just after the first occurrence of `key` in `bytes` at or after `from`.
    private func find(_ key: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard bytes.count >= key.count, let first = key.first else { return nil }
        var i = from
        let last = bytes.count - key.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < key.count && bytes[i + j] == key[j] { j += 1 }
                if j == key.count { return i + key.count }
            }
            i += 1
        }
        return nil
    }
}

/// Helpers shared by the snapshot engine and its users.
public enum GatewaySnapshot {
    /// Milliseconds as Go prints a whole-second duration (`30s`) or with its fraction (`1.5s`).
    public static func seconds(_ ms: Int) -> String {
        ms % 1000 == 0 ? "\(ms / 1000)s" : "\(Double(ms) / 1000)s"
    }
}

extension GatewayClient {
    /// Streams a snapshot of the current endpoint's database (POST `/v3/maintenance/snapshot`) to `sink`, in
    /// order and with constant memory, then verifies its trailing SHA-256; nothing but a verified stream
    /// returns normally.
    ///
    /// - stallMilliseconds: give up when no byte arrives for this long (0: never).
    /// - totalMilliseconds: give up when the whole transfer takes longer (0: no limit; etcdctl's
    ///   `--command-timeout` when the user sets it).
    /// - progress: after each message, the bytes received and the size announced by the first message.
    ///
    /// A stale token is renewed and the request sent again only while nothing has reached the sink.
    public func snapshot(stallMilliseconds: Int, totalMilliseconds: Int = 0,
                         progress: (_ received: Int64, _ total: Int64?) -> Void = { _, _ in },
                         sink: SnapshotByteSink) throws(SnapshotError) -> SnapshotSummary {
        var retried = false
        while true {
            var decoder = SnapshotStreamDecoder()
            do {
                return try snapshotOnce(&decoder, stallMilliseconds: stallMilliseconds, totalMilliseconds: totalMilliseconds,
                                        progress: progress, sink: sink)
            } catch {
                guard !retried, decoder.received == 0, credentials != nil, case let .gateway(.server(_, message, _)) = error,
                      GatewayClient.isStaleToken(message) else { throw error }
                retried = true
                do throws(GatewayError) { try authenticate() } catch { throw .gateway(error) }
            }
        }
    }

    private func snapshotOnce(_ decoder: inout SnapshotStreamDecoder, stallMilliseconds: Int, totalMilliseconds: Int,
                              progress: (Int64, Int64?) -> Void, sink: SnapshotByteSink) throws(SnapshotError) -> SnapshotSummary {
        var failure: SnapshotError?
        do {
            _ = try send(path: "/maintenance/snapshot", method: .post, body: Array("{}".utf8), prefixed: true,
                         timeoutMilliseconds: totalMilliseconds, idleMilliseconds: stallMilliseconds) { chunk in
                do throws(SnapshotError) {
                    try decoder.feed(chunk, sink: sink)
                } catch {
                    failure = error
                    return false
                }
                progress(decoder.received, decoder.expected)
                return true
            }
        } catch {
            if let failure { throw failure }
            if case let .transport(t) = error {
                if t.kind == .idle { throw .stalled(endpoint: Endpoint.display(t.url), milliseconds: stallMilliseconds) }
                // A cut connection after some bytes: say how far the stream got.
                if t.kind == .broken || t.kind == .other, let expected = decoder.expected, decoder.received < expected {
                    throw .gateway(error)
                }
            }
            throw .gateway(error)
        }
        return try decoder.finish(sink: sink)
    }
}
