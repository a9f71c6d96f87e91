import EtchGateway
import EtchOutput
import EtchTransport
import Glibc

/// What a running command needs: its parsed arguments, the global options, the environment and the output
/// streams. Commands reach the server only through `makeClient()`.
public final class Context {
    public let arguments: ParsedArguments
    public let globals: GlobalOptions
    public let environment: [String: String]
    public let stdout: OutputBuffer
    public let stderr: OutputBuffer

    init(arguments: ParsedArguments, globals: GlobalOptions, environment: [String: String],
         stdout: OutputBuffer, stderr: OutputBuffer) {
        self.arguments = arguments
        self.globals = globals
        self.environment = environment
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Writes one `--debug` line to stderr.
    func debug(_ line: String) {
        guard globals.debug else { return }
        stderr.append("etch: " + line + "\n")
        stderr.flush()
    }

    /// Exits as the signal that interrupted etch would have (commands never touch the transport themselves).
    func exitBySignal() -> Never { Interrupt.exitBySignal() }

    /// Whether SIGINT or SIGTERM arrived.
    var interrupted: Bool { Interrupt.requested }

    /// The signal that interrupted etch (SIGINT or SIGTERM), to pass on to a child.
    var interruptSignal: Int32 { Interrupt.signalNumber }

    /// Writes a notice to stderr at once.
    func notice(_ line: String) {
        stderr.append(line + "\n")
        stderr.flush()
    }

    /// The printer for the chosen output format (get, put, del and watch, which have no table form).
    func printer(valueOnly: Bool = false, keysOnly: Bool = false) throws -> Printer {
        let format = try globals.outputFormat()
        if format == .table { throw CLIError(.badFeature, "table not supported as output format") }
        return makePrinter(format, hex: globals.hex, valueOnly: valueOnly, keysOnly: keysOnly)
    }

    /// The chosen output format, refused before any request is sent when `output` lacks it (etcdctl sends the
    /// request, applies the change, then says the format is not supported).
    func format<V>(for output: Output<V>) throws -> OutputFormat {
        let format = try globals.outputFormat()
        guard output.supports(format) else { throw CLIError(.badFeature, "\(format.rawValue) not supported as output format") }
        return format
    }

    /// Writes a response in the format `format(for:)` chose.
    func emit<V>(_ value: V, _ output: Output<V>, as format: OutputFormat) throws {
        try output.write(value, as: format, to: stdout)
    }

    /// Runs a write (`what`: "put", "delete", ...). A write that may have reached the server is never sent
    /// again, so when its outcome is unknown the error says so, rather than leave the script to guess.
    func write<T>(_ what: String, _ body: () throws(GatewayError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            guard error.writeOutcomeUnknown else { throw error }
            throw CLIError(.error, error.message + "; the outcome of the \(what) is unknown (it may have been applied): check with get before retrying")
        }
    }

    /// The common shape of a unary command: check the format, send `request`, print the reply with `output`.
    /// With `failing`, a failed call is reported with that exit code in `wording` (etcdctl's own words for some
    /// commands, such as `failed to grant lease (...)`).
    func unary<R: UnaryRPC>(_ request: R, _ output: Output<R.Response>, failing code: ExitCode? = nil,
                            wording: (String) -> String = { $0 }) throws -> ExitCode {
        let format = try format(for: output)
        let client = try makeClient()
        let reply: R.Response
        do {
            reply = try client.unary(request)
        } catch {
            guard let code else { throw error }
            if interrupted { exitBySignal() }
            throw CLIError(code, wording(error.message))
        }
        try emit(reply, output, as: format)
        return .success
    }

    /// Connects the gateway client (and authenticates when `--user` is given). With `deferAuthentication`, the
    /// client only keeps the credentials and authenticates when a server first asks for a token, so an
    /// unreachable or refusing endpoint is that endpoint's failure, not the command's (endpoint health).
    func makeClient(deferAuthentication: Bool = false) throws -> GatewayClient {
        if globals.discoverySRV != nil {
            throw CLIError(.badFeature, "--discovery-srv is not supported by etch; list the members with --endpoints")
        }
        let endpoints = try globals.parsedEndpoints()
        let client = try connect(endpoints, caFile: globals.caFile, certFile: globals.certFile, keyFile: globals.keyFile,
                                 insecureSkipVerify: globals.insecureSkipVerify)
        if let user = globals.user { try authenticate(client, user: user, now: !deferAuthentication) }
        return client
    }

    /// A client for `endpoints` with these TLS files, which are opened first: etcdctl opens them before
    /// dialing and fails on a missing one with Go's message and 128. (make-mirror's destination has its own.)
    func connect(_ endpoints: [Endpoint], caFile: String?, certFile: String?, keyFile: String?,
                 insecureSkipVerify: Bool, tlsFlagPrefix: String = "") throws -> GatewayClient {
        for path in [caFile, certFile, keyFile].compactMap({ $0 }) {
            let fd = open(path, O_RDONLY)
            if fd < 0 {
                var why = String(cString: strerror(errno))
                if let first = why.first { why = first.lowercased() + why.dropFirst() }
                throw CLIError(.badArgs, "open \(path): \(why)")
            }
            close(fd)
        }
        var options = TransportOptions()
        options.connectTimeoutMilliseconds = max(1, GoDuration.milliseconds(globals.dialTimeoutNanoseconds))
        options.caFile = caFile
        options.certFile = certFile
        options.keyFile = keyFile
        options.insecureSkipVerify = insecureSkipVerify
        options.tlsFlagPrefix = tlsFlagPrefix
        let transport = HTTPTransport(options: options)
        if globals.debug {
            transport.debugLog = { [stderr] line in
                stderr.append("etch: " + line + "\n")
                stderr.flush()
            }
        }
        return GatewayClient(endpoints: endpoints, transport: transport, commandTimeoutMilliseconds: commandTimeoutMilliseconds)
    }

    /// `--command-timeout` in milliseconds; a zero or negative timeout expires at once, as in etcdctl.
    var commandTimeoutMilliseconds: Int {
        globals.commandTimeoutNanoseconds <= 0 ? 1 : GoDuration.milliseconds(globals.commandTimeoutNanoseconds)
    }

    /// Gets a token for `user` and attaches it to every later call. As in etcdctl: with `--password`, `--user`
    /// is the whole name; without it, `name:password`, or a name alone and the password asked for on the
    /// terminal. A failed authentication exits 2, as etcdctl's failed client set-up does.
    private func authenticate(_ client: GatewayClient, user: String, now: Bool) throws {
        var name = user
        var password = globals.password
        if password == nil, let colon = user.firstIndex(of: ":") {
            name = String(user[..<colon])
            password = String(user[user.index(after: colon)...])
        }
        if password == nil {
            guard isatty(0) != 0 else {
                throw CLIError(.error, "no password for user \(goQuote(name)): give --password, ETCDCTL_PASSWORD or --user name:password (stdin is not a terminal to ask on)")
            }
            password = readPasswordFromTerminal(prompt: "Password: ")
        }
        client.credentials = (name, password ?? "")
        guard now else { return }
        do {
            try client.authenticate()
        } catch let GatewayError.server(_, message, _) where message.hasSuffix("authentication is not enabled") {
            // As etcdctl's client: with authentication off, go on without a token (`--user root:pw auth
            // enable` is how scripts turn it on).
            client.credentials = nil
        } catch {
            throw CLIError(.badConnection, error.message)
        }
    }
}

/// Reads a line from the terminal without echo.
func readPasswordFromTerminal(prompt: String) -> String {
    let err = OutputBuffer(fd: 2)
    err.append(prompt)
    err.flush()
    var saved = termios()
    tcgetattr(0, &saved)
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(0, TCSANOW, &quiet)
    defer {
        tcsetattr(0, TCSANOW, &saved)
        err.append("\n")
        err.flush()
    }
    var bytes: [UInt8] = []
    var c: UInt8 = 0
    while read(0, &c, 1) == 1, c != 0x0A { bytes.append(c) }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads all of standard input as bytes, exactly as given.
func readAllStandardInput() throws -> [UInt8] {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n == 0 { return out }
        if n < 0 {
            if errno == EINTR { continue }
            throw CLIError(.io, "reading standard input: \(String(cString: strerror(errno)))")
        }
        out.append(contentsOf: buffer[0..<n])
    }
}
