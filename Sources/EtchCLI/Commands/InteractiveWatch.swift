import EtchGateway
import EtchOutput
import Glibc

/// `etch watch -i`: reads `watch [options] <key> [range_end] [-- cmd]` and `progress` lines from stdin and
/// sends each as a request on one shared watch stream, as etcdctl does; all watches print to stdout.
enum InteractiveWatch {
    /// What one stdin line asks for.
    enum Action: Equatable {
        case watch(WatchCommand.Plan)
        case progress
        /// A message for stderr; the session goes on.
        case invalid(String)
    }

    /// Interprets one line with etcdctl's messages; a flag error or a malformed `--` ends the session (128).
    static func action(for line: String, environment: [String: String]) throws -> Action {
        let args = try Argify.split(line)
        guard let verb = args.first else { return .invalid("Invalid command: \(line) (watch and progress supported)") }
        switch verb {
        case "watch":
            let envKey = environment["ETCDCTL_WATCH_KEY"] ?? ""
            if args.count < 2 && envKey.isEmpty {
                return .invalid("Invalid command \(line) (command type or key is not provided)")
            }
            let parsed: ParsedArguments
            do { parsed = try ArgumentParser(flags: WatchCommand.spec.flags).parse(Array(args.dropFirst())) } catch {
                throw CLIError(.badArgs, error.message)
            }
            let result = Result { () throws(CLIError) in try WatchCommand.plan(parsed, environment: environment) }
            switch result {
            case let .success(plan):
                return .watch(plan)
            case let .failure(e):
                // etcdctl reports what its watch call rejects and reads on; argument errors end the session.
                if e.message.hasPrefix("`range_end`") { return .invalid("Invalid command \(line) (\(e.message))") }
                throw e
            }
        case "progress":
            return .progress
        default:
            return .invalid("Invalid command \(line) (only support watch)")
        }
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        try Session(ctx: ctx, printer: ctx.printer()).run()
    }

    /// One watch of the session: what it asked for, its command, and its own resume point.
    final class Watcher {
        let plan: WatchCommand.Plan
        var resume: ResumePoint
        var joiner = FragmentJoiner()
        var canceled = false

        init(plan: WatchCommand.Plan) {
            self.plan = plan
            resume = ResumePoint(startRevision: plan.request.startRevision)
        }

        /// The create request that continues this watch where it stopped.
        var createBody: [UInt8] {
            var r = plan.request
            r.startRevision = resume.nextRevision
            return r.body() + [0x0A]
        }
    }

    /// The state of one interactive session: its watches (each with its own resume point, so a broken stream
    /// is re-created with every watch where it stopped), the ones waiting for the server's confirmation, and
    /// the server's watch IDs on the current connection.
    final class Session {
        let ctx: Context
        let printer: Printer
        var watchers: [Watcher] = []
        var awaitingCreated: [Watcher] = []
        var byID: [Int64: Watcher] = [:]
        var framer = LineFramer()
        var stdinBuffer: [UInt8] = []
        var stdinEOF = false
        var fatal: (any Error)?
        var streamError: GatewayError?
        /// Set once the session has its client: whether it authenticates (watch cancels may mean a stale token).
        var hasCredentials = false
        /// Whether the token was renewed just before this connection (a denial then is a real one).
        var justAuthenticated = false
        /// A watch was refused in a way a stale token explains: end the connection, authenticate, re-create.
        var staleToken = false
        /// Whether the server said it was the token (then stderr says so; a "permission denied" retried once does not).
        var staleSaid = false

        init(ctx: Context, printer: Printer) {
            self.ctx = ctx
            self.printer = printer
        }

        /// Handles one message of the stream; false stops the session.
        func handle(_ line: UnsafeRawBufferPointer) -> Bool {
            guard let json = try? JSONParser.parse(line) else {
                streamError = .malformedReply("watch stream line is not JSON")
                return false
            }
            if let e = GatewayError.parseStreamError(json) { streamError = e; return false }
            guard let result = json["result"], let piece = try? WatchResponse(json: result) else {
                streamError = .malformedReply("watch stream message has no valid result")
                return false
            }
            // The server confirms creates in the order they were sent. A refused create (created and canceled)
            // belongs to the head of the queue but never gets an ID of its own: etcd 3.5 answers a denied one
            // with the ID the request asked for, 0 when none, which can be a live watch's. Mapping it would send
            // that watch's events to the refused one (found with a denied second watch: the first went silent).
            var refused: Watcher?
            if piece.created {
                guard !awaitingCreated.isEmpty else { return true }
                let next = awaitingCreated.removeFirst()
                if piece.canceled { refused = next } else { byID[piece.watchID] = next }
            }
            if piece.watchID == -1 && piece.isProgressNotify {
                // A stream-wide progress answer reaches every watcher, and each prints it, as in etcdctl.
                for _ in watchers.filter({ !$0.canceled }) {
                    _ = WatchCommand.display(piece, printer: printer, exec: [], ctx: ctx)
                }
                return true
            }
            guard let watcher = refused ?? byID[piece.watchID], var response = watcher.joiner.add(piece) else { return true }
            if !response.events.isEmpty {
                watcher.resume.dropRedelivered(&response.events)
                if response.events.isEmpty { return true }
            }
            // A create refused for a token that expired or that a restarted member does not know: etcd 3.4 says
            // so, 3.5 says "permission denied" (the watch server checks permission with the token it cannot
            // read). Authenticate again and re-create every live watch, once; refused right after a fresh
            // token, the denial is real and is shown as etcdctl shows it.
            if response.canceled, hasCredentials, !justAuthenticated, GatewayClient.mayBeStaleTokenCancel(response.cancelReason) {
                staleToken = true
                staleSaid = GatewayClient.isStaleToken(response.cancelReason)
                return false
            }
            watcher.resume.observe(response)
            if response.created && !response.canceled { return true }
            if response.canceled { watcher.canceled = true }
            if let failure = WatchCommand.display(response, printer: printer, exec: watcher.plan.exec, ctx: ctx) {
                fatal = failure
                return false
            }
            return true
        }

        /// Reads what stdin has; returns the request bytes its complete lines ask for, nil to end.
        func readInput() -> [UInt8]? {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { return [] }
                stdinEOF = true
                return nil
            }
            stdinBuffer += buf[0..<n]
            var requests: [UInt8] = []
            while let nl = stdinBuffer.firstIndex(of: 0x0A) {
                let line = RawArgument.decode(stdinBuffer[..<nl])
                stdinBuffer.removeSubrange(...nl)
                do {
                    switch try action(for: line, environment: ctx.environment) {
                    case let .watch(plan):
                        let watcher = Watcher(plan: plan)
                        watchers.append(watcher)
                        awaitingCreated.append(watcher)
                        requests += watcher.createBody
                    case .progress:
                        requests += Array("{\"progress_request\":{}}\n".utf8)
                    case let .invalid(message):
                        ctx.notice(message)
                    }
                } catch {
                    fatal = error
                    return nil
                }
            }
            return requests
        }

        func feed(_ chunk: UnsafeRawBufferPointer) -> Bool {
            var keepGoing = true
            framer.feed(chunk) { line in if keepGoing { keepGoing = self.handle(line) } }
            return keepGoing
        }

        func run() throws -> ExitCode {
            let client = try ctx.makeClient()
            hasCredentials = client.credentials != nil
            var reconnect = Reconnect()
            var failures: [GatewayError] = []
            var step = 0
            while true {
                let index = client.current
                // A new connection re-creates every live watch at its own resume point.
                let live = watchers.filter { !$0.canceled }
                awaitingCreated = live
                byID = [:]
                framer = LineFramer()
                streamError = nil
                staleToken = false
                var delivered = false
                do {
                    try client.duplexWatch(endpoint: index, initialBody: live.flatMap(\.createBody), inputFD: 0,
                                           onInput: { self.readInput() },
                                           sink: { delivered = true; return self.feed($0) })
                } catch {
                    if let fatal { throw fatal }
                    if staleToken {
                        if staleSaid { ctx.notice("etch: \(client.endpoints[index].baseURL) refused the auth token; authenticating again") }
                        justAuthenticated = try client.renewTokenForReconnect()
                        if !justAuthenticated { reconnect.pause() }  // the cluster is busy (an election)
                        continue
                    }
                    if stdinEOF { throw CLIError(.invalidInput, "Error reading watch request line: EOF") }
                    if error.isAborted && ctx.interrupted { ctx.exitBySignal() }
                    if !delivered && !error.mayHaveReachedServer && watchers.isEmpty {
                        // Nothing established yet: fail fast across the endpoints, as for the first connection.
                        failures.append(error)
                        step += 1
                        if step >= client.endpoints.count { throw GatewayError.unreachable(collecting: failures) }
                        client.markCurrent((index + 1) % client.endpoints.count)
                        continue
                    }
                    // A connection that sent what etch cannot read does not count as working: back off from it.
                    var garbled = false
                    if case .malformedReply = streamError { garbled = true }
                    _ = reconnect.ended(working: delivered && !garbled)
                    let why = streamError?.message ?? error.message
                    ctx.notice("etch: watch stream from \(client.endpoints[index].baseURL) broke (\(why)); reconnecting with \(watchers.filter { !$0.canceled }.count) watch(es), each at its own revision")
                    justAuthenticated = try reconnect.advance(client)
                    continue
                }
                if let fatal { throw fatal }
                throw CLIError(.interrupted, "watch is canceled by the server")
            }
        }
    }
}
