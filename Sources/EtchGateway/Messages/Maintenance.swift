/// etcd's maintenance service (`/v3/maintenance/*`): the messages of rpc.proto, field numbers as there.

public struct AlarmType: ProtoEnum {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let names: [Int32: String] = [0: "NONE", 1: "NOSPACE", 2: "CORRUPT"]
    public static let none = AlarmType(rawValue: 0)
}

public struct AlarmAction: ProtoEnum {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let names: [Int32: String] = [0: "GET", 1: "ACTIVATE", 2: "DEACTIVATE"]
    public static let get = AlarmAction(rawValue: 0)
    public static let deactivate = AlarmAction(rawValue: 2)
}

public struct AlarmMember: Codable, Sendable, Equatable {
    public var memberID: UInt64 = 0
    public var alarm = AlarmType.none
    enum CodingKeys: Int, CodingKey { case memberID = 1, alarm }
    public init(memberID: UInt64 = 0, alarm: AlarmType = .none) {
        self.memberID = memberID
        self.alarm = alarm
    }
}

public struct AlarmRequest: UnaryRPC {
    public typealias Response = AlarmResponse
    public static let path = "/maintenance/alarm"
    public var action: AlarmAction
    public var memberID: UInt64 = 0
    public var alarm = AlarmType.none
    enum CodingKeys: Int, CodingKey { case action = 1, memberID, alarm }
    public init(action: AlarmAction, memberID: UInt64 = 0, alarm: AlarmType = .none) {
        self.action = action
        self.memberID = memberID
        self.alarm = alarm
    }
}

public struct AlarmResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var alarms: [AlarmMember] = []
    enum CodingKeys: Int, CodingKey { case header = 1, alarms }
    public init(header: ResponseHeader? = nil, alarms: [AlarmMember] = []) {
        self.header = header
        self.alarms = alarms
    }
}

public struct StatusRequest: EmptyRequest {
    public typealias Response = StatusResponse
    public static let path = "/maintenance/status"
    public init() {}
}

public struct StatusResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var version = ""
    public var dbSize: Int64 = 0
    public var leader: UInt64 = 0
    public var raftIndex: UInt64 = 0
    public var raftTerm: UInt64 = 0
    public var raftAppliedIndex: UInt64 = 0
    public var errors: [String] = []
    public var dbSizeInUse: Int64 = 0
    public var isLearner = false
    enum CodingKeys: Int, CodingKey {
        case header = 1, version, dbSize, leader, raftIndex, raftTerm, raftAppliedIndex, errors, dbSizeInUse, isLearner
    }
}

public struct DefragmentRequest: EmptyRequest {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/maintenance/defragment"
    public init() {}
}

public struct MoveLeaderRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/maintenance/transfer-leadership"
    public var targetID: UInt64
    enum CodingKeys: Int, CodingKey { case targetID = 1 }
    public init(targetID: UInt64) { self.targetID = targetID }
}

/// HashKV: a hash of the member's key-value history up to a revision. The gateway serves it from etcd 3.5.10
/// (before, the path is 404).
public struct HashKVRequest: UnaryRPC {
    public typealias Response = HashKVResponse
    public static let path = "/maintenance/hashkv"
    public var revision: Int64
    enum CodingKeys: Int, CodingKey { case revision = 1 }
    public init(revision: Int64) { self.revision = revision }
}

public struct HashKVResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var hash: UInt32 = 0
    public var compact_revision: Int64 = 0
    enum CodingKeys: Int, CodingKey { case header = 1, hash, compact_revision }
    public init(header: ResponseHeader? = nil, hash: UInt32 = 0, compact_revision: Int64 = 0) {
        self.header = header
        self.hash = hash
        self.compact_revision = compact_revision
    }
}
