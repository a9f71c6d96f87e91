import EtchGateway
import EtchOutput
import Glibc

/// `etch elect`: etcdctl's leader election (the same keys as `etcdctl elect`, see `KeyQueue`): campaign and
/// hold the leadership, or observe the leader.
enum ElectCommand {
    static let spec = CommandSpec(
        name: "elect",
        summary: "Observes and participates in leader election",
        arguments: "<election-name> [proposal]",
        description: """
        With a proposal: campaigns in the election <election-name>, waiting behind the leader and earlier \
        candidates; once elected, prints the leader key and the proposal as get would, holds the leadership \
        until SIGINT or SIGTERM, resigns and exits 0. Its lease (--ttl seconds, 60 as etcdctl's) is renewed \
        with failover; if it is lost anyway, etch says so and exits 8. With -l: prints the current leader, then \
        each new one and each new proposal of the leader, until interrupted (exit 0); the watch behind it \
        resumes at the right revision after a disconnect, so a leader that resigned meanwhile is never shown as \
        current. Interrupted while campaigning: `Error: context canceled`, exit 1, as etcdctl.
        """,
        examples: [
            ("etch elect /election/web \"$(hostname)\"", "campaign, and lead until Ctrl-C"),
            ("etch elect -l /election/web", "print the leader, then each new one"),
            ("etch elect -l /election/web -w jsonl | jq -r .value", "the leaders' proposals, one a line"),
        ],
        flags: [
            FlagSpec("listen", short: "l", .bool, "observation mode"),
            FlagSpec("ttl", .int64, default: "60", "Seconds the leadership outlives etch's last renewal of its lease (etch only)"),
        ])

    static func run(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard p.count == 1 || p.count == 2 else {
            throw CLIError(.badArgs, "elect takes one election name argument and an optional proposal argument")
        }
        let listen = ctx.arguments.bool("listen")
        if p.count == 1 {
            guard listen else { throw CLIError(.badArgs, "no proposal argument but -l not set") }
            return try observe(ctx, name: RawArgument.bytes(p[0]))
        }
        if listen { throw CLIError(.badArgs, "proposal given but -l is set") }
        return try campaign(ctx, name: RawArgument.bytes(p[0]), proposal: RawArgument.bytes(p[1]))
    }

    static func campaign(_ ctx: Context, name: [UInt8], proposal: [UInt8]) throws -> ExitCode {
        let ttl = Int64(ctx.arguments.string("ttl") ?? "60") ?? 60
        let printer = try ctx.printer()
        let client = try ctx.makeClient()
        let (session, queue) = try LockCommand.acquire(ctx, client: client, name: name, ttl: ttl, value: proposal,
                                                      stopAt: nil, timeoutText: nil)
        // Resigning closes the session: revoking the lease deletes the leader key (etcdctl deletes the key and
        // lets the lease expire).
        return try LockCommand.hold(ctx, session: session, queue: queue, printer: printer,
                                    notHeld: CLIError(.leaseLost, "elect: session expired"), lost: "no longer the leader",
                                    prefix: "elect: ")
    }

    /// Election.Observe: the first-created key under `<name>/` is the leader; print it, then its new values,
    /// and when it is deleted, the next leader.
    static func observe(_ ctx: Context, name: [UInt8]) throws -> ExitCode {
        let printer = try ctx.printer()
        let client = try ctx.makeClient()
        let queue = KeyQueue(client: client, name: name, lease: 0)
        let create = GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds
        let lost = CLIError(.error, "elect: observer lost")
        // Each watch follows a read that reached the cluster (resuming): failing to create it is retried on the
        // next endpoint, as a break is.
        func watch(_ request: WatchCreateRequest, _ deliver: (WatchResponse) -> Bool) throws -> Bool {
            let w = ResilientWatch(session: WatchSession(client: client, request: request, resuming: true), timing: WatchTiming(createMilliseconds: create))
            w.notice = { ctx.notice($0) }
            let outcome: WatchOutcome
            do { outcome = try w.run(deliver: deliver) } catch {
                if ctx.interrupted { return false }
                throw lost
            }
            switch outcome {
            case .stoppedByConsumer: return true
            case .interrupted: return false
            default: throw lost
            }
        }
        // The first lookup fails as any command does (a wrong endpoint is said at once); the later ones, after a
        // leader's key was deleted, are retried until they get through, as the watches reconnect: an observer
        // outlives a member's death and the election that follows (found by LockElectReliabilityTests under
        // load, where one lookup through the killed member timed out and the observer gave up).
        var started = false
        while true {
            let first: RangeResponse
            do {
                let request = queue.ownerRequest()
                first = started ? try client.persistently { () throws(GatewayError) in try client.range(request) }
                    : try client.idempotent { () throws(GatewayError) in try client.range(request) }
            } catch {
                if ctx.interrupted { return .success }
                throw lost
            }
            started = true
            var header = first.header
            var leader: KeyValue
            if let kv = first.kvs.first {
                leader = kv
            } else {
                var request = WatchCreateRequest(key: queue.prefix)
                request.rangeEnd = prefixRangeEnd(queue.prefix)
                request.startRevision = first.header.revision + 1
                var found: KeyValue?
                guard try watch(request, { response in
                    if let put = response.events.first(where: { $0.type == .put }) {
                        found = put.kv
                        header = response.header
                        header.revision = put.kv.modRevision
                        return false
                    }
                    return true
                }), let found else { return .success }
                leader = found
            }
            printer.get(RangeResponse(header: header, kvs: [leader]), to: ctx.stdout)
            ctx.stdout.flush()
            if ctx.stdout.failed { return .io }
            var request = WatchCreateRequest(key: leader.key)
            request.startRevision = header.revision + 1
            let goOn = try watch(request) { response in
                for event in response.events {
                    if event.type == .delete { return false }
                    // As etcd's client: the first get's response, with the watch's header and the new value.
                    printer.get(RangeResponse(header: response.header, kvs: [event.kv], more: first.more, count: first.count), to: ctx.stdout)
                    ctx.stdout.flush()
                }
                return !ctx.stdout.failed
            }
            if !goOn { return .success }
            if ctx.stdout.failed { return .io }
        }
    }
}
