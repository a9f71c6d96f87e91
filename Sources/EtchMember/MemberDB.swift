import EtchBolt

/// member/snap/db for a restored member: the snapshot's buckets written afresh (a compact bbolt file, as
/// defrag writes it) with what etcdctl's restore changes: the consistent index (meta/consistent_index, 8 bytes
/// big-endian) set to the number of members, so that etcd applies the new raft log from its first entry; and
/// the membership buckets holding the new cluster's members (etcdctl 3.4 leaves the old cluster's there; etcd
/// 3.5's etcdutl replaces them, and etcd reads membership from the raft snapshot either way).
enum MemberDB {
    static let meta = Array("meta".utf8)
    static let consistentIndex = Array("consistent_index".utf8)
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
                var pending: ([UInt8], [UInt8])? = name == meta ? (consistentIndex, (0..<8).map { UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64($0))) }) : nil
                if let bucket {
                    var c = try db.cursor(bucket)
                    while let e = try c.next() {
                        if e.isBucket {
                            throw BoltError(.corrupt, "bucket \(String(decoding: name, as: UTF8.self)) holds a nested bucket, which etcd's databases do not have")
                        }
                        if let p = pending, !e.key.lexicographicallyPrecedes(p.0) {
                            try writer.put(p.0, p.1)
                            pending = nil
                            if e.key == p.0 { continue }
                        }
                        try writer.put(e.key, e.value)
                    }
                }
                if let p = pending { try writer.put(p.0, p.1) }
            }
            try writer.finish()
        } catch {
            throw MemberDataError(error.message)
        }
    }
}
