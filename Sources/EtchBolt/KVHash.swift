/// etcd's HashKV (mvcc `store.HashByRev`, the same in 3.4.23 and 3.5.1) computed from a copy of a member's
/// database, for servers whose gateway has no `/v3/maintenance/hashkv`: CRC-32C of the bucket name "key", then
/// of each entry of bucket "key" (revision, KeyValue) up to the revision asked for, skipping the entries at or
/// below the compaction revision that the member's index would not keep.
///
/// The index is not rebuilt: an entry at or below the compaction revision is kept exactly when it is not a
/// tombstone and its key has no later revision up to the one hashed (what `keyIndex.keep` decides), so two
/// passes over the bucket suffice, the first collecting the keys written after the compaction. Memory is those
/// keys (not the database); etcd skips nothing when its index keeps nothing (no key alive at the revision).
public enum KVHash {
    public struct Result: Sendable, Equatable {
        public var hash: UInt32
        /// The member's revision when the copy was taken (the reply header's revision).
        public var currentRevision: Int64
        public var compactRevision: Int64
    }

    /// Why etcd would refuse the revision asked for: mvcc's ErrCompacted and ErrFutureRev.
    public enum Refusal: Error, Equatable, Sendable {
        case compacted(compactRevision: Int64)
        case future(currentRevision: Int64)

        /// The error etcdctl prints for it (the gRPC status message).
        public var message: String {
            switch self {
            case .compacted: return "etcdserver: mvcc: required revision has been compacted"
            case .future: return "etcdserver: mvcc: required revision is a future revision"
            }
        }
    }

    /// HashKV of the database at `path` at `revision` (0: the latest).
    public static func compute(path: String, revision: Int64) throws(BoltError) -> Swift.Result<Result, Refusal> {
        let db = try BoltDB(path: path)
        guard let keyBucket = try db.bucket(Array("key".utf8)) else {
            throw BoltError(.corrupt, "\(path) has no bucket \"key\": not an etcd database")
        }
        // mvcc starts with compactMainRev -1: a member never compacted says compact_revision -1.
        var compactRev: Int64 = -1
        if let meta = try db.bucket(Array("meta".utf8)) {
            var c = try db.cursor(meta)
            while let e = try c.next() {
                if (e.key == Array("scheduledCompactRev".utf8) || e.key == Array("finishedCompactRev".utf8)),
                   e.value.count >= 8 {
                    compactRev = max(compactRev, e.value.withUnsafeBytes { Int64(bitPattern: UInt64(bigEndianBytes: $0)) })
                }
            }
        }
        if revision > 0 && revision <= compactRev { return .failure(.compacted(compactRevision: compactRev)) }
        // Pass 1: the last revision, the keys written after the compaction, and whether any key is alive.
        let bound = revision == 0 ? Int64.max : revision
        var touched = Set<[UInt8]>()
        var alive = 0
        var lastRev: Int64 = 0
        var first = try db.cursor(keyBucket)
        while try first.next({ (k, v, _, page) throws(BoltError) -> Bool in
            let main = try mainRevision(k, page)
            lastRev = main
            guard main <= bound else { return true }
            let tombstone = k.count > 17 && k[17] == UInt8(ascii: "t")
            if main <= compactRev {
                if !tombstone { alive += 1 }
                return true
            }
            let kv = try KeyValueFields(v, page)
            touched.insert(Array(kv.key))
            if tombstone { alive -= 1 } else if kv.version == 1 { alive += 1 }
            return true
        }) != nil {}
        let currentRev = max(lastRev, compactRev)
        if revision > currentRev { return .failure(.future(currentRevision: currentRev)) }
        let rev = revision == 0 ? currentRev : revision

        // Pass 2: the hash.
        var crc = CRC32C()
        crc.update(Array("key".utf8))
        var second = try db.cursor(keyBucket)
        while try second.next({ (k, v, _, page) throws(BoltError) -> Bool in
            let main = try mainRevision(k, page)
            guard main <= rev else { return true }
            if main <= compactRev && alive > 0 {
                let tombstone = k.count > 17 && k[17] == UInt8(ascii: "t")
                if tombstone { return true }
                let kv = try KeyValueFields(v, page)
                if touched.contains(Array(kv.key)) { return true }
            }
            crc.update(k)
            crc.update(v)
            return true
        }) != nil {}
        return .success(Result(hash: crc.value, currentRevision: currentRev, compactRevision: compactRev))
    }

    static func mainRevision(_ k: UnsafeRawBufferPointer, _ page: UInt64) throws(BoltError) -> Int64 {
        guard k.count >= 17 else { throw .corrupt(page, "key bucket entry of \(k.count) bytes, not a revision") }
        return Int64(bitPattern: UInt64(bigEndianBytes: k))
    }
}

/// The fields of an mvccpb.KeyValue that HashKV needs (key = 1, version = 4), read from its protobuf bytes.
struct KeyValueFields {
    var key: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    var version: Int64 = 0

    init(_ b: UnsafeRawBufferPointer, _ page: UInt64) throws(BoltError) {
        var i = 0
        func varint() throws(BoltError) -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < b.count, shift < 64 else { throw .corrupt(page, "a KeyValue with a bad varint") }
                let byte = b[i]
                i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return v }
                shift += 7
            }
        }
        while i < b.count {
            let tag = try varint()
            switch tag & 7 {
            case 0:
                let v = try varint()
                if tag >> 3 == 4 { version = Int64(bitPattern: v) }
            case 2:
                let n = try varint()
                guard n <= UInt64(b.count - i) else { throw .corrupt(page, "a KeyValue field overruns its value") }
                if tag >> 3 == 1 { key = UnsafeRawBufferPointer(rebasing: b[i..<(i + Int(n))]) }
                i += Int(n)
            case 1: i += 8
            case 5: i += 4
            default: throw .corrupt(page, "a KeyValue with wire type \(tag & 7)")
            }
        }
        guard i == b.count else { throw .corrupt(page, "a KeyValue overruns its value") }
    }
}
