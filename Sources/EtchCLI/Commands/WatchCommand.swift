import EtchGateway
import EtchOutput
import Glibc

/// `etch watch`: streams events on a key, a prefix or a range as they happen.
enum WatchCommand {
    static let spec = CommandSpec(
        name: "watch",
        summary: "Watches events stream on keys or prefixes",
        arguments: "[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
        description: """
        Prints each event (PUT or DELETE) on <key>, on the range [<key>, <range_end>) or on every key with the \
        prefix <key>, as soon as it happens; each response is written and flushed at once, so a pipe sees it live. \
        With --rev, history from that revision is replayed first. After '--', a command runs once per event with \
        ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and ETCD_WATCH_VALUE set. ETCDCTL_WATCH_KEY and \
        ETCDCTL_WATCH_RANGE_END may stand in for the key arguments. A start revision that has been compacted \
        ends the watch with exit code 5.
        """,
        examples: [
            ("etch watch foo", "print every change to foo"),
            ("etch watch --prefix /jobs/ -w json | jq -c '.Events[]'", "one JSON event per line through jq"),
            ("etch watch --prefix /jobs/ -w jsonl | jq -r 'select(.type == \"DELETE\") | .key'", "the keys deleted under /jobs/, as they go"),
            ("etch watch --rev 1 --prefix /", "replay all history still kept, then follow"),
            ("etch watch /config -- sh -c 'echo \"$ETCD_WATCH_KEY changed\"'", "run a command per event"),
        ],
        flags: [
            FlagSpec("interactive", short: "i", .bool, "Interactive mode"),
            FlagSpec("prefix", .bool, "Watch on a prefix if prefix is set"),
            FlagSpec("prev-kv", .bool, "get the previous key-value pair before the event happens"),
            FlagSpec("progress-notify", .bool, "get periodic watch progress notification from server"),
            FlagSpec("rev", .int64, default: "0", "Revision to start watching"),
            FlagSpec("list", .bool, "First print the current keys as PUT events at one revision, then follow changes from there; after a compaction, list again and print the difference"),
            FlagSpec("resync", .duration, "With --list: re-print every current key as a PUT at this interval"),
            FlagSpec("max-events", .int64, default: "0", "Exit 0 after printing this many events (0: no limit)"),
            FlagSpec("timeout", .duration, "Exit with code 124 when the watch has run this long"),
            FlagSpec("retry-timeout", .duration, "Give up (exit 1) when a broken watch has not reconnected for this long; by default it retries forever"),
        ],
        operands: .keys(2)
    )

    /// What to watch and what to run per event.
    struct Plan: Equatable {
        var request: WatchCreateRequest
        var exec: [String]
    }

    /// etcdctl's argument rules for watch, including the environment key and the `--` command.
    static func plan(_ a: ParsedArguments, environment: [String: String]) throws(CLIError) -> Plan {
        let envKey = environment["ETCDCTL_WATCH_KEY"] ?? ""
        let envRange = environment["ETCDCTL_WATCH_RANGE_END"] ?? ""
        if envKey.isEmpty && !envRange.isEmpty {
            throw CLIError(.badArgs, "ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=\(goQuote(envRange))")
        }
        var watchArgs = a.positionals
        var exec: [String] = []
        if let dash = a.dashDashIndex {
            exec = Array(a.positionals[dash...])
            watchArgs = Array(a.positionals[..<dash])
            if exec.isEmpty {
                throw CLIError(.badArgs, "bad number of arguments (found separator --, but no commands)")
            }
            if !envKey.isEmpty && !watchArgs.isEmpty {
                throw CLIError(.badArgs, "bad number of arguments (found conflicting environment key)")
            }
        } else {
            if watchArgs.isEmpty && envKey.isEmpty { throw CLIError(.badArgs, "bad number of arguments") }
            if !watchArgs.isEmpty && !envKey.isEmpty {
                throw CLIError(.badArgs, "bad number of arguments (found conflicting environment key)")
            }
        }
        if !envKey.isEmpty { watchArgs = [envKey] + (envRange.isEmpty ? [] : [envRange]) }
        guard let key = watchArgs.first else { throw CLIError(.badArgs, "bad number of arguments") }
        var r = WatchCreateRequest(key: RawArgument.bytes(key))
        let prefix = a.bool("prefix")
        if watchArgs.count == 2 {
            if prefix { throw CLIError(.badArgs, "`range_end` and `--prefix` are mutually exclusive") }
            r.rangeEnd = RawArgument.bytes(watchArgs[1])
        }
        (r.key, r.rangeEnd) = resolveRange(key: r.key, rangeEnd: r.rangeEnd, prefix: prefix, fromKey: false)
        r.startRevision = Int64(a.string("rev") ?? "0") ?? 0
        r.prevKV = a.bool("prev-kv")
        r.progressNotify = a.bool("progress-notify")
        return Plan(request: r, exec: exec)
    }

    /// Shows one response as etcdctl does (cancel reason and progress on their streams, the response in the
    /// output format, then the command once per event); returns the command's failure, if any.
    static func display(_ response: WatchResponse, printer: Printer, exec: [String], ctx: Context) -> CLIError? {
        let out = ctx.stdout
        if response.canceled { ctx.notice("watch was canceled (\(cancelReason(response)))") }
        if response.isProgressNotify { printer.progressNotify(revision: response.header.revision, to: out) }
        printer.watch(response, to: out)
        out.flush()
        if out.failed { return nil }
        for event in exec.isEmpty ? [] : response.events {
            if let failure = runExec(exec, event: event, revision: response.header.revision, environment: ctx.environment) {
                return failure
            }
        }
        return nil
    }

    /// The reason etcd's client gives for a canceled watch (clientv3 WatchResponse.Err).
    static func cancelReason(_ r: WatchResponse) -> String {
        if r.compactRevision != 0 { return "etcdserver: mvcc: required revision has been compacted" }
        if !r.cancelReason.isEmpty { return GatewayError.printable(r.cancelReason) }
        return "etcdserver: mvcc: required revision is a future revision"
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        if ctx.arguments.bool("interactive") { return try InteractiveWatch.run(ctx) }
        let plan = try plan(ctx.arguments, environment: ctx.environment)
        let printer = try ctx.printer()
        let client = try ctx.makeClient()
        let session = WatchSession(client: client, request: plan.request)
        let out = ctx.stdout
        var execFailure: CLIError?
        let maxEvents = Int(ctx.arguments.string("max-events") ?? "0") ?? 0
        var eventsLeft = maxEvents
        let deliver: (WatchResponse) -> Bool = { original in
            var response = original
            if response.created && !response.canceled { return true }
            if maxEvents > 0 && response.events.count >= eventsLeft {
                response.events = Array(response.events.prefix(eventsLeft))
                // The last event wanted: end the response here, even in the middle of a large message.
                if response.part == .first { response.part = .whole }
                if response.part == .middle { response.part = .last }
            }
            eventsLeft -= response.events.count
            if let failure = display(response, printer: printer, exec: plan.exec, ctx: ctx) {
                execFailure = failure
                return false
            }
            return !out.failed && !(maxEvents > 0 && eventsLeft <= 0)
        }
        let timing = WatchTiming(
            createMilliseconds: GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds)
        let userStop = ctx.arguments.string("timeout").flatMap(GoDuration.parse).map { Deadline.after(nanoseconds: $0) }
        let retryTimeout = ctx.arguments.string("retry-timeout").flatMap(GoDuration.parse).map(GoDuration.milliseconds)
        let outcome: WatchOutcome
        if ctx.arguments.bool("list") {
            if plan.request.startRevision != 0 { throw CLIError(.badArgs, "--list starts from the current state: it cannot be combined with --rev") }
            let resync = ctx.arguments.string("resync").flatMap(GoDuration.parse).map { UInt64(max(1_000_000, $0)) }
            let lister = SnapshotWatch(client: client, request: plan.request, timing: timing)
            lister.notice = ctx.notice
            lister.retryTimeoutMilliseconds = retryTimeout
            lister.onCompacted = { compacted, needed in
                ctx.notice("etch: history was compacted up to revision \(compacted) while the watch was at revision \(needed); listing again and emitting the difference")
            }
            outcome = try lister.run(userStop: userStop, resyncNanoseconds: resync) { response, _ in deliver(response) }
        } else {
            if ctx.arguments.isSet("resync") { throw CLIError(.badArgs, "--resync needs --list") }
            let watch = ResilientWatch(session: session, timing: timing)
            watch.notice = ctx.notice
            watch.timing.stopAt = userStop
            watch.retryTimeoutMilliseconds = retryTimeout
            outcome = try watch.run(deliver: deliver)
        }
        if let execFailure {
            ctx.notice(execFailure.message)
            return .error
        }
        switch outcome {
        case let .canceled(response):
            if response.compactRevision != 0 {
                ctx.notice("etch: the watch needed revision \(session.resumePoint.nextRevision), but the server has compacted its history up to revision \(response.compactRevision)")
            }
            throw CLIError(.interrupted, "watch is canceled by the server")
        case .interrupted:
            out.flush()
            ctx.exitBySignal()
        case .stoppedByConsumer:
            return out.failed ? .io : .success
        case .deadline:
            out.flush()
            throw CLIError(.timedOut, "watch ended by --timeout \(ctx.arguments.string("timeout") ?? "")")
        case let .gaveUp(reason):
            throw CLIError(.error, "watch gave up after --retry-timeout without a working connection: \(reason?.message ?? "stream closed")")
        }
    }

    /// Runs the exec-form command for one event and waits for it; returns the failure to report, if any.
    static func runExec(_ command: [String], event: Event, revision: Int64, environment: [String: String]) -> CLIError? {
        var env = environment.map { "\($0.key)=\($0.value)" }
        env.append("ETCD_WATCH_REVISION=\(revision)")
        env.append("ETCD_WATCH_EVENT_TYPE=\"\(event.type == .put ? "PUT" : "DELETE")\"")
        var keyVar: [UInt8] = Array("ETCD_WATCH_KEY=".utf8)
        GoQuote.append(event.kv.key, to: &keyVar)
        var valueVar: [UInt8] = Array("ETCD_WATCH_VALUE=".utf8)
        GoQuote.append(event.kv.value, to: &valueVar)
        let status = ChildProcess.run(command, environment: env, extra: [keyVar, valueVar])
        let quoted = "[" + command.map(goQuote).joined(separator: " ") + "]"
        switch status {
        case .success: return nil
        case let .exited(code): return CLIError(.error, "command \(quoted) error (exit status \(code))")
        case let .signaled(sig): return CLIError(.error, "command \(quoted) error (signal: \(sig))")
        case let .spawnFailed(message): return CLIError(.error, "command \(quoted) error (\(message))")
        }
    }
}
