import Glibc

/// Splits a byte stream into newline-delimited messages: chunk boundaries may fall anywhere, blank lines are
/// skipped, and a last line without a newline is delivered by `finish`. JSON escapes newlines inside
/// strings, so a raw newline always ends a message.
public struct LineFramer {
    private var pending: [UInt8] = []

    public init() {}

    /// Feeds one chunk, calling `onLine` for each complete non-blank line.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ onLine: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        let n = chunk.count
        guard let base = chunk.baseAddress else { return }
        while start < n, let p = memchr(base + start, 0x0A, n - start) {
            let i = base.distance(to: UnsafeRawPointer(p))
            if pending.isEmpty {
                let line = UnsafeRawBufferPointer(rebasing: chunk[start..<i])
                if !isBlank(line) { onLine(line) }
            } else {
                pending.append(contentsOf: chunk[start..<i])
                let line = pending
                pending.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { b in if !isBlank(b) { onLine(b) } }
            }
            start = i + 1
        }
        if start < n { pending.append(contentsOf: chunk[start..<n]) }
    }

    /// Delivers what is left after the stream ended, if it is not blank.
    public mutating func finish(_ onLine: (UnsafeRawBufferPointer) -> Void) {
        let line = pending
        pending.removeAll()
        line.withUnsafeBytes { b in if !isBlank(b) { onLine(b) } }
    }

    /// Takes the partial line received so far (after a broken stream), leaving the framer empty.
    public mutating func takePending() -> [UInt8] {
        defer { pending.removeAll() }
        return pending
    }

    /// Bytes received but not yet delivered as a line.
    public var pendingCount: Int { pending.count }

    private func isBlank(_ b: UnsafeRawBufferPointer) -> Bool {
        for c in b where c != 0x20 && c != 0x09 && c != 0x0D { return false }
        return true
    }
}
