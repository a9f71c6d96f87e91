import EtchBolt
import EtchGateway
import EtchOutput

/// `etch defrag [--cluster]`: gives a member's free database pages back to the file system.
enum DefragCommand {
    static let spec = CommandSpec(
        name: "defrag", summary: "Defragments the storage of the etcd members with given endpoints", arguments: "",
        description: "Defragments each endpoint's backend database in turn, one member at a time as etcdctl does (a member defragmenting does not serve), printing `Finished defragmenting etcd member[<endpoint>]` in every output format. A member that fails is reported on stderr (`Failed to defragment etcd member[<endpoint>] (why)`), the others are still defragmented, and the exit code is 1, after an `Error:` line naming the members that failed. Each member gets --command-timeout: give a longer one for a large database. With --data-dir, no server is asked: the stopped member's <dir>/member/snap/db is rewritten compactly (every bucket copied in order into a temporary file next to it, fsynced, renamed over it), silently on success as etcdctl. If etcd is running on that directory (the file is locked), etch fails at once (exit 1) where etcdctl waits for the lock; a missing directory or database is an error (exit 1) where etcdctl panics (exit 2). Failures print etcdctl's `Failed to defragment etcd data[<dir>] (why)` on stderr.",
        examples: [("etch defrag --cluster", "defragment every member"),
                   ("etch defrag --endpoints 10.0.0.1:2379 --command-timeout 60s", "defragment one large member"),
                   ("etch defrag --data-dir /var/lib/etcd", "defragment a stopped member's database offline")],
        flags: [EndpointCommands.cluster,
                FlagSpec("data-dir", .string, "Optional. If present, defragments a data directory not in use by etcd.", isPath: true)],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        if let dir = ctx.arguments.string("data-dir"), !dir.isEmpty { return try defragmentOffline(ctx, dir) }
        let output = MaintenanceOutput.defrag
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        var failed: [String] = []
        let targets = try ctx.endpointTargets(cluster: ctx.arguments.bool("cluster"), client: client)
        // One member at a time, each on its own connection.
        for target in targets {
            do {
                _ = try client.single(target.endpoint).unary(DefragmentRequest())
                try ctx.emit(target.display, output, as: format)
                ctx.stdout.flush()
            } catch let error as GatewayError {
                failed.append(target.display)
                ctx.stderr.append("Failed to defragment etcd member[\(target.display)] (\(error.message))\n")
                ctx.stderr.flush()
            }
        }
        // etcdctl exits 1 after its stderr lines alone; etch adds the one `Error:` line every failure has.
        guard failed.isEmpty else {
            throw CLIError(.error, "failed to defragment \(failed.count) of \(targets.count) members: \(failed.joined(separator: ", "))")
        }
        return .success
    }

    /// `--data-dir`: etcdctl's offline defragmentation of `<dir>/member/snap/db`, silent on success.
    static func defragmentOffline(_ ctx: Context, _ dir: String) throws -> ExitCode {
        let db = dir + "/member/snap/db"
        do {
            let r = try Defragment.file(db)
            ctx.debug("defragmented \(db): \(r.keys) keys, \(r.sizeBefore) bytes before, \(r.sizeAfter) after")
            return .success
        } catch {
            ctx.stderr.append("Failed to defragment etcd data[\(dir)] (\(error.message))\n")
            ctx.stderr.flush()
            throw CLIError(.error, "defragmenting \(db) failed")
        }
    }
}
