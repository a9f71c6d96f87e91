import Glibc

/// Offline defragmentation of a stopped member's database, as `etcdctl defrag --data-dir` does with etcd's
/// backend: every bucket copied in order into a fresh, compact file next to it, fsynced, renamed over the
/// original. The original is locked as bbolt locks it (flock, exclusive) for the whole copy, so a running etcd
/// is detected at once, and one starting meanwhile waits for the copy instead of reading a half-written file.
public enum Defragment {
    /// What a defragmentation did, for `--debug` and tests.
    public struct Result: Sendable, Equatable {
        public var sizeBefore: Int64
        public var sizeAfter: Int64
        public var keys: Int
    }

    /// Defragments the bbolt file at `dbPath`. A locked file (etcd running) is `.locked` at once, without
    /// waiting; nothing is changed on any failure.
    public static func file(_ dbPath: String) throws(BoltError) -> Result {
        let lock = open(dbPath, O_RDWR | O_CLOEXEC)
        if lock < 0 { throw BoltError(.io, "open \(dbPath): \(PageFile.errnoText())") }
        defer { close(lock) }
        if flock(lock, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                throw BoltError(.locked, "\(dbPath) is locked by another process (is etcd running on this data directory? To defrag a running etcd instance, omit --data-dir)")
            }
            throw BoltError(.io, "lock \(dbPath): \(PageFile.errnoText())")
        }
        let db = try BoltDB(path: dbPath)
        let slash = dbPath.lastIndex(of: "/")
        let dir = slash.map { String(dbPath[..<$0]) } ?? "."
        let temp = (slash.map { String(dbPath[...$0]) } ?? "") + "db.tmp.etch-\(getpid())"
        var keys = 0
        let size: Int64
        do throws(BoltError) {
            let w = try BoltWriter(path: temp, pageSize: db.pageSize, fillPercent: 0.9)
            for (name, bucket) in try db.buckets() {
                try w.beginBucket(name, sequence: bucket.sequence)
                var c = try db.cursor(bucket)
                while try c.next({ (k, v, isBucket, _) throws(BoltError) -> Bool in
                    if isBucket {
                        throw BoltError(.usage, "bucket \(String(decoding: name, as: UTF8.self)) holds a nested bucket, which etcd databases do not have")
                    }
                    try w.put(k, v)
                    return true
                }) != nil { keys += 1 }
            }
            try w.finish()
            size = w.size
            guard rename(temp, dbPath) == 0 else { throw BoltError(.io, "rename \(temp) \(dbPath): \(PageFile.errnoText())") }
        } catch {
            unlink(temp)
            throw error
        }
        // The rename is durable once the directory is synced.
        let d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if d >= 0 {
            fsync(d)
            close(d)
        }
        return Result(sizeBefore: db.fileSize, sizeAfter: size, keys: keys)
    }
}
