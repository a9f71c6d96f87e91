import EtchTransport

/// Everything that can go wrong talking to the gateway, in terms a user can act on.
public enum GatewayError: Error, Sendable, Equatable {
    /// The server answered with an error status (gRPC code and message), in the 3.3-3.5 or the 3.6 shape.
    case server(code: Int, message: String, httpStatus: Int)
    /// No endpoint could be connected to; one failure per endpoint tried.
    case unreachable([TransportError])
    /// The request failed after reaching an endpoint.
    case transport(TransportError)
    /// The server closed the connection without a reply.
    case emptyReply(endpoint: String)
    /// The reply was not what the gateway sends: not JSON, wrong types, bad base64.
    case malformedReply(String)
    /// An HTTP error whose body is not one of etcd's error shapes (a proxy's page, a 404 from something else).
    case http(status: Int, endpoint: String, snippet: String)
    /// A time limit the user set ran out.
    case timedOut(endpoint: String, limitMilliseconds: Int)

    /// gRPC status codes the CLI tells apart.
    public enum Code {
        public static let invalidArgument = 3
        public static let deadlineExceeded = 4
        public static let notFound = 5
        public static let permissionDenied = 7
        public static let failedPrecondition = 9
        public static let outOfRange = 11
        public static let unavailable = 14
        public static let unauthenticated = 16
    }

    /// Reads an error body in either known shape: `{"error":m,"code":c,"message":m}` (3.3-3.5) or
    /// `{"code":c,"message":m}` (3.6). Nil when the body is neither.
    public static func parseErrorBody(_ body: [UInt8], httpStatus: Int) -> GatewayError? {
        guard let json = try? JSONParser.parse(body), json.isObject else { return nil }
        guard let code = json["code"]?.int64Value else { return nil }
        let message = json["message"]?.stringValue ?? json["error"]?.stringValue ?? ""
        return .server(code: Int(code), message: message, httpStatus: httpStatus)
    }

    /// Reads an in-band stream error: v1 `{"error":{"grpc_code":c,"http_code":h,"message":m}}` or
    /// v2 `{"error":{"code":c,"message":m}}`.
    public static func parseStreamError(_ json: JSON) -> GatewayError? {
        guard let e = json["error"], e.isObject else { return nil }
        let code = e["grpc_code"]?.int64Value ?? e["code"]?.int64Value ?? 2
        let http = e["http_code"]?.int64Value ?? 200
        return .server(code: Int(code), message: e["message"]?.stringValue ?? "", httpStatus: Int(http))
    }

    /// Whether a write that failed this way may nevertheless have been applied: the request may have reached a
    /// server and no answer from etcd says it was refused (a cut or timed-out exchange, an empty or unreadable
    /// reply, a proxy's error page). Such a write is never sent again automatically.
    public var writeOutcomeUnknown: Bool {
        switch self {
        case .server, .unreachable: return false
        case let .transport(t): return t.mayHaveReachedServer && t.kind != .aborted
        case .emptyReply, .malformedReply, .http, .timedOut: return true
        }
    }

    /// The message printed after `Error: `: one line, whatever the server sent.
    public var message: String { GatewayError.printable(rawMessage) }

    /// Text from the server made safe for one line of a terminal: control characters escaped as Go's %q
    /// escapes them (a hostile server cannot move the cursor, retitle the window or add lines), and no longer
    /// than `limit` characters.
    public static func printable(_ text: String, limit: Int = 1000) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { return out + "..." }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else if (0x80...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private var rawMessage: String {
        switch self {
        case let .server(_, message, _):
            return message
        case let .unreachable(failures):
            let parts = failures.map { "\(Endpoint.display($0.url)): \($0.detail)" }
            return "cannot connect to any endpoint (" + parts.joined(separator: "; ") + ")"
        case let .transport(t):
            switch t.kind {
            case .timeout, .idle:
                return "context deadline exceeded (no complete reply from \(Endpoint.display(t.url)): \(t.detail))"
            case .tls:
                return "\(Endpoint.display(t.url)): \(t.detail)"
            case .broken:
                return "the connection to \(Endpoint.display(t.url)) broke before the reply was complete (\(t.detail))"
            default:
                return "\(Endpoint.display(t.url)): \(t.detail)"
            }
        case let .emptyReply(endpoint):
            return "\(endpoint) closed the connection without a reply"
                + (endpoint.hasPrefix("http://") ? " (if it serves TLS, use https:// or give --cacert)" : "")
        case let .malformedReply(why):
            return "unexpected reply from the server: \(why)"
        case let .http(status, endpoint, snippet):
            return "\(endpoint) answered HTTP \(status)" + (snippet.isEmpty ? "" : ": \(snippet)")
        case let .timedOut(endpoint, ms):
            return "context deadline exceeded (no reply from \(endpoint) within \(ms)ms)"
        }
    }
}

/// One `--endpoints` entry with its scheme made explicit.
public struct Endpoint: Equatable, Sendable {
    public var scheme: String
    public var hostPort: String

    /// Parses `host:port`, `http://host:port` or `https://host:port`; a bare `host:port` is https when
    /// `tlsByDefault` (client TLS files were given), as etcdctl does.
    public init?(_ text: String, tlsByDefault: Bool) {
        // Trailing slashes dropped in one pass (a loop of hasSuffix/dropLast took 25 s on 100,000 of them).
        let kept = text.utf8.lastIndex { $0 != UInt8(ascii: "/") }.map { text.utf8.index(after: $0) } ?? text.utf8.startIndex
        var s = Substring(text[..<kept])
        if s.hasPrefix("http://") {
            scheme = "http"; s = s.dropFirst(7)
        } else if s.hasPrefix("https://") {
            scheme = "https"; s = s.dropFirst(8)
        } else if s.contains("://") {
            return nil
        } else {
            scheme = tlsByDefault ? "https" : "http"
        }
        if s.isEmpty || s.contains("/") || s.contains(" ") { return nil }
        hostPort = String(s)
    }

    public var baseURL: String { "\(scheme)://\(hostPort)" }

    /// The endpoint part of a request URL, for messages.
    public static func display(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.split(separator: "/", maxSplits: 1).first ?? rest
        return String(url[..<schemeEnd.upperBound]) + host
    }
}
