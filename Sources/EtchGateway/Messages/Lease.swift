/// etcd's lease service (`/v3/lease/*`): the messages of rpc.proto, field numbers as there.

public struct LeaseGrantRequest: UnaryRPC {
    public typealias Response = LeaseGrantResponse
    public static let path = "/lease/grant"
    public var TTL: Int64
    /// 0 lets the server choose the ID.
    public var ID: Int64
    enum CodingKeys: Int, CodingKey { case TTL = 1, ID }
    public init(TTL: Int64, ID: Int64 = 0) {
        self.TTL = TTL
        self.ID = ID
    }
}

public struct LeaseGrantResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var ID: Int64 = 0
    public var TTL: Int64 = 0
    public var error = ""
    enum CodingKeys: Int, CodingKey { case header = 1, ID, TTL, error }
    public init(header: ResponseHeader? = nil, ID: Int64 = 0, TTL: Int64 = 0, error: String = "") {
        self.header = header
        self.ID = ID
        self.TTL = TTL
        self.error = error
    }
}

public struct LeaseRevokeRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/lease/revoke"
    public var ID: Int64
    enum CodingKeys: Int, CodingKey { case ID = 1 }
    public init(ID: Int64) { self.ID = ID }
}

public struct LeaseTimeToLiveRequest: UnaryRPC {
    public typealias Response = LeaseTimeToLiveResponse
    public static let path = "/lease/timetolive"
    public var ID: Int64
    /// Also list the keys attached to the lease.
    public var keys: Bool
    enum CodingKeys: Int, CodingKey { case ID = 1, keys }
    public init(ID: Int64, keys: Bool) {
        self.ID = ID
        self.keys = keys
    }
}

public struct LeaseTimeToLiveResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var ID: Int64 = 0
    /// Seconds left; -1 for a lease that does not exist (expired, revoked or never granted).
    public var TTL: Int64 = 0
    public var grantedTTL: Int64 = 0
    public var keys: [[UInt8]] = []
    enum CodingKeys: Int, CodingKey { case header = 1, ID, TTL, grantedTTL, keys }
    public init(header: ResponseHeader? = nil, ID: Int64 = 0, TTL: Int64 = 0, grantedTTL: Int64 = 0, keys: [[UInt8]] = []) {
        self.header = header
        self.ID = ID
        self.TTL = TTL
        self.grantedTTL = grantedTTL
        self.keys = keys
    }
}

public struct LeaseLeasesRequest: EmptyRequest {
    public typealias Response = LeaseLeasesResponse
    public static let path = "/lease/leases"
    public init() {}
}

public struct LeaseStatus: Codable, Sendable, Equatable {
    public var ID: Int64 = 0
    enum CodingKeys: Int, CodingKey { case ID = 1 }
    public init(ID: Int64 = 0) { self.ID = ID }
}

public struct LeaseLeasesResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var leases: [LeaseStatus] = []
    enum CodingKeys: Int, CodingKey { case header = 1, leases }
    public init(header: ResponseHeader? = nil, leases: [LeaseStatus] = []) {
        self.header = header
        self.leases = leases
    }
}

/// One renewal on the keep-alive stream. Not a `UnaryRPC`: the reply comes wrapped in the stream's `result`.
public struct LeaseKeepAliveRequest: Codable, Sendable, Equatable {
    public static let path = "/lease/keepalive"
    public var ID: Int64
    enum CodingKeys: Int, CodingKey { case ID = 1 }
    public init(ID: Int64) { self.ID = ID }
}

public struct LeaseKeepAliveResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var ID: Int64 = 0
    /// The lease's TTL again, in seconds; 0 (left out by the gateway) when the lease no longer exists.
    public var TTL: Int64 = 0
    enum CodingKeys: Int, CodingKey { case header = 1, ID, TTL }
    public init(header: ResponseHeader? = nil, ID: Int64 = 0, TTL: Int64 = 0) {
        self.header = header
        self.ID = ID
        self.TTL = TTL
    }
}

extension GatewayClient {
    /// Renews lease `id` once: one POST to the keep-alive stream with one request in its body. The gateway
    /// answers each request object as it reads it and ends the reply when the request body ends (unlike a
    /// watch), so a plain exchange is a whole renewal. Errors come in the stream's shape
    /// (`{"error":{...}}`, HTTP 200) or as a unary error; a stale token is renewed once, as for any call.
    public func keepAliveOnce(_ id: Int64) throws(GatewayError) -> LeaseKeepAliveResponse {
        let body = EncodedValue.of(LeaseKeepAliveRequest(ID: id)).gatewayJSON()
        return try reauthenticating { () throws(GatewayError) -> LeaseKeepAliveResponse in
            let reply = try exchange(path: LeaseKeepAliveRequest.path, method: .post, body: body, prefixed: true)
            if let e = GatewayError.parseStreamError(reply) { throw e }
            guard let result = reply["result"], result.isObject else {
                throw .malformedReply("\(LeaseKeepAliveRequest.path): the reply has no result")
            }
            return try MessageDecoder.decode(LeaseKeepAliveResponse.self, from: result, context: LeaseKeepAliveRequest.path)
        }
    }
}
