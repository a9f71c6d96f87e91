import Glibc

/// Walks one bucket's B+tree depth-first, yielding its leaf entries in key order. It holds one page buffer per
/// tree level (reused), counts the pages it loads (more than the database has means a cycle), caps the depth,
/// bounds-checks every element and checks that keys strictly increase.
public struct BoltCursor {
    struct Frame {
        var page: [UInt8] = []
        var id: UInt64 = 0
        var isLeaf = false
        var count = 0
        var index = 0
    }

    let db: BoltDB
    let marks: PageMarks?
    var frames: [Frame] = []
    var depth = 0
    var loads: UInt64 = 0
    var previousKey: [UInt8] = []
    var started = false

    init(db: BoltDB, bucket: BoltBucket, marks: PageMarks?) throws(BoltError) {
        self.db = db
        self.marks = marks
        if let inline = bucket.inlinePage {
            frames.append(Frame(page: inline, id: 0))
            depth = 1
            try setUp(0, expecting: Layout.leafPage)
        } else {
            try push(bucket.root)
        }
    }

    /// Loads page `id` as the next level down.
    mutating func push(_ id: UInt64) throws(BoltError) {
        guard depth < Layout.maxDepth else { throw .corrupt(id, "tree deeper than \(Layout.maxDepth) levels") }
        loads += 1
        guard loads <= db.meta.pageCount else {
            throw .corrupt(id, "page references form a cycle (more pages visited than the database has)")
        }
        if depth == frames.count { frames.append(Frame()) }
        try db.readPage(id, into: &frames[depth].page, expecting: Layout.branchPage | Layout.leafPage)
        frames[depth].id = id
        depth += 1
        if let marks {
            let overflow = frames[depth - 1].page.count / db.pageSize - 1
            for i in 0...UInt64(overflow) where !marks.mark(id + i) {
                throw .corrupt(id + i, "multiple references")
            }
        }
        try setUp(depth - 1, expecting: Layout.branchPage | Layout.leafPage)
    }

    /// Reads frame `level`'s header and checks its element table fits the page.
    mutating func setUp(_ level: Int, expecting types: UInt16) throws(BoltError) {
        let id = frames[level].id
        let (flags, count, size) = frames[level].page.withUnsafeBytes { ($0.u16(8), Int($0.u16(10)), $0.count) }
        guard flags & types != 0 else { throw .corrupt(id, "type 0x\(String(flags, radix: 16)) in a bucket's tree") }
        guard Layout.pageHeader + count * Layout.element <= size else {
            throw .corrupt(id, "\(count) elements overrun the page")
        }
        let isLeaf = flags == Layout.leafPage
        if !isLeaf && count == 0 { throw .corrupt(id, "empty branch page") }
        frames[level].isLeaf = isLeaf
        frames[level].count = count
        frames[level].index = 0
    }

    /// Calls `body` with the next entry's key, value (a bucket's header for a nested bucket), whether it is a
    /// nested bucket, and its page id; returns what `body` returns, or nil after the last entry. The buffers are
    /// valid only during the call.
    public mutating func next<R>(
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Bool, UInt64) throws(BoltError) -> R
    ) throws(BoltError) -> R? {
        while depth > 0 {
            let level = depth - 1
            let frame = frames[level]
            if frame.index >= frame.count {
                depth -= 1
                continue
            }
            frames[level].index += 1
            let i = frame.index
            let e = Layout.pageHeader + i * Layout.element
            if !frame.isLeaf {
                let child = frames[level].page.withUnsafeBytes { $0.u64(e + 8) }
                try push(child)
                continue
            }
            return try frames[level].page.withBytes { p throws(BoltError) -> R in
                let flags = p.u32(e)
                let pos = Int(p.u32(e + 4)), ksize = Int(p.u32(e + 8)), vsize = Int(p.u32(e + 12))
                let start = e + pos
                guard start + ksize + vsize <= p.count else {
                    throw .corrupt(frame.id, "element \(i) (\(ksize)+\(vsize) bytes at \(start)) overruns the page")
                }
                let key = UnsafeRawBufferPointer(rebasing: p[start..<(start + ksize)])
                let value = UnsafeRawBufferPointer(rebasing: p[(start + ksize)..<(start + ksize + vsize)])
                if started && !Self.less(previousKey, key) {
                    throw .corrupt(frame.id, "keys out of order at element \(i)")
                }
                started = true
                previousKey.removeAll(keepingCapacity: true)
                previousKey.append(contentsOf: key)
                return try body(key, value, flags & Layout.bucketLeafFlag != 0, frame.id)
            }
        }
        return nil
    }

    /// The next entry, copied: (key, value, isBucket). Simpler than `next(_:)`, one allocation per entry.
    public mutating func next() throws(BoltError) -> BoltEntry? {
        try next { (k, v, isBucket, page) throws(BoltError) -> BoltEntry in
            BoltEntry(key: Array(k), value: Array(v), isBucket: isBucket, page: page)
        }
    }

    static func less(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.withUnsafeBytes { a in
            let n = min(a.count, b.count)
            let c = n == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, n)
            return c < 0 || (c == 0 && a.count < b.count)
        }
    }
}

/// One bucket entry, copied out of its page.
public struct BoltEntry: Sendable, Equatable {
    public let key: [UInt8]
    public let value: [UInt8]
    /// A nested bucket: `value` is its header (and inline page); open it with `bucket`.
    public let isBucket: Bool
    let page: UInt64

    /// The nested bucket this entry names.
    public func bucket() throws(BoltError) -> BoltBucket {
        guard isBucket else { throw BoltError(.usage, "not a bucket") }
        return try value.withBytes { v throws(BoltError) in try BoltBucket(value: v, at: page) }
    }
}
