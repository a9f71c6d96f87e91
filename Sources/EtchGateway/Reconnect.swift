import EtchTransport

/// The reconnect rules every long-lived stream shares (watch, interactive watch, lease keep-alive, and later
/// election observe): the first retry at once, then jittered exponential backoff up to about 2 s, reset
/// by a connection that worked; the next endpoint each time; a fresh token before each reconnect; and an
/// optional limit on how long no connection may work. Each stream adapts this instead of copying the loop.
public struct Reconnect: Sendable {
    private var backoff = Backoff()
    private var failingSince: UInt64?
    /// Give up after this long without a working connection; nil retries forever.
    public var retryTimeoutMilliseconds: Int?

    public init(retryTimeoutMilliseconds: Int? = nil) {
        self.retryTimeoutMilliseconds = retryTimeoutMilliseconds
    }

    /// Records how a connection ended: `working` when it delivered what etch could read (a connection that
    /// confirms and then sends garbage is not working, or such a server would be reconnected to in a tight
    /// loop forever). Returns false when the retry timeout has run out.
    public mutating func ended(working: Bool) -> Bool {
        let now = monotonicNanoseconds()
        if working {
            backoff.reset()
            failingSince = now
        } else if failingSince == nil {
            failingSince = now
        }
        if let limit = retryTimeoutMilliseconds, let since = failingSince, now - since > UInt64(limit) * 1_000_000 {
            return false
        }
        return true
    }

    /// Moves `client` to its next endpoint, waits the backoff delay (cut short by an interrupt, or as `wait`
    /// waits) and renews the token when credentials are known. Returns whether a new token was obtained.
    @discardableResult
    public mutating func advance(_ client: GatewayClient,
                                 wait: (Int) -> Void = { Backoff.sleep(milliseconds: $0) }) throws(GatewayError) -> Bool {
        client.markCurrent((client.current + 1) % client.endpoints.count)
        wait(backoff.next())
        return try client.renewTokenForReconnect()
    }

    /// Waits the backoff delay without changing endpoint (the cluster is busy: an election).
    public mutating func pause() { Backoff.sleep(milliseconds: backoff.next()) }
}

extension GatewayClient {
    /// Opens a watch stream on endpoint `index` whose request body stays open: `initialBody` first, then what
    /// `onInput` returns each time `inputFD` is readable (nil: end of input). Replies go to `sink` as they
    /// arrive. The member must have a leader (`Grpc-Metadata-Hasleader`), so a partitioned member cannot keep
    /// the watch silently stale.
    public func duplexWatch(endpoint index: Int, initialBody: [UInt8], inputFD: Int32,
                            onInput: () -> [UInt8]?, sink: BodySink) throws(GatewayError) {
        let request = HTTPRequest(url: watchURL(endpoint: index), method: .post,
                                  headers: headers + ["Grpc-Metadata-Hasleader: true"])
        do {
            _ = try transport.performDuplex(request, initialBody: initialBody, inputFD: inputFD, onInput: onInput, sink: sink)
        } catch {
            throw .transport(error)
        }
    }
}

extension GatewayClient {
    /// A read retried until it gets through, as a long-lived stream reconnects (`Reconnect`: the next endpoint
    /// each time, the backoff, a fresh token): for reads a long-running command needs between its watches
    /// (`elect -l` looking up the next leader), which must outlive a member's death or an election. Ends only
    /// with a reply, an interrupt, or a refusal that retrying cannot mend (refused credentials, a bad request).
    public func persistently<T>(_ call: () throws(GatewayError) -> T) throws(GatewayError) -> T {
        var reconnect = Reconnect()
        while true {
            do {
                return try call()
            } catch {
                if error.isAborted || Interrupt.requested { throw error }
                if case .unreachable = error {} else if !error.worthRetryingElsewhere { throw error }
                _ = reconnect.ended(working: false)
                try reconnect.advance(self)
            }
        }
    }
}

extension GatewayError {
    /// Whether the request ended because etch stopped it (an interrupt).
    public var isAborted: Bool {
        if case let .transport(t) = self { return t.kind == .aborted }
        return false
    }

    /// Whether an idempotent request that failed this way may do better on another endpoint: not when etch
    /// stopped it, when no endpoint accepted a connection (every one was tried), nor when a server refused it
    /// for good (a bad request, refused credentials, a lease that is gone).
    public var worthRetryingElsewhere: Bool {
        if isAborted { return false }
        if case .unreachable = self { return false }
        return LeaseKeeper.final(self, endpoint: "") == nil
    }

    /// Whether the request may have reached the server (false: it never connected, so another endpoint may
    /// be tried).
    public var mayHaveReachedServer: Bool {
        if case let .transport(t) = self { return t.mayHaveReachedServer }
        return true
    }

    /// Connection failures on every endpoint, as one error.
    public static func unreachable(collecting errors: [GatewayError]) -> GatewayError {
        .unreachable(errors.compactMap { if case let .transport(t) = $0 { return t } else { return nil } })
    }
}
