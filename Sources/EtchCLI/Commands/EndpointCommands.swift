import EtchGateway
import EtchOutput

/// `etch endpoint health|status|hashkv`: questions asked of each endpoint on its own, not of the cluster.
enum EndpointCommands {
    /// `--cluster`, on `endpoint` (inherited by its subcommands, as cobra's persistent flag) and on `defrag`.
    static let cluster = FlagSpec("cluster", .bool, "use all endpoints from the cluster member list")

    static let spec = CommandSpec.group(
        "endpoint", summary: "Endpoint related commands",
        description: "Checks each endpoint on its own: health (a linearizable read), status (version, database size, leader, raft indexes, alarms) and hashkv (the hash of its key-value history). With --cluster, the endpoints are the client URLs of every member, from the member list. `health --wait D` (etch only) checks until every endpoint is healthy or D runs out (exit 124: some endpoint never answered; 7: all answered, some unhealthy).",
        flags: [cluster],
        [EndpointHealthCommand.spec, status, EndpointHashKVCommand.spec])

    static let status = CommandSpec(
        name: "status", summary: "Prints out the status of endpoints specified in `--endpoints` flag", arguments: "",
        description: "When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint. The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors. All endpoints are asked at once; one that fails is reported on stderr (`Failed to get the status of endpoint X (why)`), the others are printed, and the exit code is 1, after an `Error:` line naming the endpoints that failed.",
        examples: [("etch endpoint status -w table", "every endpoint's status as a table"),
                   ("etch endpoint status --cluster -w jsonl | jq -r 'select(.leader == .member_id) | .endpoint'", "the leader's client URL")],
        flags: [],
        run: runStatus)

    static func runStatus(_ ctx: Context) throws -> ExitCode {
        let output = MaintenanceOutput.status
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        let targets = try ctx.endpointTargets(cluster: ctx.arguments.bool("cluster"), client: client)
        let results = client.fanOut(targets.map(\.endpoint)) { single throws(GatewayError) in
            try single.unary(StatusRequest())
        }
        var list: [EndpointStatus] = []
        var failed: [String] = []
        for (target, r) in zip(targets, results) {
            switch r.result {
            case let .success(status): list.append(EndpointStatus(endpoint: target.display, status: status))
            case let .failure(error):
                failed.append(target.display)
                ctx.stderr.append("Failed to get the status of endpoint \(target.display) (\(error.message))\n")
            }
        }
        ctx.stderr.flush()
        try ctx.emit(list, output, as: format)
        // etcdctl exits 1 after its stderr lines alone; etch adds the one `Error:` line every failure has.
        guard failed.isEmpty else {
            throw CLIError(.error, "failed to get the status of \(failed.count) of \(targets.count) endpoints: \(failed.joined(separator: ", "))")
        }
        return .success
    }
}

/// An endpoint a per-endpoint command talks to alone, with the text etcdctl prints for it.
struct EndpointTarget {
    /// As given in `--endpoints` (`127.0.0.1:2379`, `http://h:2379/`), or a member's client URL.
    var display: String
    var endpoint: Endpoint
}

extension Context {
    /// The endpoints of `endpoint` and `defrag`: `--endpoints` as given or, with `--cluster`, the client URLs of
    /// every member (from the member list, through `client`).
    func endpointTargets(cluster: Bool, client: GatewayClient) throws -> [EndpointTarget] {
        guard cluster else {
            let given = globals.endpoints.filter { !$0.isEmpty }
            return zip(given, client.endpoints).map { EndpointTarget(display: $0, endpoint: $1) }
        }
        do {
            return try clusterTargets(client)
        } catch let error as GatewayError {
            throw CLIError(.error, "failed to fetch endpoints from etcd cluster member list: \(error.message)")
        }
    }

    /// Every member's client URLs, from the member list (a `GatewayError` when it cannot be had).
    func clusterTargets(_ client: GatewayClient) throws -> [EndpointTarget] {
        try client.unary(MemberListRequest()).members.flatMap(\.clientURLs).map { url in
            guard let e = Endpoint(url, tlsByDefault: globals.tlsByDefault) else {
                throw CLIError(.error, "member list gave a client URL that is not an endpoint: \(goQuote(url))")
            }
            return EndpointTarget(display: url, endpoint: e)
        }
    }
}
