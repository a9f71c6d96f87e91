import EtchTransport

/// The queue behind `lock` and `elect`: etcd's concurrency recipe (clientv3/concurrency Mutex and Election)
/// spoken over the gateway's KV calls.
///
/// Why this recipe and not the gateway's `/v3/lock/lock` and `/v3/election/*`: etch's locks must exclude
/// etcdctl's and the other way round. etcdctl never calls the lock service; it queues a key `<name>/<lease %x>`
/// (its session's lease, in Go's `%x`: no padding) with a txn and waits for the keys created before it to be
/// deleted. The server's lock service uses that same layout today, but only as an implementation detail of
/// etcd's server, and its calls block inside one HTTP request: a broken connection or a failover loses the
/// waiter with no way to resume, a `--timeout` cannot delete what the server queued for us, and the gateway
/// would grant a lease of its own unless given ours. Doing the recipe ourselves keeps the key layout identical
/// to etcdctl's by construction, lets the wait ride `ResilientWatch` (resumes at the right revision on
/// another endpoint), and leaves etch in charge of the key, so giving up removes it.
///
/// The queue: a key is ours when `create_revision(key) == 0` puts it (empty value for a lock, the proposal for
/// an election) with our lease; the holder is the key under `<name>/` created first. A waiter waits for the
/// last key created before its own to be deleted, then looks again (etcd's `waitDeletes`), so each waiter
/// watches one predecessor, never the holder. The watch here covers the whole prefix but stops only at the
/// predecessor's DELETE or our own (our lease expired or was revoked while waiting: `.lost`).
public final class KeyQueue {
    public enum WaitOutcome: Equatable, Sendable {
        /// No key created before ours is left: we hold the lock (are the leader).
        case acquired
        /// SIGINT or SIGTERM.
        case interrupted
        /// The deadline passed first.
        case deadline
        /// Our own key was deleted while waiting (our lease expired or was revoked).
        case lost
    }

    public let client: GatewayClient
    /// `<name>/`.
    public let prefix: [UInt8]
    public let lease: Int64
    /// `<name>/<lease %x>`, etcdctl's key.
    public let key: [UInt8]
    /// Our key's create revision once queued.
    public private(set) var createRevision: Int64 = 0
    /// The header of the reply that made us the holder (its revision is etcdctl's `ETCD_LOCK_REV`).
    public private(set) var header = ResponseHeader()
    /// Reconnect notices of the wait's watch, for stderr.
    public var notice: (String) -> Void = { _ in }

    public init(client: GatewayClient, name: [UInt8], lease: Int64) {
        self.client = client
        self.lease = lease
        prefix = name + Array("/".utf8)
        key = prefix + Array(String(lease, radix: 16).utf8)
    }

    /// The first-created key under the prefix (clientv3's `WithFirstCreate`), or with `maxCreate` the last one
    /// created at or before it (`WithLastCreate` + `WithMaxCreateRev`).
    public func ownerRequest(lastBefore maxCreate: Int64? = nil) -> RangeRequest {
        var r = RangeRequest(key: prefix)
        r.rangeEnd = prefixRangeEnd(prefix)
        r.sortTarget = .create
        r.sortOrder = maxCreate == nil ? .ascend : .descend
        r.limit = 1
        if let maxCreate { r.maxCreateRevision = maxCreate }
        return r
    }

    /// Queues our key with `value` (Mutex.Lock's one txn: put it unless it exists, and read the holder).
    /// Returns whether we hold it already, and our key as it was when it existed before (a resumed session).
    @discardableResult
    public func enqueue(value: [UInt8]) throws(GatewayError) -> (holds: Bool, existing: KeyValue?) {
        // Sent again elsewhere if a member fails under it: a second run finds the key the first one put.
        let request = enqueueRequest(value: value)
        let queued = try KeyQueue.queued(by: client.idempotent { () throws(GatewayError) in try client.txn(request) })
        createRevision = queued.createRevision
        if queued.holds { header = queued.header }
        return (queued.holds, queued.existing)
    }

    /// The txn that queues our key: put it with our lease if it does not exist, else read it; read the holder
    /// either way.
    func enqueueRequest(value: [UInt8]) -> TxnRequest {
        var put = PutRequest(key: key, value: value)
        put.lease = lease
        return TxnRequest(
            compare: [Compare(key: key, result: .equal, target: .create(0))],
            success: [.put(put), .range(ownerRequest())],
            failure: [.range(RangeRequest(key: key)), .range(ownerRequest())])
    }

    /// What the enqueue txn's reply says: our key's create revision (the txn's revision when it put the key,
    /// the key's own when it was there already), whether the first-created key is ours, and our key as it was.
    static func queued(by reply: TxnResponse) throws(GatewayError) -> (holds: Bool, createRevision: Int64, existing: KeyValue?, header: ResponseHeader) {
        var existing: KeyValue?
        var createRevision = reply.header.revision
        if !reply.succeeded, case let .range(mine)? = reply.responses.first, let kv = mine.kvs.first {
            existing = kv
            createRevision = kv.createRevision
        }
        guard reply.responses.count == 2, case let .range(owner) = reply.responses[1] else {
            throw .malformedReply("txn reply without the holder's range")
        }
        let holds = owner.kvs.isEmpty || owner.kvs[0].createRevision == createRevision
        return (holds, createRevision, existing, reply.header)
    }

    /// What a watch response means to a waiter: `.lost` when our own key was deleted (our lease is gone),
    /// `.acquired` when the predecessor's was (look again: it may not be the last one), nil to keep waiting.
    /// Our own deletion wins wherever it is in the response: both keys can go in one revision (one lease, or
    /// a delete of the whole prefix), and a waiter without its key must not go on to run its command.
    static func verdict(_ response: WatchResponse, own: [UInt8], predecessor: [UInt8]) -> WaitOutcome? {
        let deleted = response.events.filter { $0.type == .delete }.map(\.kv.key)
        if deleted.contains(own) { return .lost }
        if deleted.contains(predecessor) { return .acquired }
        return nil
    }

    /// Waits until no key created before ours is left under the prefix (etcd's `waitDeletes`), at most until
    /// `stopAt` (monotonic nanoseconds). `createMilliseconds`: how long a watch may take to be created.
    public func waitForPredecessors(stopAt: UInt64?, createMilliseconds: Int) throws(GatewayError) -> WaitOutcome {
        while true {
            let before = ownerRequest(lastBefore: createRevision - 1)
            let reply = try client.idempotent { () throws(GatewayError) in try client.range(before) }
            guard let predecessor = reply.kvs.first else {
                header = reply.header
                return .acquired
            }
            if let stopAt, monotonicNanoseconds() >= stopAt { return .deadline }
            var request = WatchCreateRequest(key: prefix)
            request.rangeEnd = prefixRangeEnd(prefix)
            request.startRevision = reply.header.revision + 1
            var timing = WatchTiming(createMilliseconds: createMilliseconds)
            timing.stopAt = stopAt
            // Resuming: the watch follows a read that reached the cluster, so a failure to create it (its member
            // dying, an election) is retried on the next endpoint, as a break is, not the end of the wait.
            let watch = ResilientWatch(session: WatchSession(client: client, request: request, resuming: true), timing: timing)
            watch.notice = notice
            var seen: WaitOutcome?
            let outcome = try watch.run { response in
                seen = KeyQueue.verdict(response, own: key, predecessor: predecessor.key)
                return seen == nil
            }
            switch outcome {
            case .stoppedByConsumer:
                if seen == .lost { return .lost }
            case .interrupted: return .interrupted
            case .deadline: return .deadline
            case let .canceled(response):
                // A compaction between the range and the watch: look again. Anything else is the server's no.
                if response.compactRevision == 0 {
                    throw .server(code: 0, message: response.cancelReason.isEmpty ? "watch canceled by the server" : response.cancelReason, httpStatus: 200)
                }
            case let .gaveUp(error):
                throw error ?? .malformedReply("the watch for the previous holder's key ended")
            }
        }
    }

    /// Replaces our key's value while it is the one we created (Election.Proclaim). False when it is gone.
    public func proclaim(_ value: [UInt8]) throws(GatewayError) -> Bool {
        var put = PutRequest(key: key, value: value)
        put.lease = lease
        let reply = try client.txn(TxnRequest(
            compare: [Compare(key: key, result: .equal, target: .create(createRevision))], success: [.put(put)]))
        return reply.succeeded
    }

    /// Deletes our key (Mutex.Unlock).
    public func release() throws(GatewayError) {
        _ = try client.idempotent { () throws(GatewayError) in try client.deleteRange(DeleteRangeRequest(key: key)) }
    }

    /// Deletes our key if it is still the one we created (Election.Resign).
    public func resign() throws(GatewayError) {
        let request = TxnRequest(compare: [Compare(key: key, result: .equal, target: .create(createRevision))],
                                 success: [.deleteRange(DeleteRangeRequest(key: key))])
        _ = try client.idempotent { () throws(GatewayError) in try client.txn(request) }
    }

    /// Our key as it is now (what etcdctl prints once it holds the lock or leads), at the current revision.
    public func current() throws(GatewayError) -> RangeResponse {
        try client.idempotent { () throws(GatewayError) in try client.range(RangeRequest(key: key)) }
    }
}
