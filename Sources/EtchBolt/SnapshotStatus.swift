/// What `snapshot status` says about an etcd database file: etcd 3.4.23's clientv3/snapshot `Status`.
public struct SnapshotStatus: Sendable, Equatable {
    /// CRC-32C over each top-level bucket's name, then its keys and values, in order.
    public var hash: UInt32 = 0
    /// The main revision of the last key in bucket "key".
    public var revision: Int64 = 0
    /// Entries in all top-level buckets.
    public var totalKey: Int = 0
    /// The database's size (high-water mark times page size).
    public var totalSize: Int64 = 0

    public init(hash: UInt32 = 0, revision: Int64 = 0, totalKey: Int = 0, totalSize: Int64 = 0) {
        self.hash = hash
        self.revision = revision
        self.totalKey = totalKey
        self.totalSize = totalSize
    }

    /// Reads the database at `path` once: hashes it as etcd does while checking its integrity as bbolt's
    /// `tx.Check` does (every page below the high-water mark reached once or free, none both).
    public static func of(path: String) throws(BoltError) -> SnapshotStatus {
        let db = try BoltDB(path: path)
        var status = SnapshotStatus(totalSize: db.size)
        var crc = CRC32C()
        let check = IntegrityCheck(db)
        try check.start()
        var roots = try db.cursor(db.root, marks: check.marks)
        var nested: [BoltBucket] = []
        while let (name, bucket) = try roots.next({ (k, v, isBucket, page) throws(BoltError) -> ([UInt8], BoltBucket) in
            guard isBucket else { throw BoltError(.corrupt, "cannot get hash of bucket \(String(decoding: k, as: UTF8.self))") }
            return (Array(k), try BoltBucket(value: v, at: page))
        }) {
            crc.update(name)
            let isKeyBucket = name == Array("key".utf8)
            var entries = try db.cursor(bucket, marks: check.marks)
            while let sub = try entries.next({ (k, v, isBucket, page) throws(BoltError) -> BoltBucket? in
                crc.update(k)
                if isKeyBucket {
                    guard k.count >= 8 else { throw .corrupt(page, "key bucket entry of \(k.count) bytes, not a revision") }
                    status.revision = Int64(bitPattern: UInt64(bigEndianBytes: k))
                }
                status.totalKey += 1
                // A nested bucket's value is nil to bbolt's ForEach: hashed as nothing, its pages checked later.
                if isBucket { return try BoltBucket(value: v, at: page) }
                crc.update(v)
                return nil
            }) {
                if let b = sub { nested.append(b) }
            }
        }
        while let b = nested.popLast() {
            var c = try db.cursor(b, marks: check.marks)
            while let sub = try c.next({ (_, v, isBucket, page) throws(BoltError) -> BoltBucket? in
                isBucket ? try BoltBucket(value: v, at: page) : nil
            }) {
                if let s = sub { nested.append(s) }
            }
        }
        try check.finish()
        status.hash = crc.value
        return status
    }
}

/// bbolt's `tx.Check` as bookkeeping around the walks that read a database: meta and freelist pages are
/// reachable, tree pages are marked as cursors load them, and at the end every page is reachable or free.
final class IntegrityCheck {
    let db: BoltDB
    let marks: PageMarks
    let freed: PageMarks

    init(_ db: BoltDB) {
        self.db = db
        marks = PageMarks(pageCount: db.meta.pageCount)
        freed = PageMarks(pageCount: db.meta.pageCount)
    }

    func fail(_ what: String) -> BoltError {
        BoltError(.corrupt, "snapshot file integrity check failed: \(what)")
    }

    func start() throws(BoltError) {
        for id in try db.freePages() {
            guard id >= 2, id < db.meta.pageCount else { throw fail("freelist holds page \(id), outside the database") }
            guard freed.mark(id) else { throw fail("page \(id): already freed") }
        }
        _ = marks.mark(0)
        _ = marks.mark(1)
        if db.meta.freelist != Layout.noFreelist {
            var buf: [UInt8] = []
            try db.readPage(db.meta.freelist, into: &buf, expecting: Layout.freelistPage)
            for i in 0..<UInt64(buf.count / db.pageSize) where !marks.mark(db.meta.freelist + i) {
                throw fail("page \(db.meta.freelist + i): multiple references")
            }
        }
    }

    func finish() throws(BoltError) {
        for id in 0..<db.meta.pageCount {
            let reached = marks.isMarked(id), free = freed.isMarked(id)
            if reached && free { throw fail("page \(id): reachable freed") }
            if !reached && !free && db.meta.freelist != Layout.noFreelist { throw fail("page \(id): unreachable unfreed") }
        }
    }
}

extension UInt64 {
    /// The first 8 bytes of `bytes`, big-endian.
    init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[i]) }
        self = v
    }
}
