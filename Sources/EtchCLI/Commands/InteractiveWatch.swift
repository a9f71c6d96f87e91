import EtchGateway
import EtchOutput
import EtchTransport
import Glibc

/// `etch watch -i`: reads `watch [options] <key> [range_end] [-- cmd]` and `progress` lines from stdin and
/// sends each as a request on one shared watch stream, as etcdctl does; all watches print to stdout.
enum InteractiveWatch {
    /// etcdctl's Argify: words split on white space, '...' taken literally, "..." unescaped as a Go string.
    static func argify(_ line: String) -> [String] {
        var args: [String] = []
        var chars = Substring(line)
        while true {
            chars = chars.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            guard let first = chars.first else { return args }
            if first == "'" {
                let body = chars.dropFirst()
                if let end = body.firstIndex(of: "'") {
                    args.append(String(body[..<end]))
                    chars = body[body.index(after: end)...]
                    continue
                }
            } else if first == "\"" {
                var word = ""
                var i = chars.index(after: chars.startIndex)
                var closed = false
                while i < chars.endIndex {
                    let c = chars[i]
                    if c == "\\", chars.index(after: i) < chars.endIndex {
                        let n = chars[chars.index(after: i)]
                        switch n {
                        case "n": word.append("\n")
                        case "t": word.append("\t")
                        case "r": word.append("\r")
                        default: word.append(n)
                        }
                        i = chars.index(i, offsetBy: 2)
                        continue
                    }
                    if c == "\"" { closed = true; break }
                    word.append(c)
                    i = chars.index(after: i)
                }
                if closed {
                    args.append(word)
                    chars = chars[chars.index(after: i)...]
                    continue
                }
            }
            let end = chars.firstIndex { $0 == " " || $0 == "\t" || $0 == "\r" } ?? chars.endIndex
            args.append(String(chars[..<end]))
            chars = chars[end...]
        }
    }

    /// What one stdin line asks for.
    enum Action: Equatable {
        case watch(WatchCommand.Plan)
        case progress
        /// A message for stderr; the session goes on.
        case invalid(String)
    }

    /// Interprets one line with etcdctl's messages; a flag error or a malformed `--` ends the session (128).
    static func action(for line: String, environment: [String: String]) throws -> Action {
        let args = argify(line)
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

    /// The state of one interactive session: pending commands, per-watch exec commands and fragments.
    final class Session {
        let ctx: Context
        let printer: Printer
        var pendingExec: [[String]] = []
        var execByWatch: [Int64: [String]] = [:]
        var joiners: [Int64: FragmentJoiner] = [:]
        var framer = LineFramer()
        var stdinBuffer: [UInt8] = []
        var stdinEOF = false
        var fatal: (any Error)?
        var streamError: GatewayError?

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
            var joiner = joiners[piece.watchID] ?? FragmentJoiner()
            let whole = joiner.add(piece)
            joiners[piece.watchID] = joiner
            guard let response = whole else { return true }
            if response.created && !response.canceled {
                execByWatch[response.watchID] = pendingExec.isEmpty ? [] : pendingExec.removeFirst()
                return true
            }
            let out = ctx.stdout
            if response.watchID == -1 && response.isProgressNotify {
                // A stream-wide progress answer reaches every watcher, and each prints it, as in etcdctl.
                for _ in execByWatch.keys {
                    out.append("progress notify: ")
                    out.appendInt(response.header.revision)
                    out.append(0x0A)
                    printer.watch(response, to: out)
                }
                out.flush()
                return true
            }
            let exec = execByWatch[response.watchID] ?? []
            if response.canceled { execByWatch[response.watchID] = nil }
            if let failure = WatchCommand.display(response, printer: printer, exec: exec, ctx: ctx) {
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
                let line = String(decoding: stdinBuffer[..<nl], as: UTF8.self)
                stdinBuffer.removeSubrange(...nl)
                do {
                    switch try action(for: line, environment: ctx.environment) {
                    case let .watch(plan):
                        pendingExec.append(plan.exec)
                        requests += plan.request.body() + [0x0A]
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
            var failures: [TransportError] = []
            for step in 0..<client.endpoints.count {
                let index = (client.current + step) % client.endpoints.count
                let request = HTTPRequest(url: client.watchURL(endpoint: index), method: .post,
                                          headers: client.headers + ["Grpc-Metadata-Hasleader: true"])
                do {
                    _ = try client.transport.performDuplex(request, initialBody: [], inputFD: 0,
                                                           onInput: { self.readInput() }, sink: { self.feed($0) })
                } catch {
                    if let fatal { throw fatal }
                    if stdinEOF { throw CLIError(.invalidInput, "Error reading watch request line: EOF") }
                    if error.kind == .aborted && Interrupt.requested { Interrupt.exitBySignal() }
                    if let streamError { throw streamError }
                    if !error.mayHaveReachedServer { failures.append(error); continue }
                    throw GatewayError.transport(error)
                }
                if let fatal { throw fatal }
                throw CLIError(.interrupted, "watch is canceled by the server")
            }
            throw GatewayError.unreachable(failures)
        }
    }
}
