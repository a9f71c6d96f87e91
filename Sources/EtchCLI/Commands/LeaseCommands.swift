import EtchGateway
import EtchOutput

/// `etch lease grant|revoke|timetolive|list|keep-alive`: leases, the timers keys can be attached to
/// (`put --lease`) so that they vanish when the lease expires or is revoked.
enum LeaseCommands {
    static let spec = CommandSpec.group(
        "lease", summary: "Lease related commands",
        description: "Grants, revokes, inspects, lists and keeps alive leases. A key put with --lease <ID> is deleted when its lease expires or is revoked. Lease IDs are hexadecimal, as etcdctl prints and reads them.",
        [grant, revoke, timeToLive, list, keepAlive])

    static let grant = CommandSpec(
        name: "grant", summary: "Creates leases", arguments: "<ttl>",
        description: "Grants a lease of <ttl> seconds and prints its ID (-w simple: `lease <ID> granted with TTL(<ttl>s)`). The server may raise a TTL below its minimum (about 1.5 election timeouts). Errors: `failed to grant lease (...)`, exit 1.",
        examples: [("etch lease grant 60", "a lease of 60 seconds"),
                   ("ID=$(etch lease grant 60 | cut -d' ' -f2) && etch put --lease $ID job/worker1 busy", "a key that vanishes 60 s after its owner stops renewing the lease"),
                   ("etch lease grant 60 -w jsonl | jq -r .id", "the new lease's ID alone")],
        flags: [],
        run: runGrant)

    static let revoke = CommandSpec(
        name: "revoke", summary: "Revokes leases", arguments: "<leaseID>",
        description: "Revokes a lease, deleting every key attached to it. An unknown lease: `failed to revoke lease (etcdserver: requested lease not found)`, exit 1. No -w protobuf: etcdctl has none for this reply (it revokes, then exits 4); etch refuses it before revoking.",
        examples: [("etch lease revoke 694d77aa9e38260f", "revoke a lease and delete its keys")],
        flags: [],
        run: runRevoke)

    static let timeToLive = CommandSpec(
        name: "timetolive", summary: "Get lease information", arguments: "<leaseID> [options]",
        description: "Prints a lease's granted TTL and the seconds it has left (-w simple: `lease <ID> granted with TTL(60s), remaining(59s)`), with --keys also the keys attached to it. A lease that does not exist (expired, revoked, never granted) prints `lease <ID> already expired` and exits 0. Unlike etcdctl's, which waits forever for a dead endpoint, it fails within --dial-timeout + --command-timeout (exit 2).",
        examples: [("etch lease timetolive 694d77aa9e38260f --keys", "the TTL left and the attached keys"),
                   ("etch lease timetolive 694d77aa9e38260f -w jsonl | jq .ttl", "the seconds left (-1 once expired)")],
        flags: [FlagSpec("keys", .bool, "Get keys attached to this lease")],
        run: runTimeToLive)

    static let list = CommandSpec(
        name: "list", summary: "List all active leases", arguments: "",
        description: "Prints the number of leases, then one ID a line. Fails within --dial-timeout + --command-timeout when no endpoint answers (exit 2; etcdctl waits forever).",
        examples: [("etch lease list", "every lease"),
                   ("etch lease list -w jsonl | jq -r .id", "the IDs, one per line")],
        flags: [],
        run: runList)

    static let keepAlive = CommandSpec(
        name: "keep-alive", summary: "Keeps leases alive (renew)", arguments: "[options] <leaseID>",
        description: """
        Renews a lease at once and then every third of its TTL, printing each renewal (-w simple: `lease <ID> \
        keepalived with TTL(60)`), until interrupted. When a server answers that the lease is gone (expired or \
        revoked), it prints `lease <ID> expired or revoked.` (-w simple), says so on stderr and exits 0, as \
        etcdctl does. A renewal that fails (member down, no leader, a broken connection) is retried at once, then \
        with backoff, on the next endpoint, for as long as the lease can still be alive; when none got through \
        within the TTL, etch says why, naming the endpoints, and exits 1 (etcdctl reports such a lease as expired \
        or revoked, exit 0). The first renewal fails at once when no endpoint accepts a connection, and within \
        --dial-timeout + --command-timeout otherwise. With --once: one renewal; an unknown lease or an error \
        exits 2.
        """,
        examples: [("etch lease keep-alive 694d77aa9e38260f", "keep a lease alive until Ctrl-C"),
                   ("etch lease keep-alive 694d77aa9e38260f >/dev/null & worker; kill $!", "hold a lease while a job runs"),
                   ("etch lease keep-alive --once 694d77aa9e38260f", "renew once")],
        flags: [FlagSpec("once", .bool, "Resets the keep-alive time to its original value and exits immediately")],
        run: runKeepAlive)

    /// A lease ID operand: hex, as Go's `strconv.ParseInt(s, 16, 64)` reads it.
    static func leaseID(_ s: String) throws -> Int64 {
        do { return try Operands.hexInt64(s) } catch {
            throw CLIError(.badArgs, "bad lease ID arg (\(error.message)), expecting ID in Hex")
        }
    }

    /// Runs a gateway call; its error becomes `code` with etcdctl's wording (`wording` gets the message). An
    /// interrupted call exits as by the signal, as every command's does.
    static func calling<T>(_ ctx: Context, _ code: ExitCode, _ wording: (String) -> String,
                           _ body: () throws(GatewayError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            if ctx.interrupted { ctx.exitBySignal() }
            throw CLIError(code, wording(error.message))
        }
    }

    static func runGrant(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard p.count == 1 else { throw CLIError(.badArgs, "lease grant command needs TTL argument") }
        let ttl: Int64
        do { ttl = try Operands.int64(p[0]) } catch { throw CLIError(.badArgs, "bad TTL (\(error.message))") }
        return try ctx.unary(LeaseGrantRequest(TTL: ttl), LeaseOutput.grant, failing: .error) { "failed to grant lease (\($0))" }
    }

    static func runRevoke(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard p.count == 1 else { throw CLIError(.badArgs, "lease revoke command needs 1 argument") }
        let id = try leaseID(p[0])
        return try ctx.unary(LeaseRevokeRequest(ID: id), LeaseOutput.revoke(id), failing: .error) { "failed to revoke lease (\($0))" }
    }

    static func runTimeToLive(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard p.count == 1 else { throw CLIError(.badArgs, "lease timetolive command needs lease ID as argument") }
        let id = try leaseID(p[0])
        let keys = ctx.arguments.bool("keys")
        // etcdctl reports this command's errors as a bad connection (exit 2), in the client's own words.
        return try ctx.unary(LeaseTimeToLiveRequest(ID: id, keys: keys), LeaseOutput.timeToLive(keys: keys), failing: .badConnection)
    }

    static func runList(_ ctx: Context) throws -> ExitCode {
        return try ctx.unary(LeaseLeasesRequest(), LeaseOutput.list, failing: .badConnection)
    }

    static func runKeepAlive(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard p.count == 1 else { throw CLIError(.badArgs, "lease keep-alive command needs lease ID as argument") }
        let id = try leaseID(p[0])
        let output = LeaseOutput.keepAlive
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        if ctx.arguments.bool("once") {
            let reply = try calling(ctx, .badConnection, { $0 }) { () throws(GatewayError) in try client.keepAliveOnce(id) }
            // etcd's client turns a reply without TTL into this error.
            if reply.TTL <= 0 { throw CLIError(.badConnection, "etcdserver: requested lease not found") }
            try ctx.emit(reply, output, as: format)
            return .success
        }
        let firstReply = GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds
        let keeper = LeaseKeeper(client: client, id: id, firstReplyMilliseconds: firstReply)
        keeper.notice = { ctx.notice($0) }
        var writeError: (any Error)?
        let end = keeper.run { reply in
            do { try ctx.emit(reply, output, as: format) } catch {
                writeError = error
                return false
            }
            ctx.stdout.flush()
            return !ctx.stdout.failed
        }
        if let writeError { throw writeError }
        let hex = LeaseOutput.hex(id)
        switch end {
        case .expired(let endpoint):
            if format == .simple { ctx.stdout.append("lease \(hex) expired or revoked.\n") }
            ctx.stdout.flush()
            ctx.notice("etch: lease \(hex) expired or revoked (\(endpoint) answered its renewal with no TTL left)")
            return .success
        case .interrupted:
            ctx.stdout.flush()
            ctx.exitBySignal()
        case .stopped:
            return .io  // stdout is gone
        case .lost(let why):
            let reason = why?.message ?? "no reply"
            if keeper.ttl > 0 {
                throw CLIError(.error, "lease \(hex) was not renewed within its TTL of \(keeper.ttl)s, so it has most likely expired: \(reason)")
            }
            throw CLIError(.error, "renewing lease \(hex): \(reason)")
        case .failed(let why):
            throw CLIError(.error, "renewing lease \(hex): \(why.message)")
        }
    }
}
