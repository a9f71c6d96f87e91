import EtchTransport

/// Typed calls to etcd's JSON gateway over one reused transport, moving to the next endpoint when one cannot
/// be connected to.
public final class GatewayClient {
    public let endpoints: [Endpoint]
    public let transport: HTTPTransport
    /// Overall limit for a unary call, in milliseconds (`--command-timeout`).
    public var commandTimeoutMilliseconds: Int
    /// Token from `/v3/auth/authenticate`, sent raw as `Authorization`.
    public var authToken: String?
    /// The user's name and password, kept to authenticate again when a token stops being valid (simple tokens
    /// expire and live in one member's memory). Never printed.
    public var credentials: (name: String, password: String)?
    /// Index of the endpoint that answered last; calls start there.
    public private(set) var current = 0
    /// `/v3` on 3.4+, `/v3beta` on 3.3: switched once on a 404.
    private var apiPrefix = "/v3"

    public init(endpoints: [Endpoint], transport: HTTPTransport, commandTimeoutMilliseconds: Int) {
        precondition(!endpoints.isEmpty)
        self.endpoints = endpoints
        self.transport = transport
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
    }

    /// A client for the same cluster with a connection of its own (for a request in flight on another thread),
    /// sharing the endpoints, the token and the credentials. It does not log.
    public func sibling() -> GatewayClient {
        let c = GatewayClient(endpoints: endpoints, transport: HTTPTransport(options: transport.options),
                              commandTimeoutMilliseconds: commandTimeoutMilliseconds)
        c.authToken = authToken
        c.credentials = credentials
        c.current = current
        c.apiPrefix = apiPrefix
        return c
    }

    /// Header lines sent with every gateway call.
    public var headers: [String] {
        authToken.map { ["Authorization: \($0)"] } ?? []
    }

    /// Gets a token for `credentials` and sends it with every later call.
    public func authenticate() throws(GatewayError) {
        guard let (name, password) = credentials else { return }
        // Authenticate without the old token, and keep it if no new one comes.
        let old = authToken
        authToken = nil
        defer { if authToken == nil { authToken = old } }
        var body = JSONBody()
        body.string("name", name)
        body.string("password", password)
        let reply = try exchange(path: "/auth/authenticate", method: .post, body: body.finish(), prefixed: true)
        guard let token = reply["token"]?.stringValue, !token.isEmpty else {
            throw .malformedReply("authenticate returned no token")
        }
        authToken = token
    }

    /// Before a watch reconnects: a fresh token when credentials are known. The token may have expired while
    /// the stream ran, or belong to a member that restarted, and etcd 3.4's gateway does not answer a streamed
    /// watch whose token it refuses. Refused credentials are an error; an unreachable member is not (the
    /// reconnect that follows fails and is retried as any other).
    /// Returns whether a new token was obtained.
    @discardableResult
    public func renewTokenForReconnect() throws(GatewayError) -> Bool {
        guard credentials != nil else { return false }
        do {
            try authenticate()
            return true
        } catch {
            // Only refused credentials end the watch. etcd answers authenticate through raft, so during an
            // election it fails with "no leader", "leader changed" or a timeout: those are retried like an
            // unreachable member.
            if case let .server(_, message, _) = error, GatewayClient.isRefusedCredentials(message) { throw error }
            return false
        }
    }

    /// Whether an authenticate error means the name or password is wrong (not that the cluster is busy).
    public static func isRefusedCredentials(_ message: String) -> Bool {
        message.contains("authentication failed") || message.contains("user name is empty")
            || message.contains("invalid user") || message.contains("permission denied")
    }

    /// Whether an error means the token is no longer valid (expired, unknown to this member, or issued before
    /// the auth store changed), so authenticating again may help.
    public static func isStaleToken(_ message: String) -> Bool {
        message.contains("invalid auth token") || message.contains("revision of auth store is old")
            || message.contains("auth token is expired") || message.contains("user name is empty")
    }

    /// Whether a watch cancel may be a stale token: one named as such, or etcd 3.5's "permission denied" (its
    /// watch server checks permission with the token, so one it cannot read looks like a denial).
    public static func mayBeStaleTokenCancel(_ reason: String) -> Bool {
        isStaleToken(reason) || reason.contains("permission denied")
    }

    /// Runs a call; when it fails on a stale token and credentials are known, authenticates again once and
    /// retries. A call refused for its token was not applied, so the retry cannot apply anything twice.
    func reauthenticating<T>(_ body: () throws(GatewayError) -> T) throws(GatewayError) -> T {
        do {
            return try body()
        } catch {
            guard credentials != nil, case let .server(_, message, _) = error, GatewayClient.isStaleToken(message) else {
                throw error
            }
            try authenticate()
            return try body()
        }
    }

    /// Runs a call whose repetition is harmless (a read, a revoke, a delete, a create-if-absent txn), sending it
    /// again on each other endpoint, once, when a member could not serve it: its connection broke mid-request
    /// (the member died), it timed out (a member without a leader holds requests), or the server said to try
    /// again. `send` already moves on when a connection cannot be made; this covers a request that was sent.
    /// Never for writes that must not be applied twice (a put); a session's lease grant is the one write sent
    /// again (see `LeaseSession.grant`).
    public func idempotent<T>(_ call: () throws(GatewayError) -> T) throws(GatewayError) -> T {
        var attempts = 1
        while true {
            do {
                return try call()
            } catch {
                guard error.worthRetryingElsewhere, attempts < endpoints.count else { throw error }
                attempts += 1
                markCurrent((current + 1) % endpoints.count)
            }
        }
    }

    public func range(_ request: RangeRequest) throws(GatewayError) -> RangeResponse {
        try RangeResponse(json: call("/kv/range", request.body()))
    }

    /// A range read as its reply arrives: `onHeader` once, `onKVs` per batch; returns the whole response
    /// without its key-values (header, more, count).
    /// `stop` is asked after each chunk: true ends the transfer (which then fails as aborted).
    public func rangeStreaming(_ request: RangeRequest, onHeader: (ResponseHeader) -> Void,
                               onKVs: ([KeyValue]) -> Void, stop: () -> Bool = { false }) throws(GatewayError) -> RangeResponse {
        try reauthenticating { () throws(GatewayError) -> RangeResponse in
            try rangeStreamingOnce(request, onHeader: onHeader, onKVs: onKVs, stop: stop)
        }
    }

    private func rangeStreamingOnce(_ request: RangeRequest, onHeader: (ResponseHeader) -> Void,
                                    onKVs: ([KeyValue]) -> Void, stop: () -> Bool) throws(GatewayError) -> RangeResponse {
        var decoder = RangeStreamDecoder()
        var header = ResponseHeader()
        var failure: GatewayError?
        let answer: (status: Int, endpoint: Endpoint)
        do {
            answer = try send(path: "/kv/range", method: .post, body: request.body(), prefixed: true, streamed: true) { chunk in
                do throws(GatewayError) {
                    try decoder.feed(chunk, onHeader: { header = $0; onHeader($0) }, onKVs: onKVs)
                } catch {
                    failure = error
                    return false
                }
                return !stop()
            }
        } catch {
            throw failure ?? error
        }
        if let tail = try decoder.finish() {
            return RangeResponse(header: header, kvs: [], more: tail.more, count: tail.count)
        }
        // Not streamed: a small reply (no key-values), or an error body.
        let whole = try RangeResponse(json: GatewayClient.decodeReply(decoder.wholeBody, status: answer.status, endpoint: answer.endpoint.baseURL))
        onHeader(whole.header)
        if !whole.kvs.isEmpty { onKVs(whole.kvs) }
        return RangeResponse(header: whole.header, kvs: [], more: whole.more, count: whole.count)
    }

    public func put(_ request: PutRequest) throws(GatewayError) -> PutResponse {
        try PutResponse(json: call("/kv/put", request.body()))
    }

    public func deleteRange(_ request: DeleteRangeRequest) throws(GatewayError) -> DeleteRangeResponse {
        try DeleteRangeResponse(json: call("/kv/deleterange", request.body()))
    }

    /// `GET /version` on the first endpoint that answers.
    public func version() throws(GatewayError) -> ServerVersion {
        let json = try exchange(path: "/version", method: .get, body: [], prefixed: false)
        return ServerVersion(server: json["etcdserver"]?.stringValue ?? "", cluster: json["etcdcluster"]?.stringValue ?? "")
    }

    /// One unary gateway call: POST `/v3<path>` with a JSON body, returning the parsed JSON reply.
    public func call(_ path: String, _ body: [UInt8]) throws(GatewayError) -> JSON {
        try reauthenticating { () throws(GatewayError) -> JSON in
            try exchange(path: path, method: .post, body: body, prefixed: true)
        }
    }

    func exchange(path: String, method: HTTPRequest.Method, body: [UInt8], prefixed: Bool) throws(GatewayError) -> JSON {
        var reply: [UInt8] = []
        let answer = try send(path: path, method: method, body: body, prefixed: prefixed) { chunk in
            reply.append(contentsOf: chunk)
            return true
        }
        if answer.status == 404, prefixed, apiPrefix == "/v3", GatewayError.parseErrorBody(reply, httpStatus: answer.status) == nil {
            apiPrefix = "/v3beta"
            return try exchange(path: path, method: method, body: body, prefixed: prefixed)
        }
        return try GatewayClient.decodeReply(reply, status: answer.status, endpoint: answer.endpoint.baseURL)
    }

    /// Sends one request to the first endpoint that can be connected to, starting at the current one, handing
    /// the reply's bytes to `sink`. Only a request that never reached a server moves on to the next endpoint:
    /// a write that may have been applied must not be sent twice. (A failed connection delivers no bytes, so
    /// one sink serves every attempt.)
    ///
    /// `streamed`: the reply is consumed as it arrives (and printed), so `--command-timeout` limits how long
    /// the server stays silent, not the whole exchange, which includes the time the output takes to drain.
    ///
    /// `timeoutMilliseconds` / `idleMilliseconds`, when given, replace both limits (a snapshot: its own stall
    /// limit, and an overall one only when the user set --command-timeout).
    func send(path: String, method: HTTPRequest.Method, body: [UInt8], prefixed: Bool, streamed: Bool = false,
              timeoutMilliseconds: Int? = nil, idleMilliseconds: Int? = nil, receiveBufferBytes: Int = 0,
              sink: BodySink) throws(GatewayError) -> (status: Int, endpoint: Endpoint) {
        var failures: [TransportError] = []
        for step in 0..<endpoints.count {
            let index = (current + step) % endpoints.count
            let endpoint = endpoints[index]
            var request = HTTPRequest(url: endpoint.baseURL + (prefixed ? apiPrefix : "") + path, method: method,
                                      body: body, headers: headers,
                                      timeoutMilliseconds: timeoutMilliseconds ?? (streamed ? 0 : commandTimeoutMilliseconds),
                                      idleTimeoutMilliseconds: idleMilliseconds ?? (streamed ? commandTimeoutMilliseconds : 0))
            request.receiveBufferBytes = receiveBufferBytes
            do throws(TransportError) {
                let result = try transport.perform(request, sink: sink)
                current = index
                return (result.status, endpoint)
            } catch {
                if !error.mayHaveReachedServer {
                    failures.append(error)
                    continue
                }
                if error.kind == .emptyReply { throw .emptyReply(endpoint: endpoint.baseURL) }
                throw .transport(error)
            }
        }
        throw .unreachable(failures)
    }

    /// Turns a status and body into JSON or the error it carries. An empty or non-JSON reply is an error.
    public static func decodeReply(_ reply: [UInt8], status: Int, endpoint: String) throws(GatewayError) -> JSON {
        if status != 200 {
            if let e = GatewayError.parseErrorBody(reply, httpStatus: status) { throw e }
            throw .http(status: status, endpoint: endpoint, snippet: snippet(reply))
        }
        if reply.isEmpty { throw .emptyReply(endpoint: endpoint) }
        let json: JSON
        do { json = try JSONParser.parse(reply) } catch {
            throw .malformedReply("not JSON (\(error.message) at byte \(error.offset)): \(snippet(reply))")
        }
        if let e = GatewayError.parseErrorBody(reply, httpStatus: status), json["header"] == nil { throw e }
        guard json.isObject else { throw .malformedReply("not a JSON object: \(snippet(reply))") }
        return json
    }

    /// The start of a reply, printable, for error messages.
    static func snippet(_ reply: [UInt8]) -> String {
        let head = reply.prefix(120).map { $0 >= 0x20 && $0 < 0x7F ? Character(Unicode.Scalar($0)) : " " }
        var s = String(head)
        while s.hasSuffix(" ") { s.removeLast() }
        return reply.count > 120 ? s + "..." : s
    }

    /// The URL of the watch stream on endpoint `index`.
    public func watchURL(endpoint index: Int) -> String {
        endpoints[index].baseURL + apiPrefix + "/watch"
    }

    /// Records that endpoint `index` answered, so later calls start there.
    public func markCurrent(_ index: Int) { current = index }
}
