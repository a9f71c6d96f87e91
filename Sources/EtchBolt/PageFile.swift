import Glibc

/// A file read with positioned reads (`pread`): pages are read on demand, so memory does not grow with the file.
final class PageFile {
    let fd: Int32
    let path: String
    let size: Int64

    init(path: String) throws(BoltError) {
        self.path = path
        // The order and wording of etcdctl's failures: os.Stat, then bbolt's open.
        var st = stat()
        if stat(path, &st) != 0 { throw BoltError(.io, "stat \(path): \(Self.errnoText())") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw BoltError(.io, "open \(path): is a directory") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw BoltError(.io, "open \(path): \(Self.errnoText())") }
        if fstat(fd, &st) != 0 {
            let e = Self.errnoText()
            close(fd)
            throw BoltError(.io, "stat \(path): \(e)")
        }
        self.fd = fd
        self.size = Int64(st.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `buffer` (resized), or says the file is too short.
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(BoltError) {
        if offset < 0 || count < 0 || offset + Int64(count) > size {
            throw BoltError(.truncated, "truncated database: \(path) is \(size) bytes, a page at offset \(offset) needs \(offset + Int64(count))")
        }
        if buffer.count != count { buffer = [UInt8](repeating: 0, count: count) }
        var done = 0
        var failure: Int32 = 0
        buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw BoltError(.io, "read \(path): \(Self.errnoText(failure))") }
        if done < count {
            throw BoltError(.truncated, "truncated database: \(path) ended at \(offset + Int64(done)) bytes while reading a page")
        }
    }

    /// The system error as Go words it (etcdctl's messages): strerror with a lower-case first letter.
    static func errnoText(_ code: Int32 = errno) -> String {
        let s = String(cString: strerror(code))
        guard let first = s.first else { return s }
        return first.lowercased() + s.dropFirst()
    }
}

/// Little-endian reads from raw bytes at any alignment.
extension UnsafeRawBufferPointer {
    @inline(__always) func u16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    @inline(__always) func u32(_ at: Int) -> UInt32 { loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian }
    @inline(__always) func u64(_ at: Int) -> UInt64 { loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws `BoltError` (the standard one is untyped `rethrows`).
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(BoltError) -> R) throws(BoltError) -> R {
        try withUnsafeBytes { p in Result { () throws(BoltError) -> R in try body(p) } }.get()
    }
}
