import EtchGateway
import EtchOutput
import EtchTransport

/// The global flags every command accepts, each also settable as `ETCDCTL_<NAME>`.
public enum GlobalFlags {
    public static let specs: [FlagSpec] = [
        FlagSpec("endpoints", .stringSlice, default: "127.0.0.1:2379", "gRPC endpoints (comma-separated; host:port, http:// or https://); tried in order, moving on when one cannot be connected to", environment: true),
        FlagSpec("dial-timeout", .duration, default: "2s", "dial timeout for client connections", environment: true),
        FlagSpec("command-timeout", .duration, default: "5s", "timeout for short running command (excluding dial timeout)", environment: true),
        FlagSpec("keepalive-time", .duration, default: "2s", "keepalive time for client connections", environment: true),
        FlagSpec("keepalive-timeout", .duration, default: "6s", "keepalive timeout for client connections", environment: true),
        FlagSpec("cacert", .string, "verify certificates of TLS-enabled secure servers using this CA bundle", isPath: true, environment: true),
        FlagSpec("cert", .string, "identify secure client using this TLS certificate file", isPath: true, environment: true),
        FlagSpec("key", .string, "identify secure client using this TLS key file", isPath: true, environment: true),
        FlagSpec("insecure-transport", .bool, default: "true", "disable transport security for client connections", environment: true),
        FlagSpec("insecure-skip-tls-verify", .bool, "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)", environment: true),
        FlagSpec("insecure-discovery", .bool, default: "true", "accept insecure SRV records describing cluster endpoints", environment: true),
        FlagSpec("discovery-srv", short: "d", .string, "domain name to query for SRV records describing cluster endpoints (not supported by etch)", environment: true),
        FlagSpec("discovery-srv-name", .string, "service name to query when using DNS discovery (not supported by etch)", environment: true),
        FlagSpec("user", .string, "username[:password] for authentication (prompt if password is not supplied)", environment: true),
        FlagSpec("password", .string, "password for authentication (if this option is used, --user option shouldn't include password)", environment: true),
        FlagSpec("write-out", short: "w", .string, default: "simple", "set the output format (fields, json, protobuf, simple, table, jsonl); jsonl is etch's JSON lines for jq", choices: ["simple", "json", "fields", "table", "protobuf", "jsonl"], environment: true),
        FlagSpec("hex", .bool, "print byte strings as hex encoded strings", environment: true),
        FlagSpec("debug", .bool, "enable client-side debug logging: requests and timings on stderr", environment: true),
    ]

    /// `-h/--help`, which every command has.
    public static let help = FlagSpec("help", short: "h", .bool, "help for this command")

    /// Environment variables etch reads that are not global flags.
    static let otherKnownEnvironment: Set<String> = ["ETCDCTL_API", "ETCDCTL_WATCH_KEY", "ETCDCTL_WATCH_RANGE_END"]
}

/// Global settings after merging flags, `ETCDCTL_*` variables and defaults.
public struct GlobalOptions: Sendable {
    public var endpoints: [String] = ["127.0.0.1:2379"]
    public var dialTimeoutNanoseconds: Int64 = 2_000_000_000
    public var commandTimeoutNanoseconds: Int64 = 5_000_000_000
    /// Whether --command-timeout (or ETCDCTL_COMMAND_TIMEOUT) was given: snapshot save has no time limit
    /// otherwise, as in etcdctl.
    public var commandTimeoutGiven = false
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var insecureTransport = true
    public var insecureSkipVerify = false
    public var discoverySRV: String?
    public var user: String?
    public var password: String?
    public var writeOut = "simple"
    public var hex = false
    public var debug = false

    public init() {}

    /// Merges command-line flags and the environment with etcdctl's rule: a global flag given both ways is an
    /// error; unknown `ETCDCTL_*` variables are reported as warnings (their values are never echoed).
    public static func resolve(_ parsed: ParsedArguments, environment: [String: String]) throws(CLIError) -> (GlobalOptions, warnings: [String]) {
        var merged = parsed
        var warnings: [String] = []
        let known = Set(GlobalFlags.specs.compactMap(\.environmentName)).union(GlobalFlags.otherKnownEnvironment)
        for name in environment.keys.sorted() where name.hasPrefix("ETCDCTL_") && !known.contains(name) {
            warnings.append("unrecognized environment variable \(name)")
        }
        if let api = environment["ETCDCTL_API"], !api.isEmpty, api != "3" {
            throw CLIError(.error, "etch speaks only etcd's v3 API (ETCDCTL_API=\(api))")
        }
        for flag in GlobalFlags.specs {
            guard let envName = flag.environmentName, let value = environment[envName] else { continue }
            if parsed.isSet(flag.name) {
                throw CLIError(.error, "conflicting environment variable \"\(envName)\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)")
            }
            if value.isEmpty { continue }
            do {
                try ArgumentParser(flags: [flag]).set(flag, value, &merged)
            } catch {
                throw CLIError(.error, "invalid value in \(envName): \(error.message)")
            }
        }
        var o = GlobalOptions()
        if let e = merged.values["endpoints"] { o.endpoints = e }
        if let d = merged.string("dial-timeout") { o.dialTimeoutNanoseconds = GoDuration.parse(d) ?? 0 }
        if let d = merged.string("command-timeout") {
            o.commandTimeoutNanoseconds = GoDuration.parse(d) ?? 0
            o.commandTimeoutGiven = true
        }
        o.caFile = merged.string("cacert").flatMap { $0.isEmpty ? nil : $0 }
        o.certFile = merged.string("cert").flatMap { $0.isEmpty ? nil : $0 }
        o.keyFile = merged.string("key").flatMap { $0.isEmpty ? nil : $0 }
        if merged.isSet("insecure-transport") { o.insecureTransport = merged.bool("insecure-transport") }
        o.insecureSkipVerify = merged.bool("insecure-skip-tls-verify")
        o.discoverySRV = merged.string("discovery-srv").flatMap { $0.isEmpty ? nil : $0 }
        o.user = merged.string("user").flatMap { $0.isEmpty ? nil : $0 }
        o.password = merged.string("password").flatMap { $0.isEmpty ? nil : $0 }
        if let w = merged.string("write-out") { o.writeOut = w }
        o.hex = merged.bool("hex")
        o.debug = merged.bool("debug")
        return (o, warnings)
    }

    /// The output format, or etcdctl's error for one etch does not print.
    public func outputFormat() throws(CLIError) -> OutputFormat {
        if let f = OutputFormat(rawValue: writeOut) { return f }
        if writeOut == "table" || writeOut == "protobuf" {
            throw CLIError(.badFeature, "\(writeOut) not supported as output format")
        }
        throw CLIError(.badFeature, "unsupported output format")
    }

    /// Whether scheme-less endpoints use TLS: when any TLS file is given or transport security is on.
    var tlsByDefault: Bool {
        caFile != nil || certFile != nil || keyFile != nil || !insecureTransport || insecureSkipVerify
    }

    /// The endpoints as URLs, or an error naming the one that is not an endpoint.
    public func parsedEndpoints() throws(CLIError) -> [Endpoint] {
        let list = endpoints.filter { !$0.isEmpty }
        if list.isEmpty { throw CLIError(.badConnection, "etcdclient: no available endpoints") }
        var out: [Endpoint] = []
        for text in list {
            guard let e = Endpoint(text, tlsByDefault: tlsByDefault), Self.hasPort(e.hostPort) else {
                throw CLIError(.error, "invalid endpoint \(goQuote(text)): expected host:port, http://host:port or https://host:port")
            }
            out.append(e)
        }
        return out
    }

    private static func hasPort(_ hostPort: String) -> Bool {
        guard let colon = hostPort.lastIndex(of: ":") else { return false }
        let port = hostPort[hostPort.index(after: colon)...]
        let host = hostPort[..<colon]
        if host.isEmpty || port.isEmpty || !port.allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        if host.hasPrefix("[") { return host.hasSuffix("]") }
        return !host.contains(":")
    }
}
