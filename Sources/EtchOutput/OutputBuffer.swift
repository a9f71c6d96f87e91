import Glibc

/// Buffered bytes for one output stream (stdout or stderr), written with write(2) on flush.
///
/// Results accumulate here and are flushed at the end of a command, or after each watch response so a
/// pipe sees events live.
public final class OutputBuffer {
    public private(set) var bytes: [UInt8] = []
    private let fd: Int32?
    /// Set when a write failed (for example a closed pipe); later output is dropped.
    public private(set) var failed = false

    /// A buffer that writes to the file descriptor `fd`.
    public init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(64 * 1024)
    }

    /// A buffer that only collects bytes (for tests).
    public init() { fd = nil }

    @inline(__always) public func append(_ byte: UInt8) { bytes.append(byte) }
    @inline(__always) public func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    @inline(__always) public func append(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }

    /// Appends a decimal integer without going through String.
    public func appendInt(_ v: Int64) {
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendUInt(v == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-v))
        } else {
            appendUInt(UInt64(v))
        }
    }

    public func appendUInt(_ v: UInt64) {
        // Digits are written in place, then reversed: no temporary storage.
        let start = bytes.count
        var rest = v
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: rest % 10) + 0x30)
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    /// Lets an encoder (base64, Go quoting) append to the buffer directly.
    public func appendDirectly(_ encode: (inout [UInt8]) -> Void) { encode(&bytes) }

    /// Writes what is buffered; flushes early when the buffer grows large.
    public func flushIfLarge() { if bytes.count >= 256 * 1024 { flush() } }

    /// Writes everything buffered to the file descriptor.
    public func flush() {
        guard let fd, !bytes.isEmpty else { return }
        if failed { bytes.removeAll(keepingCapacity: true); return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                offset += n
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
