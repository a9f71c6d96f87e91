import EtchTransport

/// Snapshot, then watch: reads a range at one consistent revision R, then watches it from R+1 through every
/// disconnect, so no change between the read and the watch is missed or seen twice. What `watch --list` and
/// `wait` (and later make-mirror, lock and elect) are made of.
///
/// The snapshot is delivered as PUT events (phase `.listing`), page by page, followed by `listed`. When the
/// server compacts past the watch while it is disconnected, the range is read again at a fresh revision and
/// only the difference is delivered (PUT for new or changed keys, DELETE for keys that vanished), then
/// `listed` again: the consumer's picture of the range stays exact. With a resync interval the whole range is
/// delivered again each time it passes.
public final class SnapshotWatch {
    public enum Phase: Sendable { case listing, watching }

    public let client: GatewayClient
    /// The range and watch options (key, range end, prev_kv, ...); its start revision is set here.
    public let request: WatchCreateRequest
    public var timing: WatchTiming
    /// Give up after this long without a working connection; nil retries forever.
    public var retryTimeoutMilliseconds: Int?
    /// One line per reconnect, for stderr.
    public var notice: (String) -> Void = { _ in }
    /// Told when the history was compacted past the watch: (compact revision, the revision the watch needed).
    public var onCompacted: (Int64, Int64) -> Void = { _, _ in }
    /// Each key's mod revision as last delivered, to compute the difference after a compaction.
    private var known: [[UInt8]: Int64] = [:]
    private var stopped = false

    public init(client: GatewayClient, request: WatchCreateRequest, timing: WatchTiming) {
        self.client = client
        self.request = request
        self.timing = timing
    }

    /// Reads the range at a fresh revision into `emit`: every key (`all`), or only what differs from what
    /// was delivered before. Returns the snapshot's revision.
    private func list(all: Bool, emit: (WatchResponse, Phase) -> Bool) throws -> Int64 {
        var range = RangeRequest(key: request.key)
        range.rangeEnd = request.rangeEnd
        let sink = SnapshotSink()
        var seen: [[UInt8]: Int64] = [:]
        try withoutActuallyEscaping(emit) { emit in
            sink.onPage = { [self] header, kvs in
                guard !stopped else { return }
                var events: [Event] = []
                for kv in kvs {
                    seen[kv.key] = kv.modRevision
                    if all || known[kv.key] != kv.modRevision { events.append(Event(type: .put, kv: kv)) }
                }
                if !events.isEmpty && !emit(WatchResponse(header: header, events: events), .listing) { stopped = true }
            }
            defer { sink.onPage = { _, _ in } }
            try RangeReader.read(range, client: client, into: sink)
        }
        let revision = sink.header.revision
        if stopped { return revision }
        let vanished = known.keys.filter { seen[$0] == nil }.sorted { $0.lexicographicallyPrecedes($1) }
        if !vanished.isEmpty {
            let events = vanished.map { Event(type: .delete, kv: KeyValue(key: $0, modRevision: revision)) }
            if !emit(WatchResponse(header: sink.header, events: events), .listing) { stopped = true }
        }
        known = seen
        return revision
    }

    /// Runs until `emit` or `listed` returns false, the user's stop time, an interrupt, a cancel that is not
    /// a compaction, or the retry timeout. `resyncNanoseconds` delivers the whole range again at that interval.
    public func run(userStop: UInt64?, resyncNanoseconds: UInt64? = nil,
                    emit: (WatchResponse, Phase) -> Bool, listed: (Int64) -> Bool = { _ in true }) throws -> WatchOutcome {
        var revision = try list(all: true, emit: emit)
        if !stopped && !listed(revision) { stopped = true }
        while !stopped {
            var create = request
            create.startRevision = revision + 1
            let session = WatchSession(client: client, request: create, resuming: true)
            var timing = self.timing
            let resyncAt = resyncNanoseconds.map { monotonicNanoseconds() + $0 }
            timing.stopAt = [userStop, resyncAt].compactMap { $0 }.min()
            let watch = ResilientWatch(session: session, timing: timing)
            watch.notice = notice
            watch.retryTimeoutMilliseconds = retryTimeoutMilliseconds
            var known = self.known
            let outcome = try watch.run { response in
                for e in response.events {
                    if e.type == .put { known[e.kv.key] = e.kv.modRevision } else { known[e.kv.key] = nil }
                }
                return emit(response, .watching)
            }
            self.known = known
            switch outcome {
            case let .canceled(r) where r.compactRevision != 0:
                onCompacted(r.compactRevision, session.resumePoint.nextRevision)
                revision = try list(all: false, emit: emit)
            case .deadline:
                if let stop = userStop, monotonicNanoseconds() >= stop { return .deadline }
                revision = try list(all: true, emit: emit)
            default:
                return outcome
            }
            if !stopped && !listed(revision) { stopped = true }
        }
        return .stoppedByConsumer
    }
}

/// Collects a snapshot's header and hands on its pages.
private final class SnapshotSink: RangeSink {
    var header = ResponseHeader()
    var onPage: (ResponseHeader, [KeyValue]) -> Void = { _, _ in }
    func begin(_ header: ResponseHeader) { self.header = header }
    func page(_ kvs: [KeyValue], first: Bool) { onPage(header, kvs) }
    func end(more: Bool, count: Int64, anyKVs: Bool) {}
}

/// Points in time on the monotonic clock, for commands' --timeout (so no command needs the transport).
public enum Deadline {
    /// The monotonic time `nanoseconds` from now (a negative duration is now).
    public static func after(nanoseconds: Int64) -> UInt64 { monotonicNanoseconds() + UInt64(max(0, nanoseconds)) }
    public static var now: UInt64 { monotonicNanoseconds() }
}
