import EtchGateway

/// `etch version`: etch's version and, when reachable, the server's.
enum VersionCommand {
    static let version = "0.1.0"
    static let apiVersion = "3.4"

    static let spec = CommandSpec(
        name: "version",
        summary: "Prints the version of etch and of the server",
        arguments: "",
        description: "Prints etch's version, the API version it speaks and the git commit etch was built from (\"-dirty\" when built with uncommitted changes, \"unknown\" outside a git checkout), then the server and cluster version from the first endpoint that answers (GET /version). An unreachable server is reported on stderr and does not fail the command.",
        examples: [("etch version", "print the versions"), ("etch --endpoints 10.0.0.5:2379 version", "ask a particular member")],
        flags: []
    )

    static func run(_ ctx: Context) throws -> ExitCode {
        ctx.stdout.append("etch version: \(version)\nAPI version: \(apiVersion)\nGit SHA: \(BuildInfo.gitCommit)\n")
        ctx.stdout.flush()
        do {
            let client = try ctx.makeClient()
            let v = try client.version()
            ctx.stdout.append("Server version: \(v.server)\nCluster version: \(v.cluster)\n")
        } catch let e as GatewayError {
            ctx.notice("etch: server version unavailable: \(e.message)")
        }
        return .success
    }
}
