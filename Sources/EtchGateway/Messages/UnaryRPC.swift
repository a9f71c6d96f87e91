/// One unary gateway call: a request message, the response message it gets and the path it is POSTed to.
/// Adding an RPC costs this declaration; `GatewayClient.unary` does the rest.
public protocol UnaryRPC: Encodable, Sendable {
    associatedtype Response: Decodable & Sendable
    /// The path under `/v3`, e.g. `/cluster/member/list`.
    static var path: String { get }
}

extension GatewayClient {
    /// Sends `request` (with the failover, authentication and error rules of every call) and decodes the reply.
    public func unary<R: UnaryRPC>(_ request: R) throws(GatewayError) -> R.Response {
        let reply = try call(R.path, EncodedValue.of(request).gatewayJSON())
        return try MessageDecoder.decode(R.Response.self, from: reply, context: R.path)
    }
}

/// A request that has no fields.
public protocol EmptyRequest: UnaryRPC {}
extension EmptyRequest {
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: NoKeys.self)
    }
}

/// The keys of a message without fields.
public enum NoKeys: Int, CodingKey { case none = 0 }

/// A response that carries only its header (`AuthUserAddResponse`, `DefragmentResponse`, ...).
public struct HeaderOnlyResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    enum CodingKeys: Int, CodingKey { case header = 1 }
    public init(header: ResponseHeader? = nil) { self.header = header }
}

extension ResponseHeader: Codable {
    enum CodingKeys: Int, CodingKey { case cluster_id = 1, member_id, revision, raft_term }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(clusterID: try c.decode(UInt64.self, forKey: .cluster_id), memberID: try c.decode(UInt64.self, forKey: .member_id),
                  revision: try c.decode(Int64.self, forKey: .revision), raftTerm: try c.decode(UInt64.self, forKey: .raft_term))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(clusterID, forKey: .cluster_id)
        try c.encode(memberID, forKey: .member_id)
        try c.encode(revision, forKey: .revision)
        try c.encode(raftTerm, forKey: .raft_term)
    }
}
