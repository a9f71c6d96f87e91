/// etcd's cluster service (`/v3/cluster/member/*`) and compaction: the messages of rpc.proto, field numbers
/// as there.

public struct Member: Codable, Sendable, Equatable {
    public var ID: UInt64 = 0
    public var name = ""
    public var peerURLs: [String] = []
    public var clientURLs: [String] = []
    public var isLearner = false
    enum CodingKeys: Int, CodingKey { case ID = 1, name, peerURLs, clientURLs, isLearner }
    public init() {}
}

public struct MemberListRequest: EmptyRequest {
    public typealias Response = MemberListResponse
    public static let path = "/cluster/member/list"
    public init() {}
}

public struct MemberListResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var members: [Member] = []
    enum CodingKeys: Int, CodingKey { case header = 1, members }
}

public struct MemberAddRequest: UnaryRPC {
    public typealias Response = MemberAddResponse
    public static let path = "/cluster/member/add"
    public var peerURLs: [String]
    public var isLearner: Bool
    enum CodingKeys: Int, CodingKey { case peerURLs = 1, isLearner }
    public init(peerURLs: [String], isLearner: Bool) {
        self.peerURLs = peerURLs
        self.isLearner = isLearner
    }
}

public struct MemberAddResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var member: Member?
    public var members: [Member] = []
    enum CodingKeys: Int, CodingKey { case header = 1, member, members }
}

public struct MemberRemoveRequest: UnaryRPC {
    public typealias Response = MemberListResponse
    public static let path = "/cluster/member/remove"
    public var ID: UInt64
    enum CodingKeys: Int, CodingKey { case ID = 1 }
    public init(ID: UInt64) { self.ID = ID }
}

public struct MemberUpdateRequest: UnaryRPC {
    public typealias Response = MemberListResponse
    public static let path = "/cluster/member/update"
    public var ID: UInt64
    public var peerURLs: [String]
    enum CodingKeys: Int, CodingKey { case ID = 1, peerURLs }
    public init(ID: UInt64, peerURLs: [String]) {
        self.ID = ID
        self.peerURLs = peerURLs
    }
}

public struct MemberPromoteRequest: UnaryRPC {
    public typealias Response = MemberListResponse
    public static let path = "/cluster/member/promote"
    public var ID: UInt64
    enum CodingKeys: Int, CodingKey { case ID = 1 }
    public init(ID: UInt64) { self.ID = ID }
}

public struct CompactionRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/kv/compaction"
    public var revision: Int64
    public var physical: Bool
    enum CodingKeys: Int, CodingKey { case revision = 1, physical }
    public init(revision: Int64, physical: Bool) {
        self.revision = revision
        self.physical = physical
    }
}
