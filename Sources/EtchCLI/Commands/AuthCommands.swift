import EtchGateway
import EtchOutput

/// `etch auth enable|disable|status`: turns etcd's authentication on and off, and (etcd 3.5) reports it.
enum AuthCommands {
    static let spec = CommandSpec.group(
        "auth", summary: "Enable or disable authentication",
        description: "Turns authentication on or off, or (etcd 3.5 and later) shows whether it is on. Authentication needs a user root with the role root: auth enable creates the role and grants it to root when root lacks it, as etcdctl does.",
        [enable, disable, status])

    static let enable = CommandSpec(
        name: "enable", summary: "Enables authentication", arguments: "",
        description: "Enables authentication. The user root must exist; when it lacks the role root, the role is created (if missing) and granted to root first, as etcdctl does. Prints `Authentication Enabled` in every format but jsonl.",
        examples: [("etch user add root:s3cret && etch auth enable", "create root, then require authentication")],
        flags: [],
        run: runEnable)

    /// etcd's error when the user root exists but does not have the role root.
    static let rootRoleMissing = "etcdserver: root user does not have root role"

    /// Enables authentication, adding and granting the role root first when etcd says root lacks it.
    static func runEnable(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.isEmpty else {
            throw CLIError(.badArgs, "auth enable command does not accept any arguments")
        }
        let output = AuthOutput.authSwitched(enabled: true)
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        let reply: HeaderOnlyResponse
        do {
            reply = try client.unary(AuthEnableRequest())
        } catch let GatewayError.server(_, message, _) where message == rootRoleMissing {
            // As etcdctl: add the role root (an error, such as the role existing already, ends here), grant it
            // to root, and try once more.
            _ = try client.unary(AuthRoleAddRequest(name: "root"))
            _ = try client.unary(AuthUserGrantRoleRequest(user: "root", role: "root"))
            reply = try client.unary(AuthEnableRequest())
        }
        try ctx.emit(reply, output, as: format)
        return .success
    }

    static let disable = CommandSpec(
        name: "disable", summary: "Disables authentication", arguments: "",
        description: "Disables authentication (as root, while it is enabled). Prints `Authentication Disabled` in every format but jsonl.",
        examples: [("etch --user root:s3cret auth disable", "stop requiring authentication")],
        flags: [],
        run: { ctx in
            guard ctx.arguments.positionals.isEmpty else {
                throw CLIError(.badArgs, "auth disable command does not accept any arguments")
            }
            return try ctx.unary(AuthDisableRequest(), AuthOutput.authSwitched(enabled: false))
        })

    static let status = CommandSpec(
        name: "status", summary: "Returns authentication status", arguments: "",
        description: "Prints whether authentication is enabled and the auth store's revision, as etcdctl 3.5 does (`Authentication Status: true`, `AuthRevision: 5`). Needs etcd 3.5 or later: etcd 3.4 has no such call, and etch says so.",
        examples: [("etch auth status", "is authentication on?"),
                   ("etch auth status -w jsonl | jq .enabled", "true or false, for scripts")],
        flags: [],
        run: runStatus)

    /// Asks etcd 3.5+ for the auth status; a 404 from an older server becomes an error that says so.
    static func runStatus(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.isEmpty else {
            throw CLIError(.badArgs, "auth status command does not accept any arguments")
        }
        do {
            return try ctx.unary(AuthStatusRequest(), AuthOutput.authStatus)
        } catch let GatewayError.http(status, endpoint, _) where status == 404 {
            throw CLIError(.error, "auth status needs etcd 3.5 or later: \(endpoint) has no /v3/auth/status (HTTP 404)")
        }
    }
}
