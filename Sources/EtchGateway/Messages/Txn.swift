/// etcd's transaction (`/v3/kv/txn`): compares, then the operations of the branch they select, applied at one
/// revision. Messages as in rpc.proto (Compare, RequestOp, TxnRequest, ResponseOp, TxnResponse); the request
/// body and the reply decoding are hand-written like the other KV messages, reusing theirs for the operations.

/// One condition of a transaction: a key's version, create or mod revision, value or lease compared with a
/// given one.
public struct Compare: Equatable, Sendable {
    /// How the key's current target relates to the given one (rpc.proto `CompareResult`).
    public enum Result: String, Sendable, CaseIterable {
        case equal = "EQUAL", greater = "GREATER", less = "LESS", notEqual = "NOT_EQUAL"
    }

    /// What is compared, with the value it is compared with (rpc.proto's `target` and `target_union`).
    public enum Target: Equatable, Sendable {
        case version(Int64)
        case create(Int64)
        case mod(Int64)
        case value([UInt8])
        /// A lease ID; 0 means the key has no lease.
        case lease(Int64)
    }

    public var key: [UInt8]
    public var result: Result
    public var target: Target

    public init(key: [UInt8], result: Result, target: Target) {
        self.key = key
        self.result = result
        self.target = target
    }

    /// `{"result":"GREATER","target":"MOD","key":"...","mod_revision":"0"}`: the union's field is written even
    /// when zero, so the server sees which one was meant.
    public func body() -> [UInt8] {
        var b = JSONBody()
        b.enumName("result", result.rawValue)
        switch target {
        case let .version(v): b.enumName("target", "VERSION"); b.bytes("key", key); b.int("version", v)
        case let .create(v): b.enumName("target", "CREATE"); b.bytes("key", key); b.int("create_revision", v)
        case let .mod(v): b.enumName("target", "MOD"); b.bytes("key", key); b.int("mod_revision", v)
        case let .value(v): b.enumName("target", "VALUE"); b.bytes("key", key); b.bytes("value", v)
        case let .lease(v): b.enumName("target", "LEASE"); b.bytes("key", key); b.int("lease", v)
        }
        return b.finish()
    }
}

/// One operation of a transaction's branch.
public enum RequestOp: Equatable, Sendable {
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)

    /// `{"request_range":{...}}`, `{"request_put":{...}}` or `{"request_delete_range":{...}}`.
    public func body() -> [UInt8] {
        var b = JSONBody()
        switch self {
        case let .range(r): b.raw("request_range", r.body())
        case let .put(r): b.raw("request_put", r.body())
        case let .deleteRange(r): b.raw("request_delete_range", r.body())
        }
        return b.finish()
    }
}

/// A `/kv/txn` request: if every compare holds, `success` is applied, else `failure`.
public struct TxnRequest: Equatable, Sendable {
    public var compare: [Compare]
    public var success: [RequestOp]
    public var failure: [RequestOp]

    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }

    public func body() -> [UInt8] {
        func list(_ items: [[UInt8]]) -> [UInt8] {
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += item
            }
            return out + [UInt8(ascii: "]")]
        }
        var b = JSONBody()
        if !compare.isEmpty { b.raw("compare", list(compare.map { $0.body() })) }
        if !success.isEmpty { b.raw("success", list(success.map { $0.body() })) }
        if !failure.isEmpty { b.raw("failure", list(failure.map { $0.body() })) }
        return b.finish()
    }
}

/// The result of one operation of the branch that ran.
public enum ResponseOp: Equatable, Sendable {
    case range(RangeResponse)
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)

    init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "txn response op")
        if let r = f.object("response_range") {
            self = .range(try RangeResponse(json: r))
        } else if let r = f.object("response_put") {
            self = .put(try PutResponse(json: r))
        } else if let r = f.object("response_delete_range") {
            self = .deleteRange(try DeleteRangeResponse(json: r))
        } else {
            // etch sends no nested txn, so a response_txn (or nothing) is not a reply to what was asked.
            throw GatewayError.malformedReply("txn response op has no response_range, response_put or response_delete_range")
        }
    }
}

/// The reply to `/kv/txn`.
public struct TxnResponse: Equatable, Sendable {
    public var header = ResponseHeader()
    public var succeeded = false
    public var responses: [ResponseOp] = []

    public init(header: ResponseHeader = ResponseHeader(), succeeded: Bool = false, responses: [ResponseOp] = []) {
        self.header = header
        self.succeeded = succeeded
        self.responses = responses
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "txn response")
        header = try ResponseHeader(json: f.object("header"))
        succeeded = try f.bool("succeeded")
        for item in try f.array("responses") { responses.append(try ResponseOp(json: item)) }
    }
}

extension ResponseOp: Encodable {
    enum CodingKeys: Int, CodingKey { case response_range = 1, response_put, response_delete_range }
    /// The oneof as protobuf has it: only the case's own field (each case is its own field number).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .range(r): try c.encode(r, forKey: .response_range)
        case let .put(r): try c.encode(r, forKey: .response_put)
        case let .deleteRange(r): try c.encode(r, forKey: .response_delete_range)
        }
    }
}

extension TxnResponse: Encodable {
    enum CodingKeys: Int, CodingKey { case header = 1, succeeded, responses }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(header, forKey: .header)
        try c.encode(succeeded, forKey: .succeeded)
        try c.encode(responses, forKey: .responses)
    }
}

extension GatewayClient {
    /// Sends a transaction. It is a write: a failure after the request may have reached the server must not
    /// be retried blindly (see `Context.write`).
    public func txn(_ request: TxnRequest) throws(GatewayError) -> TxnResponse {
        try TxnResponse(json: call("/kv/txn", request.body()))
    }
}
