/// One of a bbolt file's two meta pages, decoded: where the root bucket and the freelist are, and how big the
/// database is.
public struct BoltMeta: Sendable, Equatable {
    public let pageSize: Int
    public let flags: UInt32
    public let root: UInt64
    public let rootSequence: UInt64
    public let freelist: UInt64
    /// The high-water mark: pages 0..<pageCount are the database.
    public let pageCount: UInt64
    public let txid: UInt64
}

/// A bucket: the root page of its B+tree, or (root 0) a small leaf page stored inline in its parent's value.
public struct BoltBucket: Sendable, Equatable {
    public let root: UInt64
    public let sequence: UInt64
    let inlinePage: [UInt8]?

    /// Decodes a bucket value (16-byte header, maybe an inline page).
    init(value: UnsafeRawBufferPointer, at page: UInt64) throws(BoltError) {
        guard value.count >= Layout.bucketHeader else { throw .corrupt(page, "bucket value of \(value.count) bytes") }
        root = value.u64(0)
        sequence = value.u64(8)
        if root == 0 {
            guard value.count >= Layout.bucketHeader + Layout.pageHeader else {
                throw .corrupt(page, "inline bucket of \(value.count) bytes")
            }
            inlinePage = Array(value[Layout.bucketHeader...])
        } else {
            inlinePage = nil
        }
    }

    init(root: UInt64, sequence: UInt64) {
        self.root = root
        self.sequence = sequence
        inlinePage = nil
    }
}

/// A bbolt database file (etcd's `member/snap/db`, or a snapshot), open read-only. Pages are read on demand with
/// positioned reads: memory stays bounded by a few pages per tree level whatever the file's size, and every
/// reference is checked against the file before it is followed, so a truncated, corrupt or hostile file gives a
/// `BoltError`, never a crash, a hang or a large allocation.
public final class BoltDB {
    let file: PageFile
    public let meta: BoltMeta
    public var pageSize: Int { meta.pageSize }
    public var path: String { file.path }
    /// The database's size as bbolt's `tx.Size()` says: high-water mark times page size.
    public var size: Int64 { Int64(meta.pageCount) * Int64(meta.pageSize) }
    /// The file's size on disk (a snapshot's is `size` plus its 32-byte SHA-256 trailer).
    public var fileSize: Int64 { file.size }

    /// Opens `path` and picks its meta page as bbolt does: both checksummed metas are read and the valid one with
    /// the higher transaction id wins.
    public init(path: String) throws(BoltError) {
        file = try PageFile(path: path)
        meta = try Self.readMeta(file)
    }

    static func readMeta(_ file: PageFile) throws(BoltError) -> BoltMeta {
        guard file.size >= 4096 else {
            throw BoltError(.invalid, "invalid database")
        }
        var buf: [UInt8] = []
        try file.read(into: &buf, count: 4096, at: 0)
        let first = buf.withUnsafeBytes { decodeMeta($0) }
        // bbolt reads meta 1 at meta 0's page size, or at the OS page size when meta 0 is unusable.
        var second: Result<BoltMeta, BoltError> = .failure(BoltError(.invalid, "invalid database"))
        let pageSize1 = (try? first.get())?.pageSize ?? 4096
        if file.size >= Int64(2 * pageSize1) {
            try file.read(into: &buf, count: Layout.pageHeader + Layout.metaSize, at: Int64(pageSize1))
            second = buf.withUnsafeBytes { decodeMeta($0) }
        }
        let chosen: BoltMeta
        switch (first, second) {
        case let (.success(a), .success(b)): chosen = b.txid > a.txid ? b : a
        case let (.success(a), .failure): chosen = a
        case let (.failure, .success(b)): chosen = b
        case let (.failure(e), .failure): throw e
        }
        let needed = Int64(chosen.pageCount) * Int64(chosen.pageSize)
        if needed > file.size {
            throw BoltError(.truncated, "truncated database: \(file.path) is \(file.size) bytes, its meta page (txid \(chosen.txid)) says \(needed)")
        }
        return chosen
    }

    /// A meta page's fields, if its magic, version, checksum and numbers make sense.
    static func decodeMeta(_ page: UnsafeRawBufferPointer) -> Result<BoltMeta, BoltError> {
        let m = UnsafeRawBufferPointer(rebasing: page[Layout.pageHeader..<(Layout.pageHeader + Layout.metaSize)])
        guard m.u32(0) == Layout.magic else { return .failure(BoltError(.invalid, "invalid database")) }
        guard m.u32(4) == Layout.version else { return .failure(BoltError(.invalid, "version mismatch")) }
        let checksum = m.u64(56)
        if checksum != 0 && checksum != FNV64a.hash(UnsafeRawBufferPointer(rebasing: m[0..<Layout.metaChecksummed])) {
            return .failure(BoltError(.invalid, "checksum error"))
        }
        let pageSize = Int(m.u32(8))
        let meta = BoltMeta(pageSize: pageSize, flags: m.u32(12), root: m.u64(16), rootSequence: m.u64(24),
                            freelist: m.u64(32), pageCount: m.u64(40), txid: m.u64(48))
        guard pageSize >= 512, pageSize <= 1 << 16, pageSize & (pageSize - 1) == 0 else {
            return .failure(BoltError(.invalid, "invalid database: page size \(pageSize)"))
        }
        guard meta.pageCount >= 3, meta.pageCount < UInt64(Int64.max / Int64(pageSize)), meta.root >= 2,
              meta.root < meta.pageCount,
              meta.freelist == Layout.noFreelist || (meta.freelist >= 2 && meta.freelist < meta.pageCount)
        else {
            return .failure(BoltError(.invalid, "invalid database: meta page (txid \(meta.txid)) refers outside the file's \(meta.pageCount) pages"))
        }
        return .success(meta)
    }

    /// The root bucket, whose keys are the top-level buckets' names.
    public var root: BoltBucket { BoltBucket(root: meta.root, sequence: meta.rootSequence) }

    /// A cursor over `bucket`'s entries in key order.
    public func cursor(_ bucket: BoltBucket, marks: PageMarks? = nil) throws(BoltError) -> BoltCursor {
        try BoltCursor(db: self, bucket: bucket, marks: marks)
    }

    /// The bucket stored under `name` in `parent` (the root bucket by default), or nil.
    public func bucket(_ name: [UInt8], in parent: BoltBucket? = nil) throws(BoltError) -> BoltBucket? {
        var c = try cursor(parent ?? root)
        while let found: BoltBucket? = try c.next({ (k, v, isBucket, page) throws(BoltError) -> BoltBucket? in
            guard k.elementsEqual(name) else { return nil }
            guard isBucket else { throw BoltError(.corrupt, "\(String(decoding: name, as: UTF8.self)) is not a bucket") }
            return try BoltBucket(value: v, at: page)
        }) {
            if let b = found { return b }
        }
        return nil
    }

    /// The names and buckets of the root bucket, in order (a database has a handful).
    public func buckets() throws(BoltError) -> [(name: [UInt8], bucket: BoltBucket)] {
        var out: [(name: [UInt8], bucket: BoltBucket)] = []
        var c = try cursor(root)
        while let entry = try c.next({ (k, v, isBucket, page) throws(BoltError) -> ([UInt8], BoltBucket) in
            guard isBucket else { throw BoltError(.corrupt, "root entry \(String(decoding: k, as: UTF8.self)) is not a bucket") }
            return (Array(k), try BoltBucket(value: v, at: page))
        }) {
            out.append((name: entry.0, bucket: entry.1))
        }
        return out
    }

    /// Reads page `id` (with its overflow pages) into `buffer`, checking it lies inside the database and has
    /// the id and one of the types expected.
    func readPage(_ id: UInt64, into buffer: inout [UInt8], expecting types: UInt16) throws(BoltError) {
        guard id >= 2, id < meta.pageCount else {
            throw BoltError(.corrupt, "corrupt database: a reference to page \(id), outside pages 2..<\(meta.pageCount)")
        }
        let offset = Int64(id) * Int64(pageSize)
        try file.read(into: &buffer, count: pageSize, at: offset)
        let (pid, flags, overflow) = buffer.withUnsafeBytes { ($0.u64(0), $0.u16(8), $0.u32(12)) }
        guard pid == id else { throw .corrupt(id, "header says page \(pid)") }
        guard flags & types != 0, flags.nonzeroBitCount == 1 else {
            throw .corrupt(id, "type 0x\(String(flags, radix: 16)), expected 0x\(String(types, radix: 16))")
        }
        if overflow > 0 {
            guard id + UInt64(overflow) < meta.pageCount else {
                throw .corrupt(id, "\(overflow) overflow pages run past the database's \(meta.pageCount) pages")
            }
            let total = (Int(overflow) + 1) * pageSize
            guard total <= Layout.maxPageBytes else { throw .corrupt(id, "\(overflow) overflow pages (\(total) bytes)") }
            try file.read(into: &buffer, count: total, at: offset)
        }
    }

    /// The page ids in the freelist (free and pending), read from its page.
    public func freePages() throws(BoltError) -> [UInt64] {
        guard meta.freelist != Layout.noFreelist else { return [] }
        var buf: [UInt8] = []
        try readPage(meta.freelist, into: &buf, expecting: Layout.freelistPage)
        let id = meta.freelist
        return try buf.withBytes { p throws(BoltError) -> [UInt64] in
            var count = Int(p.u16(10))
            var start = Layout.pageHeader
            if count == 0xFFFF {
                guard p.count >= start + 8 else { throw .corrupt(id, "freelist too short") }
                let big = p.u64(start)
                guard big <= UInt64(p.count / 8) else { throw .corrupt(id, "freelist claims \(big) ids") }
                count = Int(big)
                start += 8
            }
            guard start + count * 8 <= p.count else { throw .corrupt(id, "freelist of \(count) ids overruns its page") }
            return (0..<count).map { p.u64(start + $0 * 8) }
        }
    }
}

/// One bit per page: which pages a walk has reached (bbolt's `tx.Check` bookkeeping), a page being reached twice
/// is corruption. 32 KiB per GiB of database.
public final class PageMarks {
    var bits: [UInt64]
    let count: UInt64

    public init(pageCount: UInt64) {
        count = pageCount
        bits = [UInt64](repeating: 0, count: Int((pageCount + 63) / 64))
    }

    /// Marks `id`; false if it was marked already.
    func mark(_ id: UInt64) -> Bool {
        guard id < count else { return false }
        let (w, b) = (Int(id / 64), id % 64)
        if bits[w] & (1 << b) != 0 { return false }
        bits[w] |= 1 << b
        return true
    }

    func isMarked(_ id: UInt64) -> Bool { id < count && bits[Int(id / 64)] & (1 << (id % 64)) != 0 }
}
