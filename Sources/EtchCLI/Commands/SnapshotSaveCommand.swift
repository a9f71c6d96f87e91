import EtchGateway
import EtchOutput
import Glibc

/// `etch snapshot save <file>`: streams a member's database to `<file>.part` (mode 0600), checks the SHA-256
/// etcd appends, fsyncs and renames it into place. Nothing is left behind on any failure.
enum SnapshotSaveCommand {
    static let newestMember = FlagSpec("newest-member", .bool, "etch only: with several endpoints, save from the healthy member with the highest revision (etcdctl refuses several endpoints)")
    static let stallTimeout = FlagSpec("stall-timeout", .duration, default: "30s", "etch only: give up when the server sends nothing for this long (0 = wait forever, as etcdctl)")

    static let spec = CommandSpec(
        name: "save", summary: "Stores an etcd node backend snapshot to a given file", arguments: "<filename>",
        description: """
        Streams the database of the member at --endpoints to <filename>.part (mode 0600), checks the SHA-256 etcd \
        sends after it (etcdctl does not: a bad digest is an error and no file is left), fsyncs the file and renames \
        it to <filename>, then prints `Snapshot saved at <filename>`. The file is byte for byte what etcdctl saves \
        from the same server state. Memory stays constant whatever the database's size. Beyond etcdctl: progress on \
        stderr when it is a terminal; --stall-timeout gives up on a server that stops sending (etcdctl waits \
        forever); `-` writes the snapshot to stdout (checked as it streams: a bad digest still exits 5, after the \
        bytes went out); --newest-member chooses, among several endpoints, the healthy member with the highest \
        revision. As etcdctl: several endpoints without --newest-member, and every failure, exit 5; no time limit \
        unless --command-timeout is given.
        """,
        examples: [("etch snapshot save backup.db", "save the member's database, verified"),
                   ("etch --endpoints a:2379,b:2379,c:2379 snapshot save --newest-member backup.db", "save from the most up-to-date healthy member"),
                   ("etch snapshot save - | gzip > backup.db.gz", "stream the snapshot to a pipe")],
        flags: [newestMember, stallTimeout],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.count == 1 else { throw CLIError(.badArgs, "snapshot save expects one argument") }
        let path = ctx.arguments.positionals[0]
        var stallNanoseconds: Int64 = 30_000_000_000
        if let text = ctx.arguments.string("stall-timeout") {
            guard let ns = GoDuration.parse(text), ns >= 0 else {
                throw CLIError(.badArgs, "invalid argument \(goQuote(text)) for \"--stall-timeout\" flag: time: invalid duration \(goQuote(text))")
            }
            stallNanoseconds = ns
        }
        let endpoints = try ctx.globals.parsedEndpoints()
        let newest = ctx.arguments.bool("newest-member")
        if endpoints.count != 1 && !newest {
            let listed = ctx.globals.endpoints.filter { !$0.isEmpty }
            throw CLIError(.interrupted, "snapshot must be requested to one selected node, not multiple [\(listed.joined(separator: " "))]")
        }
        let client = try ctx.makeClient()
        let source = try newest && endpoints.count > 1 ? chooseNewest(ctx, client) : client
        if newest { ctx.debug("snapshot from \(source.endpoints[0].baseURL)") }

        let target: SnapshotTarget
        do { target = try SnapshotTarget(path: path) } catch { throw CLIError(.interrupted, error.message) }
        var progress = SnapshotProgressLine(enabled: isatty(2) != 0, stderr: ctx.stderr)
        let started = Deadline.now
        let summary: SnapshotSummary
        do {
            summary = try source.snapshot(
                stallMilliseconds: GoDuration.milliseconds(stallNanoseconds),
                totalMilliseconds: ctx.globals.commandTimeoutGiven ? ctx.commandTimeoutMilliseconds : 0,
                progress: { progress.show(received: $0, total: $1) },
                sink: { (bytes: UnsafeRawBufferPointer) throws(SnapshotError) in try target.write(bytes) })
        } catch {
            progress.clear()
            target.discard()
            if ctx.interrupted { ctx.exitBySignal() }
            throw CLIError(.interrupted, failure(error, target: target))
        }
        progress.clear()
        do { try target.commit() } catch {
            target.discard()
            throw CLIError(.interrupted, error.message)
        }
        let ms = Double(Deadline.now - started) / 1_000_000
        ctx.debug("snapshot: \(summary.size) bytes (\(GoFormat.bytes(UInt64(summary.size)))) in \(ms)ms, sha256 verified")
        if !target.toStdout {
            ctx.stdout.append("Snapshot saved at \(path)\n")
        }
        return .success
    }

    /// The message for a failed transfer, saying what became of the output.
    static func failure(_ error: SnapshotError, target: SnapshotTarget) -> String {
        let what: String
        switch error {
        case .gateway(.transport(let t)) where t.kind == .broken || t.kind == .other:
            what = "snapshot stream broken after \(target.written) bytes: " + error.message
        default:
            what = error.message
        }
        return target.toStdout ? what + " (the bytes written to stdout are not a valid snapshot)" : what + " (no file saved)"
    }

    /// Among several endpoints, the healthy member (status answers, no errors, has a leader) with the highest
    /// revision; the first such when revisions tie.
    static func chooseNewest(_ ctx: Context, _ client: GatewayClient) throws -> GatewayClient {
        let answers = client.fanOut { c throws(GatewayError) in try c.unary(StatusRequest()) }
        var best: (endpoint: Endpoint, revision: Int64)?
        var problems: [String] = []
        for answer in answers {
            switch answer.result {
            case let .success(status) where status.errors.isEmpty && status.leader != 0:
                let revision = status.header?.revision ?? 0
                ctx.debug("\(answer.endpoint.baseURL): healthy, revision \(revision)")
                if best == nil || revision > best!.revision { best = (answer.endpoint, revision) }
            case let .success(status):
                problems.append("\(answer.endpoint.hostPort): " + (status.errors.isEmpty ? "no leader" : status.errors.joined(separator: "; ")))
            case let .failure(error):
                problems.append("\(answer.endpoint.hostPort): \(error.message)")
            }
        }
        guard let best else {
            throw CLIError(.interrupted, "no healthy member to save a snapshot from (\(problems.joined(separator: "; ")))")
        }
        for p in problems { ctx.debug("skipped \(p)") }
        return client.single(best.endpoint)
    }
}

/// Where a snapshot goes: `<path>.part`, renamed to `<path>` once verified, or stdout for `-`.
final class SnapshotTarget {
    let path: String
    let toStdout: Bool
    private var fd: Int32
    private(set) var written: Int64 = 0

    struct Failure: Error { let message: String }

    var partPath: String { path + ".part" }

    init(path: String) throws(Failure) {
        self.path = path
        toStdout = path == "-"
        if toStdout {
            fd = 1
            return
        }
        fd = open(path + ".part", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw Failure(message: "could not open \(path).part (open \(path).part: \(SnapshotTarget.errorText()))") }
        // An existing .part keeps its mode through O_TRUNC: a backup is readable by its owner only.
        _ = fchmod(fd, 0o600)
    }

    /// Writes all of `bytes`, retrying short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw .sink("write \(toStdout ? "stdout" : partPath): \(SnapshotTarget.errorText())")
            }
            p += n
            left -= n
            written += Int64(n)
        }
    }

    /// fsync, close and rename into place, then fsync the directory so the rename survives a crash.
    func commit() throws(Failure) {
        if toStdout { return }
        if fsync(fd) != 0 { throw Failure(message: "fsync \(partPath): \(SnapshotTarget.errorText())") }
        let closed = close(fd)
        fd = -1
        if closed != 0 { throw Failure(message: "close \(partPath): \(SnapshotTarget.errorText())") }
        if rename(partPath, path) != 0 {
            throw Failure(message: "could not rename \(partPath) to \(path) (rename \(partPath) \(path): \(SnapshotTarget.errorText()))")
        }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Removes the partial file (after a failure).
    func discard() {
        if toStdout { return }
        if fd >= 0 { close(fd); fd = -1 }
        unlink(partPath)
    }

    static func errorText() -> String {
        var why = String(cString: strerror(errno))
        if let first = why.first { why = first.lowercased() + why.dropFirst() }
        return why
    }
}

/// `Saving snapshot: 12 MB of 268 MB (4%)` on stderr, redrawn at most four times a second, only on a terminal.
struct SnapshotProgressLine {
    let enabled: Bool
    let stderr: OutputBuffer
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(enabled: Bool, stderr: OutputBuffer) {
        self.enabled = enabled
        self.stderr = stderr
    }

    mutating func show(received: Int64, total: Int64?) {
        guard enabled else { return }
        let now = Deadline.now
        guard now - lastDraw >= 250_000_000 else { return }
        lastDraw = now
        var line = "\rSaving snapshot: \(GoFormat.bytes(UInt64(received)))"
        if let total, total > 0 {
            line += " of \(GoFormat.bytes(UInt64(total))) (\(received * 100 / total)%)"
        }
        stderr.append(line + "\u{1B}[K")
        stderr.flush()
        drawn = true
    }

    mutating func clear() {
        guard drawn else { return }
        stderr.append("\r\u{1B}[K")
        stderr.flush()
        drawn = false
    }
}
