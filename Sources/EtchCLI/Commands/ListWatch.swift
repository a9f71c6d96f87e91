import EtchGateway
import EtchTransport

/// `watch --list`: what informers do, for scripts. Prints the current state as PUT events at one consistent
/// revision R, then streams changes from R+1. After a compaction it lists again at a fresh revision and emits
/// only the difference (PUT for new or changed keys, DELETE for keys that vanished); `--resync` re-emits every
/// key as a PUT at each interval. Remembers each key's mod revision to compute the difference.
struct ListWatch {
    let ctx: Context
    let client: GatewayClient
    let request: WatchCreateRequest
    /// Prints one response; false stops.
    let emit: (WatchResponse) -> Bool
    var known: [[UInt8]: Int64] = [:]
    var stopped = false

    /// Lists the range at a fresh revision; emits every key (`all`) or only what differs from `known`.
    mutating func list(all: Bool) throws -> Int64 {
        var range = RangeRequest(key: request.key)
        range.rangeEnd = request.rangeEnd
        var seen: [[UInt8]: Int64] = [:]
        var header = ResponseHeader()
        let revision = try RangePager(client: client, request: range).forEachPage { page in
            header = page.header
            var events: [Event] = []
            for kv in page.kvs {
                seen[kv.key] = kv.modRevision
                if all || known[kv.key] != kv.modRevision { events.append(Event(type: .put, kv: kv)) }
            }
            if !events.isEmpty && !emit(WatchResponse(header: page.header, events: events)) {
                stopped = true
                return false
            }
            return true
        }
        if stopped { return revision }
        let vanished = known.keys.filter { seen[$0] == nil }.sorted { $0.lexicographicallyPrecedes($1) }
        if !vanished.isEmpty {
            header.revision = revision
            let events = vanished.map { Event(type: .delete, kv: KeyValue(key: $0, modRevision: revision)) }
            if !emit(WatchResponse(header: header, events: events)) { stopped = true }
        }
        known = seen
        return revision
    }

    mutating func run(timing base: WatchTiming, userStop: UInt64?, resyncNanoseconds: UInt64?, retryTimeout: Int?) throws -> WatchOutcome {
        var revision = try list(all: true)
        while !stopped {
            var create = request
            create.startRevision = revision + 1
            let session = WatchSession(client: client, request: create, resuming: true)
            var timing = base
            let resyncAt = resyncNanoseconds.map { monotonicNanoseconds() + $0 }
            timing.stopAt = [userStop, resyncAt].compactMap { $0 }.min()
            let watch = ResilientWatch(session: session, timing: timing)
            watch.notice = ctx.notice
            watch.retryTimeoutMilliseconds = retryTimeout
            var known = self.known
            let outcome = try watch.run { response in
                for e in response.events {
                    if e.type == .put { known[e.kv.key] = e.kv.modRevision } else { known[e.kv.key] = nil }
                }
                return emit(response)
            }
            self.known = known
            switch outcome {
            case let .canceled(r) where r.compactRevision != 0:
                ctx.notice("etch: history was compacted up to revision \(r.compactRevision) while the watch was at revision \(session.resumePoint.nextRevision); listing again and emitting the difference")
                revision = try list(all: false)
            case .deadline:
                if let stop = userStop, monotonicNanoseconds() >= stop { return .deadline }
                revision = try list(all: true)
            default:
                return outcome
            }
        }
        return .stoppedByConsumer
    }
}
