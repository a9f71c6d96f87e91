import EtchGateway

/// The v2 store (etcdserver/api/v2store) a restore puts in the raft snapshot, as Go's encoding/json writes
/// `store.Save()`: the cluster's members under /0/members/<id>/raftAttributes, one create event per member in
/// the watcher hub's history (a ring of 1000), the store's statistics. etcd reads its membership from it.
enum V2Store {
    static let historyCapacity = 1000
    static let zeroTime = "\"0001-01-01T00:00:00Z\""

    /// `members` in the order etcd adds them (by ID); the member created k-th has index k.
    static func json(_ members: [Member]) -> [UInt8] {
        var out: [UInt8] = []
        func raw(_ s: String) { out += Array(s.utf8) }
        func string(_ s: [UInt8]) { GoJSON.appendString(s, to: &out, escapeHTML: true) }
        func node(_ path: String, _ index: Int, value: [UInt8] = [], children: (() -> Void)?) {
            raw("{\"Path\":"); string(Array(path.utf8))
            raw(",\"CreatedIndex\":\(index),\"ModifiedIndex\":\(index),\"ExpireTime\":\(zeroTime),\"Value\":")
            string(value)
            raw(",\"Children\":")
            if let children { raw("{"); children(); raw("}") } else { raw("null") }
            raw("}")
        }
        let indexed = members.enumerated().map { (index: $0.offset + 1, member: $0.element) }
        // Go writes a map's keys sorted: the members by their hex IDs as strings.
        let byKey = indexed.sorted { $0.member.hexID.utf8.lexicographicallyPrecedes($1.member.hexID.utf8) }

        raw("{\"Root\":")
        node("/", 0) {
            raw("\"0\":")
            node("/0", 0) {
                guard !members.isEmpty else { return }
                raw("\"members\":")
                node("/0/members", 1) {
                    for (i, e) in byKey.enumerated() {
                        if i > 0 { raw(",") }
                        let dir = "/0/members/" + e.member.hexID
                        string(Array(e.member.hexID.utf8)); raw(":")
                        node(dir, e.index) {
                            raw("\"raftAttributes\":")
                            node(dir + "/raftAttributes", e.index, value: e.member.raftAttributesJSON, children: nil)
                        }
                    }
                }
            }
            raw(",\"1\":")
            node("/1", 0) {}
        }
        // The watcher hub's event history: a ring buffer of 1000 events.
        var ring = [Int?](repeating: nil, count: historyCapacity)
        var front = 0, back = 0, size = 0
        for e in indexed {
            ring[back] = e.index - 1
            back = (back + 1) % historyCapacity
            if size == historyCapacity { front = (front + 1) % historyCapacity } else { size += 1 }
        }
        raw(",\"WatcherHub\":{\"EventHistory\":{\"Queue\":{\"Events\":[")
        for (i, slot) in ring.enumerated() {
            if i > 0 { raw(",") }
            guard let k = slot else { raw("null"); continue }
            let m = indexed[k]
            raw("{\"action\":\"create\",\"node\":{\"key\":")
            string(Array("/0/members/\(m.member.hexID)/raftAttributes".utf8))
            raw(",\"value\":"); string(m.member.raftAttributesJSON)
            raw(",\"modifiedIndex\":\(m.index),\"createdIndex\":\(m.index)}}")
        }
        let start = ring[front].map { $0 + 1 } ?? 0
        raw("],\"Size\":\(size),\"Front\":\(front),\"Back\":\(back),\"Capacity\":\(historyCapacity)},")
        raw("\"StartIndex\":\(start),\"LastIndex\":\(members.count)}},")
        raw("\"CurrentIndex\":\(members.count),\"Stats\":{\"getsSuccess\":0,\"getsFail\":0,\"setsSuccess\":0,")
        raw("\"setsFail\":0,\"deleteSuccess\":0,\"deleteFail\":0,\"updateSuccess\":0,\"updateFail\":0,")
        raw("\"createSuccess\":\(members.count),\"createFail\":0,\"compareAndSwapSuccess\":0,")
        raw("\"compareAndSwapFail\":0,\"compareAndDeleteSuccess\":0,\"compareAndDeleteFail\":0,\"expireCount\":0,")
        raw("\"watchers\":0},\"CurrentVersion\":2}")
        return out
    }
}
