/// etcdctl's exit codes, defined once.
public enum ExitCode: Int32, Sendable, CaseIterable {
    case success = 0
    /// RPC error, timeout, unknown command or flag, unreachable endpoints.
    case error = 1
    /// No usable endpoint was given, authentication failed, or (as etcdctl) lease timetolive, list or
    /// keep-alive --once failed.
    case badConnection = 2
    /// Malformed input on stdin (txn's grammar, the end of txn's or interactive watch's input).
    case invalidInput = 3
    /// An output format or option value the command does not support.
    case badFeature = 4
    /// The server canceled a watch (compaction, revoked permission).
    case interrupted = 5
    /// Reading input or writing output failed.
    case io = 6
    /// etch only: `endpoint health --wait` ran out with every endpoint answering, some of them unhealthy.
    case unhealthy = 7
    /// etch only: the lease holding a lock or an election was lost (expired, revoked, not renewed in time).
    case leaseLost = 8
    /// etch only: `watch --timeout` or `wait --timeout` ran out (the code GNU timeout uses); `endpoint health
    /// --wait` ran out with some endpoint never answering; `lock --timeout` ran out before the lock was acquired.
    case timedOut = 124
    /// Missing arguments or conflicting flags.
    case badArgs = 128

    /// What the code means, for the man page.
    public var meaning: String {
        switch self {
        case .success: return "Success. A missing key is not an error: get prints nothing."
        case .error: return "An error: the server's error, a timeout, unreachable endpoints, an unknown command or flag, a failed watch command."
        case .badConnection: return "No usable endpoint was given (--endpoints=), or authentication failed; as in etcdctl, also the errors of lease timetolive, lease list and lease keep-alive --once."
        case .invalidInput: return "Invalid input: a txn line etcdctl refuses, input that ends before txn's third part, the end of input of watch --interactive."
        case .badFeature: return "An unsupported output format or option value (-w table, --sort-by=bad, --consistency=x)."
        case .interrupted: return "The server canceled the watch, for example because its start revision has been compacted."
        case .io: return "An I/O error reading standard input or writing standard output."
        case .unhealthy: return "etch only: endpoint health --wait ran out; every endpoint answered, but some were not healthy (no leader, an error)."
        case .leaseLost: return "etch only: the lease of lock or elect was lost (expired, revoked, or not renewed within its TTL); lock's command was stopped (SIGTERM, then SIGKILL after 5 s)."
        case .timedOut: return "etch only: watch --timeout or wait --timeout ran out; endpoint health --wait ran out with some endpoint never answering (no connection could be made); lock --timeout ran out before the lock was acquired (no waiting key is left behind)."
        case .badArgs: return "Bad arguments: a missing key, conflicting flags."
        }
    }
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
