#if canImport(Glibc)
import Glibc
#endif
import EtchGateway

/// A snapshot file as `snapshot save` writes it: the bbolt database, then (when the size is 32 more than a
/// multiple of 512) the SHA-256 of the database's bytes.
struct SnapshotFile {
    let path: String
    let fd: Int32
    let size: Int
    /// The SHA-256 trailer etcdctl reads: the file's last 32 bytes.
    let trailer: [UInt8]

    init(path: String) throws(MemberDataError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw LocalFiles.error("open", path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = LocalFiles.error("stat", path)
            Glibc.close(fd)
            throw e
        }
        size = Int(st.st_size)
        guard size >= SHA256.digestSize, st.st_mode & S_IFMT == S_IFREG else {
            // Go's f.Seek(-32, io.SeekEnd) on a shorter file (or a directory, whose read fails later).
            let e = st.st_mode & S_IFMT == S_IFDIR ? LocalFiles.error("read", path, EISDIR) : LocalFiles.error("seek", path, EINVAL)
            Glibc.close(fd)
            throw e
        }
        var t = [UInt8](repeating: 0, count: SHA256.digestSize)
        let (file, at) = (fd, off_t(size - SHA256.digestSize))
        let n = t.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, at) }
        guard n == SHA256.digestSize else {
            let e = LocalFiles.error("read", path)
            Glibc.close(fd)
            throw e
        }
        trailer = t
    }

    func close() { Glibc.close(fd) }

    /// snapshot.hasChecksum: etcd's database files are whole pages, so 32 bytes over a multiple of 512 is a digest.
    var hasDigest: Bool { size % 512 == SHA256.digestSize }
    var databaseSize: Int { hasDigest ? size - SHA256.digestSize : size }

    /// The SHA-256 of the database (the file without its digest), computed with a constant-size buffer.
    func databaseDigest() throws(MemberDataError) -> [UInt8] {
        var hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        let total = databaseSize
        while offset < total {
            let want = min(buffer.count, total - offset)
            let (file, at) = (fd, off_t(offset))
            let n = buffer.withUnsafeMutableBytes { pread(file, $0.baseAddress, want, at) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw n == 0 ? MemberDataError("read \(path): unexpected EOF") : LocalFiles.error("read", path) }
            buffer.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += n
        }
        return hash.finish()
    }
}

/// etcdctl's log lines: zap's production JSON (`{"level":"info","ts":<seconds>,"caller":...,"msg":...,...}`).
enum ZapLine {
    enum Value { case string(String), strings([String]) }

    static func info(_ caller: String, _ msg: String, _ fields: [(String, Value)]) -> [UInt8] {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let seconds = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        var out = Array("{\"level\":\"info\",\"ts\":\(GoJSON.float(seconds)),\"caller\":".utf8)
        GoJSON.appendString(Array(caller.utf8), to: &out, escapeHTML: false)
        out += Array(",\"msg\":".utf8)
        GoJSON.appendString(Array(msg.utf8), to: &out, escapeHTML: false)
        for (key, value) in fields {
            out.append(UInt8(ascii: ","))
            GoJSON.appendString(Array(key.utf8), to: &out, escapeHTML: false)
            out.append(UInt8(ascii: ":"))
            switch value {
            case let .string(s): GoJSON.appendString(Array(s.utf8), to: &out, escapeHTML: false)
            case let .strings(list):
                out.append(UInt8(ascii: "["))
                for (i, s) in list.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    GoJSON.appendString(Array(s.utf8), to: &out, escapeHTML: false)
                }
                out.append(UInt8(ascii: "]"))
            }
        }
        out += Array("}\n".utf8)
        return out
    }
}
