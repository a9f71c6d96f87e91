import Glibc

/// Writes a fresh, compact bbolt file from top-level buckets of sorted key/values, streamed: pages are written
/// as they fill, in page-id order, so memory is one page per tree level (plus the largest entry), not the
/// database. The result is what bbolt's compaction writes: leaf and branch pages filled to `fillPercent` of a
/// page (etcd's defrag uses 0.9), small buckets inline in their parent, an empty freelist, and two valid meta
/// pages. Real bbolt (etcd 3.4 and 3.5) opens, reads and writes it.
///
/// Use: `beginBucket` for each bucket, names in increasing byte order, then `put` its keys in increasing byte
/// order, then `finish()` (which fsyncs). The file is created (mode 0600, truncated); renaming it into place is
/// the caller's job.
public final class BoltWriter {
    public let path: String
    public let pageSize: Int
    let threshold: Int
    let fd: Int32
    /// Pages written so far (the next page's id); pages 0 and 1 are the metas, written last.
    var nextPage: UInt64 = 2
    /// Written pages not yet handed to the kernel, appended in page order.
    var pending: [UInt8] = []
    var bucket: TreeBuilder?
    var bucketName: [UInt8] = []
    var bucketSequence: UInt64 = 0
    /// The top-level buckets' names and values (headers, or inline pages): a database has a handful.
    var roots: [(name: [UInt8], value: [UInt8])] = []
    var finished = false

    public init(path: String, pageSize: Int = 4096, fillPercent: Double = 0.9) throws(BoltError) {
        guard pageSize >= 1024, pageSize <= 1 << 16, pageSize & (pageSize - 1) == 0 else {
            throw BoltError(.usage, "page size \(pageSize) is not a power of two between 1024 and 65536")
        }
        self.path = path
        self.pageSize = pageSize
        threshold = Int(Double(pageSize) * min(1.0, max(0.1, fillPercent)))
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw BoltError(.io, "open \(path): \(PageFile.errnoText())") }
        pending = [UInt8](repeating: 0, count: 2 * pageSize)
        pending.removeAll(keepingCapacity: true)
        pending.reserveCapacity(1 << 20)
        try writeAt(0, [UInt8](repeating: 0, count: 2 * pageSize))
    }

    deinit { close(fd) }

    /// Starts the next top-level bucket (ending the one before). `sequence` is the bucket's NextSequence state.
    public func beginBucket(_ name: [UInt8], sequence: UInt64 = 0) throws(BoltError) {
        try endBucket()
        guard !name.isEmpty else { throw BoltError(.usage, "a bucket name is empty") }
        if let last = roots.last, !name.withUnsafeBytes({ BoltCursor.less(last.name, $0) }) {
            throw BoltError(.usage, "bucket \(String(decoding: name, as: UTF8.self)) is not after \(String(decoding: last.name, as: UTF8.self))")
        }
        bucketName = name
        bucketSequence = sequence
        bucket = TreeBuilder(writer: self)
    }

    /// Adds a key and its value to the current bucket; keys must strictly increase.
    public func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(BoltError) {
        guard let b = bucket else { throw BoltError(.usage, "put before beginBucket") }
        guard !key.isEmpty else { throw BoltError(.usage, "an empty key in bucket \(String(decoding: bucketName, as: UTF8.self))") }
        try b.add(key, value, flags: 0)
    }

    public func put(_ key: [UInt8], _ value: [UInt8]) throws(BoltError) {
        try key.withBytes { (k) throws(BoltError) in try value.withBytes { (v) throws(BoltError) in try put(k, v) } }
    }

    func endBucket() throws(BoltError) {
        guard let b = bucket else { return }
        bucket = nil
        var header = [UInt8](repeating: 0, count: Layout.bucketHeader)
        if let inline = try b.finish(inlineLimit: pageSize / 4) {
            put64(&header, 8, bucketSequence)
            roots.append((bucketName, header + inline))
        } else {
            put64(&header, 0, b.root)
            put64(&header, 8, bucketSequence)
            roots.append((bucketName, header))
        }
    }

    /// Writes the root bucket, the freelist and both meta pages, and fsyncs. The file is then a complete
    /// database of `size` bytes.
    public func finish() throws(BoltError) {
        guard !finished else { return }
        try endBucket()
        let root = TreeBuilder(writer: self)
        for r in roots {
            try r.name.withBytes { (k) throws(BoltError) in
                try r.value.withBytes { (v) throws(BoltError) in try root.add(k, v, flags: Layout.bucketLeafFlag) }
            }
        }
        _ = try root.finish(inlineLimit: nil)
        // An empty freelist page.
        let freelist = allocate(1)
        var page = [UInt8](repeating: 0, count: pageSize)
        put64(&page, 0, freelist)
        put16(&page, 8, Layout.freelistPage)
        try append(page)
        try flush()
        let pageCount = nextPage
        for (id, txid) in [(UInt64(0), UInt64(0)), (1, 1)] {
            var m = [UInt8](repeating: 0, count: pageSize)
            put64(&m, 0, id)
            put16(&m, 8, Layout.metaPage)
            let o = Layout.pageHeader
            put32(&m, o, Layout.magic)
            put32(&m, o + 4, Layout.version)
            put32(&m, o + 8, UInt32(pageSize))
            put64(&m, o + 16, root.root)
            put64(&m, o + 32, freelist)
            put64(&m, o + 40, pageCount)
            put64(&m, o + 48, txid)
            let sum = m.withUnsafeBytes { FNV64a.hash(UnsafeRawBufferPointer(rebasing: $0[o..<(o + Layout.metaChecksummed)])) }
            put64(&m, o + Layout.metaChecksummed, sum)
            try writeAt(Int64(id) * Int64(pageSize), m)
        }
        if ftruncate(fd, off_t(Int64(pageCount) * Int64(pageSize))) != 0 || fsync(fd) != 0 {
            throw BoltError(.io, "sync \(path): \(PageFile.errnoText())")
        }
        finished = true
        size = Int64(pageCount) * Int64(pageSize)
    }

    /// The database's size once finished.
    public private(set) var size: Int64 = 0

    /// Reserves `count` consecutive pages.
    func allocate(_ count: Int) -> UInt64 {
        let id = nextPage
        nextPage += UInt64(count)
        return id
    }

    /// Appends a page (whole pages) at the end of what is written.
    func append(_ page: [UInt8]) throws(BoltError) {
        pending.append(contentsOf: page)
        if pending.count >= 1 << 20 { try flush() }
    }

    func flush() throws(BoltError) {
        guard !pending.isEmpty else { return }
        let start = Int64(nextPage) * Int64(pageSize) - Int64(pending.count)
        try writeAt(start, pending)
        pending.removeAll(keepingCapacity: true)
    }

    func writeAt(_ offset: Int64, _ bytes: [UInt8]) throws(BoltError) {
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 { throw BoltError(.io, "write \(path): \(PageFile.errnoText(failure))") }
    }
}

/// One B+tree being built bottom-up from sorted entries: a leaf level and as many branch levels as it needs,
/// each holding one unfinished page. A full page is written at once and its first key and id go up a level.
final class TreeBuilder {
    /// One unfinished page: its elements' (flags, key size, value size or child id) and their bytes.
    struct Level {
        var isLeaf: Bool
        var elements: [(flags: UInt32, ksize: Int, vsize: Int, child: UInt64)] = []
        var data: [UInt8] = []
        var pagesWritten = 0
        var size: Int { Layout.pageHeader + elements.count * Layout.element + data.count }
    }

    unowned let writer: BoltWriter
    var levels: [Level]
    var lastKey: [UInt8] = []
    var root: UInt64 = 0

    init(writer: BoltWriter) {
        self.writer = writer
        levels = [Level(isLeaf: true)]
    }

    func add(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, flags: UInt32) throws(BoltError) {
        if !(levels[0].elements.isEmpty && levels[0].pagesWritten == 0) && !BoltCursor.less(lastKey, key) {
            throw BoltError(.usage, "keys out of order: \(Array(key)) after \(lastKey)")
        }
        guard key.count <= 32768, value.count <= 0x7FFF_FFFE else {
            throw BoltError(.usage, "key of \(key.count) bytes or value of \(value.count) bytes too large for bbolt")
        }
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: key)
        try addAt(0, key, value, flags: flags, child: 0)
    }

    /// bbolt's split rule: a page takes elements while it stays within the fill threshold, and at least two.
    func addAt(_ level: Int, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, flags: UInt32,
               child: UInt64) throws(BoltError) {
        let elsize = Layout.element + key.count + value.count
        if levels[level].elements.count >= 2 && levels[level].size + elsize > writer.threshold {
            try writeLevel(level)
        }
        levels[level].elements.append((flags, key.count, value.count, child))
        levels[level].data.append(contentsOf: key)
        levels[level].data.append(contentsOf: value)
    }

    /// The page of `level` as bbolt lays it out: header, element table, then keys and values in order.
    func render(_ level: Int, id: UInt64, pages: Int) -> [UInt8] {
        let l = levels[level]
        var page = [UInt8](repeating: 0, count: pages == 0 ? l.size : pages * writer.pageSize)
        put64(&page, 0, id)
        put16(&page, 8, l.isLeaf ? Layout.leafPage : Layout.branchPage)
        put16(&page, 10, UInt16(l.elements.count))
        put32(&page, 12, UInt32(max(0, pages - 1)))
        var dataAt = Layout.pageHeader + l.elements.count * Layout.element
        let base = dataAt
        for (i, e) in l.elements.enumerated() {
            let at = Layout.pageHeader + i * Layout.element
            if l.isLeaf {
                put32(&page, at, e.flags)
                put32(&page, at + 4, UInt32(dataAt - at))
                put32(&page, at + 8, UInt32(e.ksize))
                put32(&page, at + 12, UInt32(e.vsize))
                dataAt += e.ksize + e.vsize
            } else {
                put32(&page, at, UInt32(dataAt - at))
                put32(&page, at + 4, UInt32(e.ksize))
                put64(&page, at + 8, e.child)
                dataAt += e.ksize
            }
        }
        page.withUnsafeMutableBytes { p in
            l.data.withUnsafeBytes { d in
                if !d.isEmpty { (p.baseAddress! + base).copyMemory(from: d.baseAddress!, byteCount: d.count) }
            }
        }
        return page
    }

    /// Writes `level`'s page and passes its first key and id up a level.
    func writeLevel(_ level: Int) throws(BoltError) {
        let pages = (levels[level].size + writer.pageSize - 1) / writer.pageSize
        guard pages <= 0xFFFF_FFFF / 2 else { throw BoltError(.usage, "a page of \(pages) pages") }
        let id = writer.allocate(pages)
        try writer.append(render(level, id: id, pages: max(1, pages)))
        let firstKeySize = levels[level].elements.first?.ksize ?? 0
        let firstKey = Array(levels[level].data.prefix(firstKeySize))
        levels[level].elements.removeAll(keepingCapacity: true)
        levels[level].data.removeAll(keepingCapacity: true)
        levels[level].pagesWritten += 1
        if level + 1 == levels.count { levels.append(Level(isLeaf: false)) }
        try firstKey.withBytes { (k) throws(BoltError) in
            try addAt(level + 1, k, UnsafeRawBufferPointer(start: nil, count: 0), flags: 0, child: id)
        }
    }

    /// Writes what is left, from the leaves up, and sets `root`. With `inlineLimit`, a bucket whose entries fit
    /// one leaf of at most that many bytes is not written: its inline page is returned instead.
    func finish(inlineLimit: Int?) throws(BoltError) -> [UInt8]? {
        if let limit = inlineLimit, levels.count == 1, levels[0].pagesWritten == 0, levels[0].size <= limit {
            return render(0, id: 0, pages: 0)
        }
        var level = 0
        while true {
            if level > 0 && levels[level].pagesWritten == 0 && levels[level].elements.count == 1 {
                root = levels[level].elements[0].child
                return nil
            }
            if level + 1 == levels.count && levels[level].pagesWritten == 0 && level == 0 {
                // A single leaf is the root.
                let pages = (levels[0].size + writer.pageSize - 1) / writer.pageSize
                root = writer.allocate(pages)
                try writer.append(render(0, id: root, pages: pages))
                return nil
            }
            try writeLevel(level)
            level += 1
        }
    }
}

@inline(__always) func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
    b[at] = UInt8(truncatingIfNeeded: v)
    b[at + 1] = UInt8(truncatingIfNeeded: v >> 8)
}

@inline(__always) func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

@inline(__always) func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}
