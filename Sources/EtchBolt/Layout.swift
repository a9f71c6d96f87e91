/// The constants of bbolt's file format (go.etcd.io/bbolt page.go, db.go, bucket.go), little-endian throughout.
enum Layout {
    static let magic: UInt32 = 0xED0C_DAED
    static let version: UInt32 = 2
    /// Page header: id u64, flags u16, count u16, overflow u32.
    static let pageHeader = 16
    /// Branch element: pos u32, ksize u32, pgid u64. Leaf element: flags u32, pos u32, ksize u32, vsize u32.
    static let element = 16
    /// A bucket's value: root pgid u64, sequence u64, then (root 0) an inline leaf page.
    static let bucketHeader = 16
    /// Meta: magic, version, pageSize, flags (u32 each), root bucket (16), freelist, pgid, txid, checksum (u64).
    static let metaSize = 64
    static let metaChecksummed = 56

    static let branchPage: UInt16 = 0x01
    static let leafPage: UInt16 = 0x02
    static let metaPage: UInt16 = 0x04
    static let freelistPage: UInt16 = 0x10
    static let bucketLeafFlag: UInt32 = 0x01
    static let noFreelist: UInt64 = .max

    /// How deep a tree may be before the reader calls it corrupt (real trees are a handful of levels).
    static let maxDepth = 64
    /// The largest page (with its overflow pages) the reader will load: a bound on memory for a corrupt header.
    static let maxPageBytes = 256 << 20
}
