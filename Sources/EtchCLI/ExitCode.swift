/// etcdctl's exit codes, defined once.
public enum ExitCode: Int32, Sendable, CaseIterable {
    case success = 0
    /// RPC error, timeout, unknown command or flag, unreachable endpoints.
    case error = 1
    /// No usable endpoint was given.
    case badConnection = 2
    /// Malformed input on stdin (interactive watch EOF).
    case invalidInput = 3
    /// An output format or option value the command does not support.
    case badFeature = 4
    /// The server canceled a watch (compaction, revoked permission).
    case interrupted = 5
    /// Reading input or writing output failed.
    case io = 6
    /// etch only: `watch --timeout` or `wait --timeout` ran out (the code GNU timeout uses).
    case timedOut = 124
    /// Missing arguments or conflicting flags.
    case badArgs = 128
}

/// An error the CLI reports as `Error: <message>` with an exit code.
public struct CLIError: Error, Equatable, Sendable {
    public var code: ExitCode
    public var message: String
    /// Extra lines printed after the message (usage hints, suggestions).
    public var detail: String?

    public init(_ code: ExitCode, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }
}
