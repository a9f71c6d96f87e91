import EtchBolt

/// member/snap/db for a restored member: the snapshot's buckets written afresh (a compact bbolt file, as
/// defrag writes it) with what etcdctl's restore changes: the consistent index (meta/consistent_index, 8 bytes
/// big-endian) set to the number of members, so that etcd applies the new raft log from its first entry; and
/// the membership buckets holding the new cluster's members (etcdctl 3.4 leaves the old cluster's there; etcd
/// 3.5's etcdutl replaces them, and etcd reads membership from the raft snapshot either way); and, as etcdutl
/// 3.5 does, meta/term set to the new log's term, 1. etcdctl 3.4 leaves the term a 3.5 server wrote: etcd 3.5
/// then stops saving its consistent index while the new cluster's term is below the old one (it only lets the
/// pair grow), and replays entries it already applied after a restart.
enum MemberDB {
    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }

    static let meta = Array("meta".utf8)
    static let consistentIndex = Array("consistent_index".utf8)
    static let term = Array("term".utf8)
    static let members = Array("members".utf8)
    static let membersRemoved = Array("members_removed".utf8)
    /// The buckets etcd's mvcc store and lessor create when they open a backend.
    static let required = [Array("key".utf8), meta, Array("lease".utf8), members, membersRemoved]

    static func write(from source: String, to dest: String, members newMembers: [Member], consistentIndex index: UInt64) throws(MemberDataError) {
        do throws(BoltError) {
            let db = try BoltDB(path: source)
            var buckets: [(name: [UInt8], bucket: BoltBucket?)] = try db.buckets().map { ($0.name, $0.bucket) }
            for name in required where !buckets.contains(where: { $0.name == name }) { buckets.append((name, nil)) }
            buckets.sort { $0.name.lexicographicallyPrecedes($1.name) }
            let writer = try BoltWriter(path: dest, pageSize: db.pageSize)
            for (name, bucket) in buckets {
                try writer.beginBucket(name, sequence: bucket?.sequence ?? 0)
                if name == members {
                    let byKey = newMembers.map { (Array($0.hexID.utf8), $0.json) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
                    for (k, v) in byKey { try writer.put(k, v) }
                    continue
                }
                if name == membersRemoved { continue }
                // Entries to set in this bucket, in key order: they replace the ones of the same key.
                var pending: [([UInt8], [UInt8])] = name == meta ? [(consistentIndex, bigEndian(index)), (term, bigEndian(1))] : []
                if let bucket {
                    var c = try db.cursor(bucket)
                    while let e = try c.next() {
                        if e.isBucket {
                            throw BoltError(.corrupt, "bucket \(String(decoding: name, as: UTF8.self)) holds a nested bucket, which etcd's databases do not have")
                        }
                        var replaced = false
                        while let p = pending.first, !e.key.lexicographicallyPrecedes(p.0) {
                            try writer.put(p.0, p.1)
                            pending.removeFirst()
                            replaced = replaced || e.key == p.0
                        }
                        if !replaced { try writer.put(e.key, e.value) }
                    }
                }
                for p in pending { try writer.put(p.0, p.1) }
            }
            try writer.finish()
        } catch {
            // etcd's own wording when its backend cannot open the file: `cannot open database at <path> (<why>)`.
            throw MemberDataError("cannot open database at \(source) (\(error.message))")
        }
    }
}
