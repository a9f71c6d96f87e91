import EtchGateway

/// The protobuf messages of a member's data directory (raft/raftpb, wal/walpb, etcdserver/api/snap/snappb,
/// etcdserverpb.Metadata): proto2 with `nullable=false` fields, written with `EncodedValue.protobuf(proto2:)`.
/// Field numbers as in the .proto files; an optional here is a field gogo leaves out when nil.
protocol Proto2Message: Encodable {}

extension Proto2Message {
    /// The bytes gogo's `Marshal` writes for this message.
    func marshal() -> [UInt8] { EncodedValue.of(self).protobuf(proto2: true) }
}

/// raftpb.Entry; `type` 1 is EntryConfChange.
struct RaftEntry: Proto2Message {
    var term: UInt64
    var index: UInt64
    var type: Int32
    var data: [UInt8]?
    enum CodingKeys: Int, CodingKey { case type = 1, term, index, data }
}

/// raftpb.HardState.
struct HardState: Proto2Message {
    var term: UInt64
    var vote: UInt64
    var commit: UInt64
    enum CodingKeys: Int, CodingKey { case term = 1, vote, commit }
}

/// raftpb.ConfChange; `type` 0 is ConfChangeAddNode.
struct ConfChange: Proto2Message {
    var id: UInt64 = 0
    var type: Int32 = 0
    var nodeID: UInt64
    var context: [UInt8]?
    enum CodingKeys: Int, CodingKey { case id = 1, type, nodeID, context }
}

/// raftpb.ConfState (etcd 3.4's raft: voters, learners, voters_outgoing, learners_next, auto_leave).
struct ConfState: Proto2Message {
    var voters: [UInt64] = []
    var learners: [UInt64] = []
    var votersOutgoing: [UInt64] = []
    var learnersNext: [UInt64] = []
    var autoLeave = false
    enum CodingKeys: Int, CodingKey { case voters = 1, learners, votersOutgoing, learnersNext, autoLeave }
}

/// raftpb.SnapshotMetadata.
struct SnapshotMetadata: Proto2Message {
    var confState: ConfState
    var index: UInt64
    var term: UInt64
    enum CodingKeys: Int, CodingKey { case confState = 1, index, term }
}

/// raftpb.Snapshot.
struct RaftSnapshot: Proto2Message {
    var data: [UInt8]?
    var metadata: SnapshotMetadata
    enum CodingKeys: Int, CodingKey { case data = 1, metadata }
}

/// snappb.Snapshot: a raft snapshot file's content, `crc` the CRC-32C of `data`.
struct SnapFile: Proto2Message {
    var crc: UInt32
    var data: [UInt8]?
    enum CodingKeys: Int, CodingKey { case crc = 1, data }
}

/// walpb.Record: one WAL record; `crc` chains over the data of every record before it.
struct WALRecord: Proto2Message {
    var type: Int64
    var crc: UInt32
    var data: [UInt8]?
    enum CodingKeys: Int, CodingKey { case type = 1, crc, data }
}

/// walpb.Snapshot: the raft index and term a WAL snapshot record marks.
struct WALSnapshot: Proto2Message {
    var index: UInt64
    var term: UInt64
    enum CodingKeys: Int, CodingKey { case index = 1, term }
}

/// etcdserverpb.Metadata: the WAL's metadata record, this member's and its cluster's IDs.
struct MemberMetadata: Proto2Message {
    var nodeID: UInt64
    var clusterID: UInt64
    enum CodingKeys: Int, CodingKey { case nodeID = 1, clusterID }
}
