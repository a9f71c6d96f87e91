import EtchTransport
import Glibc

/// How keeping a lease alive ended.
public enum LeaseKeepAliveEnd: Sendable, Equatable {
    /// The owner stopped it (`StopSignal.stop()`, or the renewal callback returned false).
    case stopped
    /// SIGINT or SIGTERM (only for a keeper that stops on interrupts).
    case interrupted
    /// A server answered a renewal with no TTL left: the lease expired or was revoked. `endpoint` answered.
    case expired(endpoint: String)
    /// No renewal got through before the lease's TTL ran out since the last one that did (before the first, the
    /// first-reply limit): the lease has most likely expired on the server. The last failure says why.
    case lost(GatewayError?)
    /// A server refused the renewal in a way retrying cannot mend (refused credentials, a bad request).
    case failed(GatewayError)
}

/// A stop request sent from another thread, and the wait it cuts short.
public final class StopSignal: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopped = false

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    public var isStopped: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stopped
    }

    /// Waits `milliseconds`, or less when `stop()` is called; returns whether it was.
    public func wait(milliseconds: Int) -> Bool {
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let total = Int(end.tv_nsec) + max(0, milliseconds) % 1000 * 1_000_000
        end.tv_sec += max(0, milliseconds) / 1000 + total / 1_000_000_000
        end.tv_nsec = total % 1_000_000_000
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopped {
            if pthread_cond_timedwait(condition, mutex, &end) == ETIMEDOUT { break }
        }
        return stopped
    }
}

/// Keeps one lease alive through the gateway, as etcd's client does over its keep-alive stream: a renewal at
/// once (or a third of the TTL after a grant), then a third of the TTL after each reply.
///
/// Beyond etcd's client: a renewal that fails is retried at once, then with the shared reconnect backoff, on the
/// next endpoint each time (`Reconnect`), for as long as the lease can still be alive: until its TTL has run out
/// since the last renewal that got through. Each attempt is limited to the time left, so the keeper reports a
/// lost lease within its TTL, never later. One renewal is one POST (`GatewayClient.keepAliveOnce`).
///
/// The keeper runs on the caller's thread (`lease keep-alive`) or on a thread of its own (`LeaseSession`);
/// its client must not be used by another thread meanwhile.
public final class LeaseKeeper {
    public let client: GatewayClient
    public let id: Int64
    /// Ends the keeper from another thread.
    public let stopSignal = StopSignal()
    /// Whether SIGINT and SIGTERM end the keeper (`.interrupted`); a session keeps renewing until it is closed.
    public let stopsOnInterrupt: Bool
    /// A line when renewals start failing (they are retried) and one when a renewal gets through again, for
    /// stderr.
    public var notice: (String) -> Void = { _ in }
    /// The TTL the last reply gave, in seconds (0 until one came, unless `confirmed` was called).
    public private(set) var ttl: Int64 = 0
    /// The endpoint that answered last, or was tried last, for messages.
    public private(set) var lastEndpoint: String

    private var nextRenewal: UInt64
    private var deadline: UInt64
    private let perAttemptMilliseconds: Int

    /// `firstReplyMilliseconds`: how long renewals may fail before the first reply before the lease counts as
    /// lost (its TTL is not known yet). Each attempt is also limited to the client's command timeout.
    public init(client: GatewayClient, id: Int64, firstReplyMilliseconds: Int, stopsOnInterrupt: Bool = true) {
        self.client = client
        self.id = id
        self.stopsOnInterrupt = stopsOnInterrupt
        perAttemptMilliseconds = client.commandTimeoutMilliseconds
        lastEndpoint = client.endpoints[client.current].baseURL
        let now = monotonicNanoseconds()
        nextRenewal = now
        deadline = now + UInt64(max(1, firstReplyMilliseconds)) * 1_000_000
    }

    /// The lease was granted or renewed just now with `ttl` seconds: the first renewal waits a third of it.
    public func confirmed(ttl: Int64) {
        let now = monotonicNanoseconds()
        self.ttl = ttl
        nextRenewal = now + LeaseKeeper.renewalInterval(ttl)
        deadline = now + UInt64(max(1, ttl)) * 1_000_000_000
    }

    /// A third of the TTL, in nanoseconds, as etcd's client waits between renewals.
    static func renewalInterval(_ ttl: Int64) -> UInt64 { UInt64(max(1, ttl)) * 1_000_000_000 / 3 }

    /// Renews until the lease is gone, the keeper is stopped, or no renewal gets through in time. `onRenewal`
    /// sees each reply with TTL left, and returns false to stop.
    public func run(onRenewal: (LeaseKeepAliveResponse) -> Bool) -> LeaseKeepAliveEnd {
        defer { client.commandTimeoutMilliseconds = perAttemptMilliseconds }
        var reconnect = Reconnect()
        var lastFailure: GatewayError?
        var failures = 0
        while true {
            guard pause(until: nextRenewal) else { return stopReason }
            let now = monotonicNanoseconds()
            if now >= deadline { return .lost(lastFailure) }
            // No attempt may outlast the lease: the keeper must say it is lost while it may still be alive.
            client.commandTimeoutMilliseconds = max(1, min(perAttemptMilliseconds, Int((deadline - now) / 1_000_000)))
            lastEndpoint = client.endpoints[client.current].baseURL
            let reply: LeaseKeepAliveResponse
            do {
                reply = try client.keepAliveOnce(id)
            } catch {
                if error.isAborted || (stopsOnInterrupt && Interrupt.requested) { return .interrupted }
                if stopSignal.isStopped { return .stopped }
                if let end = LeaseKeeper.final(error, endpoint: lastEndpoint) { return end }
                // Before anything is known of the lease, no endpoint that accepts connections is an error at once,
                // as for any command; once renewals have worked, a restarting member is waited for.
                if ttl == 0, case .unreachable = error { return .lost(error) }
                lastFailure = error
                failures += 1
                _ = reconnect.ended(working: false)
                if failures == 1 {
                    let tenths = (deadline - min(deadline, monotonicNanoseconds())) / 100_000_000
                    notice("etch: renewing lease \(LeaseKeeper.hex(id)) failed (\(error.message)); retrying, on every endpoint, for the \(tenths / 10).\(tenths % 10)s it may still be alive")
                }
                do {
                    try reconnect.advance(client) { ms in _ = self.pause(until: min(self.deadline, monotonicNanoseconds() + UInt64(ms) * 1_000_000)) }
                } catch {
                    // Only refused credentials end it here; an unreachable member is retried.
                    return .failed(error)
                }
                nextRenewal = monotonicNanoseconds()
                continue
            }
            lastEndpoint = client.endpoints[client.current].baseURL
            if reply.TTL <= 0 { return .expired(endpoint: lastEndpoint) }
            _ = reconnect.ended(working: true)
            if failures > 0 {
                notice("etch: lease \(LeaseKeeper.hex(id)) renewed by \(lastEndpoint) after \(failures) failed attempt\(failures == 1 ? "" : "s")")
            }
            failures = 0
            lastFailure = nil
            confirmed(ttl: reply.TTL)
            if !onRenewal(reply) { return .stopped }
        }
    }

    /// Why the keeper stops when `pause` was cut short.
    private var stopReason: LeaseKeepAliveEnd { stopSignal.isStopped ? .stopped : .interrupted }

    /// Waits until `time` (CLOCK_MONOTONIC nanoseconds); false when cut short by `stop()` or an interrupt.
    private func pause(until time: UInt64) -> Bool {
        while true {
            if stopSignal.isStopped || (stopsOnInterrupt && Interrupt.requested) { return false }
            let now = monotonicNanoseconds()
            if now >= time { return true }
            var slice = Int((time - now + 999_999) / 1_000_000)
            // A signal handler cannot wake the wait: look at the interrupt flag now and then.
            if stopsOnInterrupt { slice = min(slice, 50) }
            if stopSignal.wait(milliseconds: slice) { return false }
        }
    }

    /// The end a failed renewal means at once, or nil when it is worth retrying elsewhere: a broken or refused
    /// connection, a timeout, a member without a leader or busy with an election.
    static func final(_ error: GatewayError, endpoint: String) -> LeaseKeepAliveEnd? {
        guard case let .server(code, message, _) = error else { return nil }
        if code == GatewayError.Code.notFound && message.contains("lease not found") { return .expired(endpoint: endpoint) }
        let permanent = [GatewayError.Code.invalidArgument, GatewayError.Code.permissionDenied,
                         GatewayError.Code.failedPrecondition, GatewayError.Code.outOfRange,
                         GatewayError.Code.unauthenticated, 12]  // 12: unimplemented
        return permanent.contains(code) ? .failed(error) : nil
    }

    /// A lease ID as etcdctl prints it: Go's `%016x` of an int64 (`-000000000000001` for -1).
    public static func hex(_ id: Int64) -> String {
        let digits = String(id.magnitude, radix: 16)
        let width = id < 0 ? 15 : 16
        return (id < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A lease held for as long as its owner runs, as etcd's `concurrency.Session`: granted (or adopted), kept alive
/// on a thread of its own with failover (`LeaseKeeper`), reported through `onLoss` when it is lost, and revoked
/// on `close()`. What `lock` and `elect` hold their keys with.
///
/// The keeper's thread has its own connection (a sibling of the caller's client) that SIGINT and SIGTERM do not
/// abort, so the lease outlives an interrupt until the owner has cleaned up and closes the session. A session
/// dropped without `close()` stops renewing (and leaves the lease to expire).
public final class LeaseSession: @unchecked Sendable {
    public let id: Int64
    /// The TTL the server granted (or confirmed for an adopted lease), in seconds.
    public let ttl: Int64
    private let keeper: LeaseKeeper
    private let outcome = Outcome()
    private var work: BackgroundWork?

    /// How the keeper ended, shared with its thread.
    private final class Outcome: @unchecked Sendable {
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var stored: LeaseKeepAliveEnd?
        init() { pthread_mutex_init(mutex, nil) }
        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }
        var value: LeaseKeepAliveEnd? {
            get { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return stored }
            set { pthread_mutex_lock(mutex); stored = newValue; pthread_mutex_unlock(mutex) }
        }
    }

    /// Grants a lease of `ttl` seconds through `client` and starts keeping it alive. `onLoss` is called once, on
    /// the keeper's thread, if the lease is lost (`.expired`, `.lost` or `.failed`) before the session is closed;
    /// `notice` gets the keeper's lines about failing and recovered renewals, on that thread too.
    public static func grant(_ client: GatewayClient, ttl: Int64, notice: @escaping (String) -> Void = { _ in },
                             onLoss: @escaping @Sendable (LeaseKeepAliveEnd) -> Void = { _ in }) throws(GatewayError) -> LeaseSession {
        // Sent again elsewhere when a member fails under it: a lease the first attempt may have granted has no
        // key attached and nobody renews it, so it only expires after its TTL (unlike `lease grant`, whose user
        // would be told one ID while another exists).
        let reply = try client.idempotent { () throws(GatewayError) in try client.unary(LeaseGrantRequest(TTL: ttl)) }
        if !reply.error.isEmpty { throw .server(code: 2, message: reply.error, httpStatus: 200) }
        return LeaseSession(client: client, id: reply.ID, ttl: reply.TTL, notice: notice, onLoss: onLoss)
    }

    /// Keeps an existing lease alive (after a restart, to hold on to what it holds): one renewal first, which
    /// must find the lease, else etcd's `requested lease not found`.
    public static func adopt(_ client: GatewayClient, id: Int64, notice: @escaping (String) -> Void = { _ in },
                             onLoss: @escaping @Sendable (LeaseKeepAliveEnd) -> Void = { _ in }) throws(GatewayError) -> LeaseSession {
        let reply = try client.keepAliveOnce(id)
        guard reply.TTL > 0 else { throw .server(code: GatewayError.Code.notFound, message: "etcdserver: requested lease not found", httpStatus: 404) }
        return LeaseSession(client: client, id: id, ttl: reply.TTL, notice: notice, onLoss: onLoss)
    }

    private init(client: GatewayClient, id: Int64, ttl: Int64, notice: @escaping (String) -> Void,
                 onLoss: @escaping @Sendable (LeaseKeepAliveEnd) -> Void) {
        self.id = id
        self.ttl = ttl
        let own = client.sibling()
        own.transport.abortsOnInterrupt = false
        let keeper = LeaseKeeper(client: own, id: id, firstReplyMilliseconds: Int(max(1, ttl)) * 1000, stopsOnInterrupt: false)
        keeper.confirmed(ttl: ttl)
        keeper.notice = notice
        self.keeper = keeper
        let outcome = outcome
        work = BackgroundWork {
            let end = keeper.run { _ in true }
            outcome.value = end
            if end != .stopped { onLoss(end) }
        }
    }

    deinit { orphan() }

    /// How the keeper ended, once the lease is lost (nil while it is kept alive, and after `orphan` or `close`).
    public var loss: LeaseKeepAliveEnd? {
        let end = outcome.value
        return end == .stopped ? nil : end
    }

    /// Stops renewing and leaves the lease to expire (when revoking cannot work, or another process takes it
    /// over). Waits for a renewal under way, at most the command timeout.
    public func orphan() {
        keeper.stopSignal.stop()
        work?.join()
        work = nil
    }

    /// Stops renewing and revokes the lease, deleting the keys attached to it. A lease already gone is not an
    /// error. Uses the keeper's connection, which an interrupt does not abort.
    ///
    /// Unlike a put, a revoke may be sent again when its outcome is unknown (the member died mid-request, or
    /// timed out without a leader): a second revoke of a revoked lease only finds it gone. So a failed revoke
    /// is tried on the other endpoints (`GatewayClient.idempotent`): a lock released while a member dies is
    /// released at once, not a TTL later (found by the mutual exclusion test, where each such release stalled
    /// every waiter 10 s).
    public func close() throws(GatewayError) {
        orphan()
        let client = keeper.client
        do {
            _ = try client.idempotent { () throws(GatewayError) in try client.unary(LeaseRevokeRequest(ID: id)) }
        } catch let .server(code, message, _) where code == GatewayError.Code.notFound && message.contains("lease not found") {
            return
        }
    }
}
