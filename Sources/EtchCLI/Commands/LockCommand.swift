import EtchGateway
import EtchOutput
import Glibc

/// `etch lock`: etcdctl's distributed lock, interoperable with `etcdctl lock` (the same keys, see `KeyQueue`),
/// held by a lease that is kept alive with failover (`LeaseSession`).
enum LockCommand {
    /// How long a command gets between SIGTERM and SIGKILL once the lock is lost.
    static let killGraceNanoseconds: UInt64 = 5_000_000_000

    static let spec = CommandSpec(
        name: "lock",
        summary: "Acquires a named lock",
        arguments: "<lockname> [exec-command arg1 arg2 ...]",
        description: """
        Acquires the lock <lockname>, waiting behind its holder and the earlier waiters (first come, first \
        served); it excludes `etcdctl lock` on the same name and the other way round. Without a command: prints \
        the lock's key as get would (`<lockname>/<lease ID>` and its empty value), holds the lock until SIGINT or \
        SIGTERM, releases it and exits 0. With a command: runs it holding the lock, with ETCD_LOCK_KEY and \
        ETCD_LOCK_REV set, releases the lock when it ends and exits with its exit status (128 + the signal when \
        a signal ended it; etcd 3.5's behaviour, etcdctl 3.4 exits 1). SIGINT and SIGTERM sent to etch are passed \
        to the command, and the lock is released after it ends. The command's own flags need `--` before them. \
        The lock's lease (--ttl seconds) is renewed every third of its TTL, moving to another endpoint when \
        one fails. If it is lost anyway (expired, revoked), the command is sent SIGTERM, then SIGKILL 5 s later, \
        etch says so on stderr and exits 8. With --timeout: gives up when the lock is not acquired in time, \
        removes its waiting key and exits 124 (--timeout 0: try once). Interrupted while waiting: \
        `Error: context canceled`, exit 1, as etcdctl.
        """,
        examples: [
            ("etch lock /locks/backup -- ./backup.sh --full", "run a job while holding the lock, exit with its status"),
            ("etch lock --timeout 30s /locks/backup -- ./backup.sh || [ $? -ne 124 ] || echo busy", "give up after 30 s"),
            ("etch lock --timeout 0 /locks/cron -- ./job.sh", "run the job only if nobody holds the lock now"),
            ("etch lock /locks/db", "hold a lock until Ctrl-C"),
        ],
        flags: [
            FlagSpec("ttl", .int64, default: "10", "timeout for session"),
            FlagSpec("timeout", .duration, "Give up (exit 124) when the lock was not acquired within this time, leaving no waiting key behind; 0 tries once"),
        ])

    static func run(_ ctx: Context) throws -> ExitCode {
        let p = ctx.arguments.positionals
        guard !p.isEmpty else {
            throw CLIError(.badArgs, "lock takes a lock name argument and an optional command to execute")
        }
        let name = RawArgument.bytes(p[0])
        let command = Array(p.dropFirst())
        let ttl = Int64(ctx.arguments.string("ttl") ?? "10") ?? 10
        let timeoutText = ctx.arguments.string("timeout")
        let timeout = timeoutText.flatMap(GoDuration.parse)
        // The printer (and a refused -w table) before anything is acquired; etcdctl locks, then exits 4.
        let printer = command.isEmpty ? try ctx.printer() : nil
        let client = try ctx.makeClient()
        let holding = try acquire(ctx, client: client, name: name, ttl: ttl,
                                  stopAt: timeout.map { Deadline.after(nanoseconds: $0) }, timeoutText: timeoutText)
        let (session, queue) = holding
        guard let printer else { runCommand(ctx, command, session: session, queue: queue) }
        return try hold(ctx, session: session, queue: queue, printer: printer, notHeld: CLIError(.error, "lock lost on init"),
                        lost: "the lock \(goQuote(RawArgument.decode(queue.key))) is lost", prefix: "")
    }

    /// What lock (without a command) and elect do once they hold their key: print it as get would, hold it
    /// until SIGINT or SIGTERM, then give it up by closing the session (its connection survives the interrupt).
    /// A lost lease ends it with exit 8 and says what was lost.
    static func hold(_ ctx: Context, session: LeaseSession, queue: KeyQueue, printer: Printer, notHeld: CLIError,
                     lost: String, prefix: String) throws -> ExitCode {
        do {
            let current = try queue.current()
            guard !current.kvs.isEmpty else { throw notHeld }
            printer.get(current, to: ctx.stdout)
            ctx.stdout.flush()
        } catch {
            try? session.close()
            if ctx.interrupted { return .success }
            throw error
        }
        while !ctx.interrupted && session.loss == nil { usleep(20_000) }
        if let loss = session.loss {
            throw CLIError(.leaseLost, prefix + "session expired: " + describe(loss, session: session) + "; " + lost)
        }
        try? session.close()
        return .success
    }

    /// Grants the session, queues the key and waits for the lock. Every way out but holding it leaves no key
    /// behind (the lease is revoked, which deletes the key; it works after an interrupt too).
    static func acquire(_ ctx: Context, client: GatewayClient, name: [UInt8], ttl: Int64, value: [UInt8] = [],
                        stopAt: UInt64?, timeoutText: String?) throws -> (LeaseSession, KeyQueue) {
        let session: LeaseSession
        do {
            session = try LeaseSession.grant(client, ttl: ttl, notice: { ctx.notice($0) })
        } catch {
            if ctx.interrupted { ctx.exitBySignal() }
            throw error
        }
        let queue = KeyQueue(client: client, name: name, lease: session.id)
        queue.notice = { ctx.notice($0) }
        do {
            let (holds, existing) = try queue.enqueue(value: value)
            if let existing, existing.value != value { _ = try queue.proclaim(value) }
            if !holds {
                let outcome: KeyQueue.WaitOutcome
                if let stopAt, stopAt <= Deadline.now {
                    outcome = .deadline
                } else {
                    let create = GoDuration.milliseconds(ctx.globals.dialTimeoutNanoseconds) + ctx.commandTimeoutMilliseconds
                    outcome = try queue.waitForPredecessors(stopAt: stopAt, createMilliseconds: create)
                }
                switch outcome {
                case .acquired: break
                case .interrupted:
                    throw CLIError(.error, "context canceled")
                case .deadline:
                    throw CLIError(.timedOut, "lock \(goQuote(RawArgument.decode(name))) not acquired within --timeout \(timeoutText ?? "")")
                case .lost:
                    throw CLIError(.leaseLost, "session expired: " + describe(session.loss ?? .expired(endpoint: ""), session: session) + " while waiting")
                }
            }
            return (session, queue)
        } catch {
            try? session.close()
            if let e = error as? CLIError { throw e }
            if ctx.interrupted { throw CLIError(.error, "context canceled") }
            throw error
        }
    }

    static func describe(_ loss: LeaseKeepAliveEnd, session: LeaseSession) -> String {
        let hex = LeaseKeeper.hex(session.id)
        switch loss {
        case .expired, .stopped, .interrupted: return "lease \(hex) expired or was revoked"
        case let .lost(why): return "lease \(hex) was not renewed within its TTL of \(session.ttl)s (\(why?.message ?? "no reply"))"
        case let .failed(why): return "lease \(hex) could not be renewed (\(why.message))"
        }
    }

    /// Runs the command holding the lock, passes SIGINT/SIGTERM on to it, stops it when the lease is lost,
    /// releases the lock after it ends and exits with its status (the one place a command exits by itself:
    /// its status is any byte, not one of etch's codes).
    static func runCommand(_ ctx: Context, _ command: [String], session: LeaseSession, queue: KeyQueue) -> Never {
        var environment = ctx.environment.filter { $0.key != "ETCD_LOCK_KEY" && $0.key != "ETCD_LOCK_REV" }
            .map { "\($0.key)=\($0.value)" }
        environment.append("ETCD_LOCK_REV=\(queue.header.revision)")
        let keyVar = Array("ETCD_LOCK_KEY=".utf8) + queue.key
        let pid: pid_t
        switch ChildProcess.start(command, environment: environment, extra: [keyVar]) {
        case let .success(started): pid = started
        case let .failure(failure):
            try? session.close()
            if case let .spawnFailed(message) = failure.status { ctx.notice("Error: " + message) }
            finish(ctx, ExitCode.error.rawValue)
        }
        var forwarded = false
        var lostAt: UInt64?
        var killed = false
        var status: ChildProcess.Status
        while true {
            if let ended = ChildProcess.poll(pid) { status = ended; break }
            if ctx.interrupted && !forwarded {
                let sig = ctx.interruptSignal
                kill(pid, sig == 0 ? SIGTERM : sig)
                forwarded = true
            }
            if lostAt == nil, let loss = session.loss {
                ctx.notice("etch: the lock \(goQuote(RawArgument.decode(queue.key))) is lost: \(describe(loss, session: session)); stopping the command (SIGTERM, then SIGKILL after 5s)")
                kill(pid, SIGTERM)
                lostAt = Deadline.now
            }
            if let lostAt, !killed, Deadline.now - lostAt >= killGraceNanoseconds {
                ctx.notice("etch: the command did not end within 5s of SIGTERM; sending SIGKILL")
                kill(pid, SIGKILL)
                killed = true
            }
            usleep(10_000)
        }
        if lostAt != nil {
            try? session.close()
            finish(ctx, ExitCode.leaseLost.rawValue)
        }
        do { try session.close() } catch {
            ctx.notice("etch: releasing the lock \(goQuote(RawArgument.decode(queue.key))): \(error.message) (it goes when its lease expires)")
        }
        switch status {
        case .success: finish(ctx, 0)
        case let .exited(code): finish(ctx, code)
        case let .signaled(sig): finish(ctx, 128 + sig)
        case .spawnFailed: finish(ctx, ExitCode.error.rawValue)
        }
    }

    static func finish(_ ctx: Context, _ code: Int32) -> Never {
        ctx.stdout.flush()
        exit(code)
    }
}
