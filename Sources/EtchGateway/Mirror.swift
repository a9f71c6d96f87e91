import EtchTransport
import Glibc
import Synchronization

/// What `make-mirror` copies and where to.
public struct MirrorPlan: Sendable, Equatable {
    /// The source keys to mirror: those with this prefix (empty: every key).
    public var prefix: [UInt8]
    /// What replaces `prefix` at the start of each key in the destination.
    public var destinationPrefix: [UInt8]
    /// At most this many operations per destination transaction (etcd's `--max-txn-ops`, 128 by default).
    public var maxTxnOps = 128
    /// Start watching at this source revision with no initial copy (etcd 3.6's `--rev`); 0: copy first.
    public var startRevision: Int64 = 0
    /// A destination key that holds the last source revision applied, written in the same transaction as the
    /// changes; nil: none (etcdctl's behaviour: nothing but the mirrored keys is written).
    public var checkpointKey: [UInt8]?

    public init(prefix: [UInt8], destinationPrefix: [UInt8]) {
        self.prefix = prefix
        self.destinationPrefix = destinationPrefix
    }

    /// The destination key of a source key: etcdctl replaces the first occurrence of the prefix, which for a
    /// key of the range is its start.
    public func destinationKey(_ key: [UInt8]) -> [UInt8] { destinationPrefix + key.dropFirst(prefix.count) }

    /// The source range: the prefix's keys, or every key from `\0`.
    public var sourceRange: (key: [UInt8], rangeEnd: [UInt8]) {
        prefix.isEmpty ? ([0], [0]) : (prefix, prefixRangeEnd(prefix))
    }

    /// Whether a mirrored key could land on the checkpoint key (then the checkpoint would be overwritten).
    public var checkpointInsideMirror: Bool {
        guard let key = checkpointKey else { return false }
        return key.starts(with: destinationPrefix)
    }
}

/// The counters a progress line reads, updated as the mirror works (from another thread).
public final class MirrorCounters: Sendable {
    /// Keys put and deleted in the destination so far (etcdctl's count).
    public let keys = Atomic<Int64>(0)
    /// The last source revision wholly applied to the destination.
    public let appliedRevision = Atomic<Int64>(0)
    /// The source's revision in the last message received from it.
    public let sourceRevision = Atomic<Int64>(0)
    /// True once the initial copy is done (or skipped).
    public let watching = Atomic<Bool>(false)

    public init() {}

    /// The counters now, for a progress line.
    public func snapshot() -> MirrorProgress {
        MirrorProgress(keys: keys.load(ordering: .relaxed), appliedRevision: appliedRevision.load(ordering: .relaxed),
                       sourceRevision: sourceRevision.load(ordering: .relaxed), watching: watching.load(ordering: .relaxed))
    }
}

/// One `make-mirror` progress report: the keys put and deleted so far (etcdctl's line), the last source
/// revision applied, the source's revision as last seen, and how far behind that the mirror is.
public struct MirrorProgress: Sendable, Equatable {
    public var keys: Int64
    public var appliedRevision: Int64
    public var sourceRevision: Int64
    /// False during the initial copy.
    public var watching: Bool

    public init(keys: Int64, appliedRevision: Int64, sourceRevision: Int64, watching: Bool) {
        self.keys = keys
        self.appliedRevision = appliedRevision
        self.sourceRevision = sourceRevision
        self.watching = watching
    }

    /// Source revisions not yet applied (0 when caught up with what the source last said).
    public var lag: Int64 { max(0, sourceRevision - appliedRevision) }
}

/// Why a mirror stopped that is not a gateway error: a checkpoint that does not belong to this mirror.
public struct MirrorError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// etcdctl's make-mirror, made reliable: copies the source range at one revision R into the destination in
/// transactions of `maxTxnOps` puts, then follows the source's changes from R+1 with the resilient watch, one
/// destination transaction per source revision (puts and deletes), in order.
///
/// - Source disconnects: the copy goes on after the last key received, at the same revision; the watch resumes
///   at its exact resume point. The events of a revision cut in two wait for the rest, so a revision is
///   applied whole.
/// - Destination disconnects: a transaction whose outcome is unknown is sent again in a form that cannot apply
///   it twice: with a checkpoint key, its compare on the checkpoint's value; without, as "unless every key
///   already holds its final value (deleted keys absent), apply". A destination that was never reached is an
///   error at once; afterwards etch retries with backoff until it comes back (Ctrl-C stops).
/// - Restarts: with a checkpoint key the last applied revision is written in the same transaction as the
///   changes, so a restarted mirror resumes the watch right after it (no copy), and a revision is never applied
///   twice or skipped.
public final class Mirror {
    public let source: GatewayClient
    public let destination: GatewayClient
    public let plan: MirrorPlan
    public var timing: WatchTiming
    /// One line per disconnect, retry or resume, for stderr.
    public var notice: (String) -> Void = { _ in }
    public let counters = MirrorCounters()
    /// Keys per page of the initial copy's range reads (etcdctl's syncer reads 1000).
    public var pageKeys: Int64 = 1000
    /// A destination transaction carries at most about this many bytes of keys and values (etcd refuses
    /// requests over 1.5 MiB by default).
    public var maxTxnBytes = 1 << 20

    /// The checkpoint key's value in the destination as last written or read; nil when it does not exist.
    private var checkpointValue: [UInt8]?
    private var destinationReached = false
    private var sourceClusterID: UInt64 = 0

    public init(source: GatewayClient, destination: GatewayClient, plan: MirrorPlan, timing: WatchTiming) {
        self.source = source
        self.destination = destination
        self.plan = plan
        self.timing = timing
    }

    /// Runs until interrupted (`.interrupted`), the server cancels the watch (`.canceled`, e.g. compaction),
    /// or an error is thrown.
    public func run() throws -> WatchOutcome {
        var start = plan.startRevision
        var resumed = false
        if let key = plan.checkpointKey {
            let r = try destinationCall { () throws(GatewayError) in try destination.range(RangeRequest(key: key)) }
            if let kv = r.kvs.first {
                checkpointValue = kv.value
                guard let (revision, cluster) = Mirror.parseCheckpoint(kv.value) else {
                    throw MirrorError("the checkpoint key \(GoQuoteLite.quote(key)) in the destination holds \(GoQuoteLite.quote(kv.value)), not a make-mirror checkpoint")
                }
                if start == 0 {
                    start = revision + 1
                    sourceClusterID = cluster
                    resumed = true
                    notice("etch: resuming from the checkpoint: source revision \(revision) was applied; watching from \(start)")
                }
            }
        }
        if start == 0 {
            start = try copy() + 1
        } else {
            counters.appliedRevision.store(start - 1, ordering: .relaxed)
        }
        counters.watching.store(true, ordering: .relaxed)
        return try follow(from: start, resuming: !resumed && plan.startRevision == 0)
    }

    // MARK: initial copy

    /// Copies the range at one revision, page by page; a broken read goes on after the last key received.
    /// Keys are written in full transactions of `maxTxnOps` (the rest at the end), however the reads broke.
    /// Returns the revision copied.
    func copy() throws -> Int64 {
        let (first, end) = plan.sourceRange
        var key = first
        var revision: Int64 = 0
        var reconnect = Reconnect()
        var pending: [([UInt8], [UInt8]?)] = []
        var limit = pageKeys
        func flush(all: Bool) throws {
            let whole = all ? pending.count : pending.count - pending.count % plan.maxTxnOps
            guard whole > 0 else { return }
            try apply(Array(pending[..<whole]), revision: nil)
            counters.keys.add(Int64(whole), ordering: .relaxed)
            pending.removeFirst(whole)
        }
        while true {
            var request = RangeRequest(key: key)
            request.rangeEnd = end
            request.limit = limit
            request.revision = revision
            var got: [KeyValue] = []
            var more = false
            var failure: GatewayError?
            do {
                let page = try source.rangeStreaming(request, onHeader: { header in
                    if revision == 0 {
                        revision = header.revision
                        sourceClusterID = header.clusterID
                    }
                }, onKVs: { got += $0 })
                more = page.more
                limit = min(pageKeys, limit * 2)
            } catch {
                if Interrupt.requested || revision == 0 { throw error }
                if case let .server(_, message, _) = error {
                    guard message.contains("required revision has been compacted") else { throw error }
                    // The copy's revision was compacted while it ran: start again at a fresh one.
                    notice("etch: the source compacted revision \(revision) during the initial copy; copying again at the current revision")
                    key = first
                    revision = 0
                    continue
                }
                failure = error
                // A connection that breaks often: ask for smaller pages, so each attempt costs the server less.
                limit = max(16, limit / 2)
            }
            if !got.isEmpty {
                pending += got.map { (plan.destinationKey($0.key), $0.value) }
                key = got[got.count - 1].key + [0]
                try flush(all: false)
            }
            if let failure {
                guard reconnect.ended(working: !got.isEmpty) else { throw failure }
                if !got.isEmpty {
                    reconnect = Reconnect()
                } else {
                    notice("etch: reading the source for the initial copy failed (\(failure.message)); going on after the last key copied")
                }
                try reconnect.advance(source)
                continue
            }
            if !more { break }
        }
        try flush(all: true)
        if plan.checkpointKey != nil { try apply([], revision: revision) }
        counters.appliedRevision.store(revision, ordering: .relaxed)
        counters.sourceRevision.store(revision, ordering: .relaxed)
        return revision
    }

    // MARK: following changes

    /// Watches the range from `start` and applies each revision's events in one destination transaction.
    func follow(from start: Int64, resuming: Bool) throws -> WatchOutcome {
        let (key, end) = plan.sourceRange
        var create = WatchCreateRequest(key: key)
        create.rangeEnd = end
        create.startRevision = start
        let session = WatchSession(client: source, request: create, resuming: resuming)
        let watch = ResilientWatch(session: session, timing: timing)
        watch.notice = notice
        var pending: [Event] = []
        var failure: (any Error)?
        let outcome = try watch.run { response in
            if response.header.clusterID != 0 {
                if sourceClusterID == 0 { sourceClusterID = response.header.clusterID }
                if sourceClusterID != response.header.clusterID {
                    failure = MirrorError("the checkpoint was written for source cluster \(hex(sourceClusterID)), but the source is cluster \(hex(response.header.clusterID)): delete the checkpoint key to copy again")
                    return false
                }
            }
            let seen = counters.sourceRevision.load(ordering: .relaxed)
            counters.sourceRevision.store(max(seen, response.header.revision), ordering: .relaxed)
            pending += response.events
            // A message cut off mid-revision: that revision's other events come on the next connection.
            let point = session.resumePoint
            let hold = point.deliveredAtNext > 0 ? point.nextRevision : Int64.max
            do {
                try applyEvents(&pending, before: hold)
            } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
        return outcome
    }

    /// Applies the whole revisions at the head of `events` that precede `hold`, one transaction each.
    private func applyEvents(_ events: inout [Event], before hold: Int64) throws {
        var i = 0
        while i < events.count, events[i].kv.modRevision < hold {
            let revision = events[i].kv.modRevision
            var j = i
            var ops: [([UInt8], [UInt8]?)] = []
            while j < events.count, events[j].kv.modRevision == revision {
                let e = events[j]
                ops.append((plan.destinationKey(e.kv.key), e.type == .put ? e.kv.value : nil))
                j += 1
            }
            try apply(ops, revision: revision)
            counters.keys.add(Int64(ops.count), ordering: .relaxed)
            counters.appliedRevision.store(revision, ordering: .relaxed)
            i = j
        }
        events.removeFirst(i)
    }

    // MARK: destination writes

    /// Writes `ops` (a nil value deletes) in transactions of at most `maxTxnOps` operations; with `revision`
    /// and a checkpoint key, the last one also records `revision` as applied.
    func apply(_ ops: [([UInt8], [UInt8]?)], revision: Int64?) throws {
        let checkpoint = plan.checkpointKey != nil ? revision : nil
        var start = 0
        repeat {
            let room = plan.maxTxnOps - (checkpoint != nil ? 1 : 0)
            var end = start
            var bytes = 0
            while end < ops.count, end - start < max(1, room) {
                let size = ops[end].0.count + (ops[end].1?.count ?? 0)
                if end > start && bytes + size > maxTxnBytes { break }
                bytes += size
                end += 1
            }
            let last = end == ops.count
            // Operations of one revision that need several transactions: the checkpoint goes with the last.
            try commit(Array(ops[start..<end]), checkpoint: last ? checkpoint : nil)
            start = end
        } while start < ops.count
    }

    /// One destination transaction, retried through disconnects without being applied twice.
    private func commit(_ ops: [([UInt8], [UInt8]?)], checkpoint: Int64?) throws {
        var outcomeUnknown = false
        var reconnect = Reconnect()
        var told = false
        let newValue = checkpoint.map { Mirror.checkpointValue(revision: $0, cluster: sourceClusterID) }
        if ops.isEmpty && newValue == nil { return }
        while true {
            let txn = transaction(ops, checkpoint: newValue, retry: outcomeUnknown)
            do {
                let reply = try destination.txn(txn)
                destinationReached = true
                if let newValue {
                    if !reply.succeeded {
                        var found: [UInt8]?
                        if case let .range(r)? = reply.responses.first { found = r.kvs.first?.value }
                        // The same transaction was applied by an attempt whose answer was lost.
                        guard found == newValue else {
                            throw MirrorError("the checkpoint key \(GoQuoteLite.quote(plan.checkpointKey ?? [])) changed in the destination (\(found.map { GoQuoteLite.quote($0) } ?? "deleted")); is another make-mirror writing to it?")
                        }
                    }
                    checkpointValue = newValue
                }
                if told { notice("etch: the destination answers again") }
                return
            } catch let error as GatewayError {
                if Interrupt.requested { throw error }
                switch error {
                case .unreachable:
                    if !destinationReached { throw error }
                case let .server(code, message, _):
                    guard Mirror.transient(code: code, message: message) else { throw error }
                    outcomeUnknown = true
                default:
                    outcomeUnknown = outcomeUnknown || error.writeOutcomeUnknown
                }
                if !told {
                    notice("etch: writing to the destination failed (\(error.message)); retrying until it answers")
                    told = true
                }
                _ = reconnect.ended(working: false)
                try reconnect.advance(destination)
            }
        }
    }

    /// The destination transaction for `ops`. With a checkpoint: if the checkpoint holds its last value, apply
    /// and move it; else read it (an earlier attempt applied this one when it holds the new value). Without,
    /// a retry applies only unless every key already has its final state, so a lost answer never repeats it.
    func transaction(_ ops: [([UInt8], [UInt8]?)], checkpoint: [UInt8]?, retry: Bool) -> TxnRequest {
        var writes: [RequestOp] = ops.map { key, value in
            if let value { return .put(PutRequest(key: key, value: value)) }
            return .deleteRange(DeleteRangeRequest(key: key))
        }
        if let checkpoint, let key = plan.checkpointKey {
            writes.append(.put(PutRequest(key: key, value: checkpoint)))
            let guardCompare = checkpointValue.map { Compare(key: key, result: .equal, target: .value($0)) }
                ?? Compare(key: key, result: .equal, target: .version(0))
            return TxnRequest(compare: [guardCompare], success: writes, failure: [.range(RangeRequest(key: key))])
        }
        guard retry else { return TxnRequest(success: writes) }
        let compares = ops.map { key, value in
            value.map { Compare(key: key, result: .equal, target: .value($0)) }
                ?? Compare(key: key, result: .equal, target: .version(0))
        }
        return TxnRequest(compare: compares, success: [], failure: writes)
    }

    /// A call to the destination outside a transaction (the checkpoint read), retried like one once the
    /// destination has been reached.
    private func destinationCall<T>(_ body: () throws(GatewayError) -> T) throws -> T {
        var reconnect = Reconnect()
        while true {
            do {
                let r = try body()
                destinationReached = true
                return r
            } catch {
                if Interrupt.requested { throw error }
                if case .unreachable = error, !destinationReached { throw error }
                if case let .server(code, message, _) = error, !Mirror.transient(code: code, message: message) { throw error }
                destinationReached = true
                _ = reconnect.ended(working: false)
                try reconnect.advance(destination)
            }
        }
    }

    /// Server errors after which the same request may succeed (an election, an overloaded member); the write
    /// may or may not have been applied.
    static func transient(code: Int, message: String) -> Bool {
        code == GatewayError.Code.unavailable || code == GatewayError.Code.deadlineExceeded
            || message.contains("leader changed") || message.contains("no leader") || message.contains("timed out")
            || message.contains("too many requests") || message.contains("not capable")
    }

    // MARK: checkpoint value

    /// `{"revision":N,"cluster_id":"hex"}`: the last source revision applied and the source cluster's ID.
    public static func checkpointValue(revision: Int64, cluster: UInt64) -> [UInt8] {
        Array("{\"revision\":\(revision),\"cluster_id\":\"\(hex(cluster))\"}".utf8)
    }

    public static func parseCheckpoint(_ value: [UInt8]) -> (revision: Int64, cluster: UInt64)? {
        guard let json = try? JSONParser.parse(value), let revision = json["revision"]?.int64Value, revision > 0,
              let id = json["cluster_id"]?.stringValue, let cluster = UInt64(id, radix: 16) else { return nil }
        return (revision, cluster)
    }
}

private func hex(_ v: UInt64) -> String { String(v, radix: 16) }

/// Keys and values in messages, printable.
enum GoQuoteLite {
    static func quote(_ bytes: [UInt8]) -> String {
        "\"" + GatewayError.printable(String(decoding: bytes, as: UTF8.self)) + "\""
    }
}

/// Runs `tick` on a thread of its own every interval until stopped (make-mirror's progress line, which
/// etcdctl prints from a goroutine whatever the main loop is doing).
public final class PeriodicTask: @unchecked Sendable {
    private let running = Atomic<Bool>(true)
    private var work: BackgroundWork?

    public init(intervalNanoseconds: UInt64, _ tick: @escaping @Sendable () -> Void) {
        work = BackgroundWork { [self] in
            var next = monotonicNanoseconds() + intervalNanoseconds
            while running.load(ordering: .relaxed) {
                usleep(20_000)
                guard monotonicNanoseconds() >= next else { continue }
                next += intervalNanoseconds
                tick()
            }
        }
    }

    /// Ends the thread and waits for it.
    public func stop() {
        running.store(false, ordering: .relaxed)
        work?.join()
        work = nil
    }
}
