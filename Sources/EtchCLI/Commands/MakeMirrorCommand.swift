import EtchGateway
import EtchOutput
import Glibc

/// `etch make-mirror`: etcdctl's mirror of a source cluster's keys (or a prefix of them) into a destination
/// cluster, made reliable by `Mirror` (EtchGateway).
enum MakeMirrorCommand {
    static let spec = CommandSpec(
        name: "make-mirror",
        summary: "Makes a mirror at the destination etcd cluster",
        arguments: "[options] <destination>",
        description: """
        Copies the keys (with --prefix, those under the prefix) at one source revision into the destination \
        cluster, then applies every later change (puts and deletes), one destination transaction per source \
        revision, until interrupted (exit 130). Destination keys have the source prefix replaced by \
        --dest-prefix (by default the same prefix; --no-dest-prefix: none). Every 30 s it prints how many keys \
        it has put and deleted; with -w jsonl, a JSON line with the applied and the source revision and the lag \
        (revisions behind). Unlike etcdctl, it copies in transactions of --max-txn-ops keys, rides out source \
        and destination disconnects without losing or repeating a change, and with --checkpoint-key resumes \
        after a restart where it stopped (the key holds the last source revision applied, written in the same \
        transaction as the changes). --rev starts watching at a revision with no initial copy (etcd 3.6).
        """,
        examples: [
            ("etch make-mirror --endpoints=10.0.0.1:2379 10.0.1.1:2379", "mirror everything into another cluster"),
            ("etch make-mirror --prefix /app/ --dest-prefix /dr/app/ --checkpoint-key /dr/.mirror 10.0.1.1:2379",
             "mirror a prefix; a restart resumes from the checkpoint"),
            ("etch make-mirror -w jsonl --progress-interval 5s 10.0.1.1:2379 | jq .lag", "watch the lag"),
        ],
        flags: [
            FlagSpec("prefix", .string, "Key-value prefix to mirror"),
            FlagSpec("dest-prefix", .string, "destination prefix to mirror a prefix to a different prefix in the destination cluster"),
            FlagSpec("no-dest-prefix", .bool, "mirror key-values to the root of the destination cluster"),
            FlagSpec("dest-cert", .string, "Identify secure client using this TLS certificate file for the destination cluster", isPath: true),
            FlagSpec("dest-key", .string, "Identify secure client using this TLS key file", isPath: true),
            FlagSpec("dest-cacert", .string, "Verify certificates of TLS enabled secure servers using this CA bundle", isPath: true),
            FlagSpec("dest-insecure-transport", .bool, default: "true", "Disable transport security for client connections"),
            FlagSpec("rev", .int64, default: "0", "Specify the kv revision to start to mirror (no initial copy; etcd 3.6)"),
            FlagSpec("max-txn-ops", .int64, default: "128", "Maximum number of operations permitted in a transaction during syncing updates (etcd 3.6; etch's initial copy too)"),
            FlagSpec("checkpoint-key", .string, "etch: keep the last applied source revision in this destination key and resume from it after a restart"),
            FlagSpec("progress-interval", .duration, default: "30s", "etch: print the progress line at this interval"),
        ])

    static func plan(_ a: ParsedArguments) throws(CLIError) -> MirrorPlan {
        guard a.positionals.count == 1 else { throw CLIError(.badArgs, "make-mirror takes one destination argument") }
        let prefix = RawArgument.bytes(a.string("prefix") ?? "")
        let destPrefix = RawArgument.bytes(a.string("dest-prefix") ?? "")
        if a.bool("no-dest-prefix") && !destPrefix.isEmpty {
            throw CLIError(.badArgs, "`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one")
        }
        var plan = MirrorPlan(prefix: prefix, destinationPrefix: a.bool("no-dest-prefix") || !destPrefix.isEmpty ? destPrefix : prefix)
        let rev = Int64(a.string("rev") ?? "0") ?? 0
        if rev < 0 { throw CLIError(.badArgs, "--rev must not be negative (got \(rev))") }
        plan.startRevision = rev
        let ops = Int64(a.string("max-txn-ops") ?? "128") ?? 128
        guard ops >= 1 && ops <= Int64(Int32.max) else { throw CLIError(.badArgs, "--max-txn-ops must be at least 1 (got \(ops))") }
        plan.maxTxnOps = Int(ops)
        if let key = a.string("checkpoint-key"), !key.isEmpty {
            plan.checkpointKey = RawArgument.bytes(key)
            if plan.checkpointInsideMirror {
                throw CLIError(.badArgs, "--checkpoint-key \(goQuote(key)) lies where mirrored keys go (destination prefix \(goQuote(RawArgument.decode(plan.destinationPrefix)))): choose a key outside it, or a --dest-prefix")
            }
        }
        return plan
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        let plan = try plan(a)
        let format = try ctx.format(for: MirrorOutput.progress)
        let interval = GoDuration.parse(a.string("progress-interval") ?? "30s") ?? 30_000_000_000
        guard interval > 0 else { throw CLIError(.badArgs, "--progress-interval must be positive") }
        let destination = try destinationClient(ctx)
        let source = try ctx.makeClient()
        var timing = WatchTiming(createMilliseconds: GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds)
        timing.stopAt = nil
        let mirror = Mirror(source: source, destination: destination, plan: plan, timing: timing)
        mirror.notice = ctx.notice
        let counters = mirror.counters
        // Only this thread writes stdout from here on; the main thread writes stderr.
        nonisolated(unsafe) let stdout = ctx.stdout
        let reporter = PeriodicTask(intervalNanoseconds: UInt64(interval)) {
            try? MirrorOutput.progress.write(counters.snapshot(), as: format, to: stdout)
            stdout.flush()
        }
        let outcome: WatchOutcome
        do {
            outcome = try mirror.run()
        } catch let e as MirrorError {
            reporter.stop()
            throw CLIError(.error, e.message)
        } catch {
            reporter.stop()
            if ctx.interrupted { ctx.exitBySignal() }
            throw error
        }
        reporter.stop()
        switch outcome {
        case let .canceled(r) where r.compactRevision != 0:
            ctx.notice("etch: the source compacted its history up to revision \(r.compactRevision), past the revision the mirror needs")
            throw CLIError(.error, "etcdserver: mvcc: required revision has been compacted")
        case let .canceled(r):
            throw CLIError(.error, r.cancelReason.isEmpty ? "watch is canceled by the server" : GatewayError.printable(r.cancelReason))
        case let .gaveUp(reason):
            throw reason ?? CLIError(.error, "gave up watching the source")
        case .interrupted, .stoppedByConsumer, .deadline:
            ctx.exitBySignal()
        }
    }

    /// The destination client: its own TLS files; a bare host:port is https when any is given or transport
    /// security is on (`--dest-insecure-transport=false`), as etcdctl. No authentication (etcdctl 3.4 has none).
    static func destinationClient(_ ctx: Context) throws -> GatewayClient {
        let a = ctx.arguments
        let files = ["dest-cacert", "dest-cert", "dest-key"].map { a.string($0).flatMap { $0.isEmpty ? nil : $0 } }
        let insecure = a.isSet("dest-insecure-transport") ? a.bool("dest-insecure-transport") : true
        let tls = files.contains { $0 != nil } || !insecure
        let text = a.positionals[0]
        guard let endpoint = Endpoint(text, tlsByDefault: tls) else {
            throw CLIError(.error, "invalid destination endpoint \(goQuote(text)): expected host:port, http://host:port or https://host:port")
        }
        return try ctx.connect([endpoint], caFile: files[0], certFile: files[1], keyFile: files[2], insecureSkipVerify: false,
                               tlsFlagPrefix: "dest-")
    }
}
