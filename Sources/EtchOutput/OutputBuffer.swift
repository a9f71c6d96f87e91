import Glibc

/// Buffered bytes for one output stream (stdout or stderr), written with write(2) on flush.
///
/// Results accumulate here and are flushed at the end of a command, or after each watch response so a
/// pipe sees events live. The bytes live in memory the buffer manages itself, so that printers can write
/// straight into it (`write(upTo:)`): a catch-up of 100,000 events is 24 MB of output, appended a few bytes at
/// a time.
public final class OutputBuffer {
    /// Where the bytes are, behind a pointer the buffer owns: stored properties of a class are checked for
    /// exclusive access at run time on every append (a tenth of a watch catch-up's instructions, measured), state
    /// reached through a `let` pointer is not.
    private struct State {
        var storage: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count: Int
    }
    private let state: UnsafeMutablePointer<State>
    private let fd: Int32?
    /// Set when a write failed (for example a closed pipe); later output is dropped.
    public private(set) var failed = false

    /// A buffer that writes to the file descriptor `fd`.
    public init(fd: Int32) {
        self.fd = fd
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: 64 * 1024), capacity: 64 * 1024, count: 0))
    }

    /// A buffer that only collects bytes (for tests).
    public init() {
        fd = nil
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: 256), capacity: 256, count: 0))
    }

    deinit {
        state.pointee.storage.deallocate()
        state.deallocate()
    }

    /// Bytes buffered and not yet written.
    public var count: Int { state.pointee.count }

    /// The bytes buffered (a copy).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: state.pointee.storage, count: state.pointee.count)) }

    /// Makes room for `more` bytes after the buffered ones.
    @inline(never) private func grow(_ more: Int) {
        let s = state
        var c = s.pointee.capacity * 2
        while c < s.pointee.count + more { c *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        bigger.update(from: s.pointee.storage, count: s.pointee.count)
        s.pointee.storage.deallocate()
        s.pointee.storage = bigger
        s.pointee.capacity = c
    }

    /// Lets `body` write at most `limit` bytes in place; it returns how many it wrote.
    @inline(__always) public func write(upTo limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let s = state
        if s.pointee.capacity - s.pointee.count < limit { grow(limit) }
        s.pointee.count += body(s.pointee.storage + s.pointee.count)
    }

    @inline(__always) public func append(_ byte: UInt8) {
        let s = state
        if s.pointee.count == s.pointee.capacity { grow(1) }
        s.pointee.storage[s.pointee.count] = byte
        s.pointee.count += 1
    }

    public func append(_ b: UnsafeBufferPointer<UInt8>) {
        guard let src = b.baseAddress, b.count > 0 else { return }
        let n = b.count
        write(upTo: n) { dst in
            // Short copies (member names, keys: most appends) inline, in overlapping words; memcpy's call costs
            // more than they do.
            let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
            if n >= 8 && n <= 32 {
                @inline(__always) func word(_ at: Int) {
                    to.storeBytes(of: from.loadUnaligned(fromByteOffset: at, as: UInt64.self), toByteOffset: at, as: UInt64.self)
                }
                word(0)
                if n > 16 { word(8); word(n - 16) }
                word(n - 8)
            } else if n < 8 {
                for k in 0..<n { dst[k] = src[k] }
            } else {
                dst.update(from: src, count: n)
            }
            return n
        }
    }

    @inline(__always) public func append(_ b: [UInt8]) { b.withUnsafeBufferPointer { append($0) } }

    public func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    public func append(_ b: some Sequence<UInt8>) {
        if b.withContiguousStorageIfAvailable({ append($0) }) != nil { return }
        for c in b { append(c) }
    }

    /// Appends a decimal integer without going through String.
    public func appendInt(_ v: Int64) {
        if v < 0 {
            append(UInt8(ascii: "-"))
            appendUInt(v == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-v))
        } else {
            appendUInt(UInt64(v))
        }
    }

    public func appendUInt(_ v: UInt64) {
        write(upTo: 20) { p in
            // The digits are counted first, then written from the last.
            var digits = 1
            var rest = v
            while rest >= 10 { rest /= 10; digits += 1 }
            rest = v
            var k = digits
            repeat {
                k -= 1
                p[k] = UInt8(truncatingIfNeeded: rest % 10) + 0x30
                rest /= 10
            } while k > 0
            return digits
        }
    }

    /// Lets an encoder (Go quoting) append to the buffer through an array: for output that is not hot.
    public func appendDirectly(_ encode: (inout [UInt8]) -> Void) {
        var scratch: [UInt8] = []
        encode(&scratch)
        append(scratch)
    }

    /// Writes what is buffered; flushes early when the buffer grows large.
    public func flushIfLarge() { if count >= 256 * 1024 { flush() } }

    /// Writes everything buffered to the file descriptor.
    public func flush() {
        guard let fd, state.pointee.count > 0 else { return }
        defer { state.pointee.count = 0 }
        if failed { return }
        let storage = state.pointee.storage, count = state.pointee.count
        var offset = 0
        while offset < count {
            let n = Glibc.write(fd, storage + offset, count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failed = true
                return
            }
            offset += n
        }
    }
}
