import EtchGateway
import EtchOutput

/// `etch wait`: blocks until a key (or a range) meets a condition, for CI scripts.
enum WaitCommand {
    static let spec = CommandSpec(
        name: "wait",
        summary: "Waits until a key or range meets a condition (exists, deleted, value=V, changed)",
        arguments: "[options] <key> [range_end] --for exists|deleted|value=V|changed",
        description: """
        Checks the current state and, if the condition does not hold yet, watches from exactly the revision it \
        checked, so no change between the check and the watch can be missed. exists: some key in the range \
        exists; deleted: none does; value=V: some key has the value V; changed: anything in the range changes \
        after the check. Prints the matching key-value pairs in the chosen output format (as get does; nothing \
        for deleted) unless -q, and exits 0; exits 124 when --timeout runs out first. Survives disconnects; if \
        history is compacted while disconnected, it checks again instead of guessing.
        """,
        examples: [
            ("etch wait /ready --for exists --timeout 60s", "block a CI step until a service registers"),
            ("etch wait /config/mode --for value=maintenance -q", "wait for a value, print nothing"),
            ("etch wait /locks/ --prefix --for deleted", "wait until every lock under /locks/ is gone"),
            ("etch wait /leader --for changed -w json | jq .kvs", "wait for the next change"),
        ],
        flags: [
            FlagSpec("for", .string, "The condition: exists, deleted, value=V or changed", choices: ["exists", "deleted", "value=", "changed"]),
            FlagSpec("prefix", .bool, "Wait on every key with the prefix <key>"),
            FlagSpec("quiet", short: "q", .bool, "Print nothing; only the exit code tells"),
            FlagSpec("timeout", .duration, "Give up with exit code 124 after this long"),
        ],
        operands: .keys(2)
    )

    enum Condition: Equatable {
        case exists, deleted, changed
        case value([UInt8])
    }

    struct Plan: Equatable {
        var key: [UInt8]
        var rangeEnd: [UInt8]
        var condition: Condition
    }

    static func plan(_ a: ParsedArguments) throws(CLIError) -> Plan {
        guard (1...2).contains(a.positionals.count) else {
            throw CLIError(.badArgs, "wait command needs one argument as key and an optional argument as range_end")
        }
        var key = RawArgument.bytes(a.positionals[0])
        var end: [UInt8] = []
        if a.positionals.count == 2 {
            if a.bool("prefix") { throw CLIError(.badArgs, "`range_end` and `--prefix` are mutually exclusive") }
            end = RawArgument.bytes(a.positionals[1])
        }
        (key, end) = resolveRange(key: key, rangeEnd: end, prefix: a.bool("prefix"), fromKey: false)
        let condition: Condition
        switch a.string("for") {
        case "exists": condition = .exists
        case "deleted": condition = .deleted
        case "changed": condition = .changed
        case let v? where v.hasPrefix("value="): condition = .value(RawArgument.bytes(String(v.dropFirst(6))))
        case nil: throw CLIError(.badArgs, "wait needs --for exists|deleted|value=V|changed")
        case let v?: throw CLIError(.badArgs, "unknown condition \(goQuote(v)) for --for: use exists, deleted, value=V or changed")
        }
        return Plan(key: key, rangeEnd: end, condition: condition)
    }

    /// The keys that make the condition hold in `state`, or nil when it does not hold.
    static func matches(_ condition: Condition, state: [[UInt8]: KeyValue], initial: [[UInt8]: KeyValue]) -> [KeyValue]? {
        let sorted = state.values.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        switch condition {
        case .exists: return sorted.isEmpty ? nil : sorted
        case .deleted: return sorted.isEmpty ? [] : nil
        case let .value(v):
            let hits = sorted.filter { $0.value == v }
            return hits.isEmpty ? nil : hits
        case .changed:
            let same = state.count == initial.count && state.allSatisfy { initial[$0.key]?.modRevision == $0.value.modRevision }
            return same ? nil : sorted.filter { initial[$0.key]?.modRevision != $0.modRevision }
        }
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let plan = try plan(ctx.arguments)
        let printer = try ctx.printer()
        let client = try ctx.makeClient()
        let quiet = ctx.arguments.bool("quiet")
        let timeoutText = ctx.arguments.string("timeout")
        let stopAt = timeoutText.flatMap(GoDuration.parse).map { Deadline.after(nanoseconds: $0) }
        // The check is the snapshot; the watch goes on from exactly the revision after it.
        var create = WatchCreateRequest(key: plan.key)
        create.rangeEnd = plan.rangeEnd
        let timing = WatchTiming(createMilliseconds: GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds)
        let watch = SnapshotWatch(client: client, request: create, timing: timing)
        watch.notice = ctx.notice
        watch.onCompacted = { compacted, _ in
            ctx.notice("etch: history was compacted up to revision \(compacted) while waiting; checking again")
        }
        var state: [[UInt8]: KeyValue] = [:]
        var initial: [[UInt8]: KeyValue]?
        var header: ResponseHeader?
        var hit: (kvs: [KeyValue], revision: Int64)?
        let outcome = try watch.run(userStop: stopAt, emit: { response, phase in
            if header == nil { header = response.header }
            for event in response.events {
                if event.type == .put { state[event.kv.key] = event.kv } else { state[event.kv.key] = nil }
                // Checked after each event of the watch; a snapshot is checked whole, once it is listed.
                if phase == .watching, let kvs = matches(plan.condition, state: state, initial: initial ?? [:]) {
                    hit = (kvs, event.kv.modRevision)
                    return false
                }
            }
            return true
        }, listed: { revision in
            if initial == nil { initial = state }
            if let kvs = matches(plan.condition, state: state, initial: initial!) {
                hit = (kvs, revision)
                return false
            }
            return true
        })
        if let hit {
            if !quiet {
                var h = header ?? ResponseHeader()
                h.revision = hit.revision
                printer.get(RangeResponse(header: h, kvs: hit.kvs, count: Int64(hit.kvs.count)), to: ctx.stdout)
            }
            return .success
        }
        switch outcome {
        case .deadline:
            throw CLIError(.timedOut, "timed out after \(timeoutText ?? "") waiting for \(goQuote(RawArgument.decode(plan.key))) (--for \(ctx.arguments.string("for") ?? ""))")
        case .interrupted:
            ctx.exitBySignal()
        case .canceled:
            throw CLIError(.interrupted, "watch is canceled by the server")
        case let .gaveUp(reason):
            throw reason ?? CLIError(.error, "gave up waiting")
        case .stoppedByConsumer:
            return .success
        }
    }
}
