#if canImport(Glibc)
import Glibc
#endif

/// The few file-system calls a restore makes, with Go's error wording (`open <path>: no such file or
/// directory`): the directories etcd makes (0700), files created new, written, fsynced and closed.
enum LocalFiles {
    /// Go's *PathError text: `<op> <path>: <strerror, first letter in lower case>`.
    static func error(_ op: String, _ path: String, _ code: Int32 = errno) -> MemberDataError {
        var text = String(cString: strerror(code))
        if let first = text.first { text = first.lowercased() + text.dropFirst() }
        return MemberDataError("\(op) \(path): \(text)")
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// fileutil.CreateDirAll: the directory and its parents, mode 0700.
    static func makeDirectories(_ path: String) throws(MemberDataError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw error("mkdir", prefix) }
            prefix += "/"
        }
    }

    /// Creates `path` (it must not exist) with `mode` and writes `chunks`; `reserve` bytes are allocated (the
    /// file's size) when given; fsynced and closed.
    static func create(_ path: String, mode: mode_t, reserve: Int = 0, write: (Int32) throws(MemberDataError) -> Void) throws(MemberDataError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 { throw error("open", path) }
        defer { close(fd) }
        if reserve > 0 {
            // fileutil.Preallocate: the blocks allocated, the size extended; ftruncate where the file system
            // cannot allocate.
            let rc = posix_fallocate(fd, 0, off_t(reserve))
            if rc != 0 && ftruncate(fd, off_t(reserve)) != 0 { throw error("fallocate", path) }
        }
        try write(fd)
        if fsync(fd) != 0 { throw error("sync", path) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(MemberDataError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += n
        }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Removes a tree this restore made (after a failure).
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                removeTree(path + "/" + name)
            }
            closedir(dir)
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
