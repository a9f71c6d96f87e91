import EtchGateway
import EtchOutput

/// `etch endpoint health [--wait D]`: a linearizable read on each endpoint at once; with `--wait`, again until
/// every endpoint is healthy or D runs out.
enum EndpointHealthCommand {
    static let spec = CommandSpec(
        name: "health", summary: "Checks the healthiness of endpoints specified in `--endpoints` flag", arguments: "",
        description: """
        Reads the key "health" (linearizable, so it goes through consensus) on every endpoint at once; an endpoint \
        that answers, or refuses with permission denied, is healthy. -w simple reports on stderr, as etcdctl does, \
        in the order the answers came; any unhealthy endpoint makes it exit 1 (`Error: unhealthy cluster`). \
        With --wait D (etch only), checks again, at least once a second, until every endpoint is healthy (exit 0) or \
        D runs out: then exit 124 if some endpoint never answered at all (no connection could be made), or 7 if \
        every endpoint answered but some are unhealthy (no leader, an error). The last round is printed.
        """,
        examples: [("etch endpoint health --cluster -w table", "every member's health as a table"),
                   ("etch endpoint health --wait 60s", "wait in CI until etcd is up and healthy")],
        flags: [FlagSpec("wait", .duration, "etch only: check again until every endpoint is healthy or this long has passed (exit 124: some endpoint never answered; 7: unhealthy)")],
        run: run)

    /// How one endpoint fared.
    enum Verdict: Equatable {
        case healthy
        /// It answered (or took a connection and did not answer in time), but not with a committed read.
        case unhealthy
        /// No connection could be made.
        case unreachable
    }

    /// The verdict on one endpoint's answer: any reply, or permission denied (the read went through
    /// consensus to be refused), is healthy.
    static func verdict(_ result: Result<RangeResponse, GatewayError>) -> (Verdict, String) {
        switch result {
        case .success: return (.healthy, "")
        case let .failure(error):
            if case let .server(code, message, _) = error, code == GatewayError.Code.permissionDenied,
               message.contains("permission denied") {
                return (.healthy, "")
            }
            if case .unreachable = error { return (.unreachable, error.message) }
            return (.unhealthy, error.message)
        }
    }

    /// One round: every target checked at once, in the order the answers came.
    static func check(_ client: GatewayClient, _ targets: [EndpointTarget]) -> [(EndpointHealth, Verdict)] {
        let results = client.fanOut(targets.map(\.endpoint)) { single throws(GatewayError) in
            try single.range(RangeRequest(key: Array("health".utf8)))
        }
        return zip(targets, results).sorted { $0.1.completion < $1.1.completion }.map { target, r in
            let (v, why) = verdict(r.result)
            let took = GoFormat.duration(nanoseconds: Int64(clamping: r.elapsedNanoseconds))
            return (EndpointHealth(endpoint: target.display, health: v == .healthy, took: took, error: why), v)
        }
    }

    /// The error a `--wait` that ran out ends with: 124 when some endpoint (or, with --cluster, the member list)
    /// never answered, else 7.
    static func waitFailure(_ round: [(EndpointHealth, Verdict)], listFailure: (Verdict, String)?, waited: String) -> CLIError {
        let prefix = "unhealthy cluster after waiting \(waited): "
        if let (verdict, why) = listFailure {
            return CLIError(verdict == .unreachable ? .timedOut : .unhealthy, prefix + why)
        }
        let silent = round.filter { $0.1 == .unreachable }.map(\.0.endpoint)
        if !silent.isEmpty { return CLIError(.timedOut, prefix + "no answer from \(silent.joined(separator: ", "))") }
        let sick = round.filter { $0.1 == .unhealthy }.map(\.0.endpoint)
        return CLIError(.unhealthy, prefix + "\(sick.joined(separator: ", ")) reachable but not healthy")
    }

    /// etcdctl prints `simple` on stderr, the other formats on stdout.
    static func emit(_ ctx: Context, _ list: [EndpointHealth], _ format: OutputFormat) throws {
        let out = format == .simple ? ctx.stderr : ctx.stdout
        try MaintenanceOutput.health.write(list, as: format, to: out)
        out.flush()
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let format = try ctx.format(for: MaintenanceOutput.health)
        let cluster = ctx.arguments.bool("cluster")
        // Authentication waits until a server asks for a token: a member that refuses it is unhealthy, as in
        // etcdctl, and --wait can start before etcd does.
        let client = try ctx.makeClient(deferAuthentication: true)
        guard let waitText = ctx.arguments.string("wait") else {
            let round = check(client, try ctx.endpointTargets(cluster: cluster, client: client))
            try emit(ctx, round.map(\.0), format)
            if round.contains(where: { $0.1 != .healthy }) { throw CLIError(.error, "unhealthy cluster") }
            return .success
        }
        let limit = UInt64(max(0, GoDuration.parse(waitText) ?? 0))
        let deadline = Deadline.now + limit
        let commandTimeout = client.commandTimeoutMilliseconds
        var pause = 100
        while true {
            // No round outlasts the wait: each call gets at most the time left.
            let left = deadline > Deadline.now ? deadline - Deadline.now : 0
            client.commandTimeoutMilliseconds = max(1, min(commandTimeout, Int(left / 1_000_000)))
            var round: [(EndpointHealth, Verdict)] = []
            var listFailure: (Verdict, String)?
            do {
                let targets = cluster ? try ctx.clusterTargets(client) : try ctx.endpointTargets(cluster: false, client: client)
                round = check(client, targets)
            } catch let error as GatewayError {
                // --cluster and no member list yet: nothing to check this round.
                var unreachable = false
                if case .unreachable = error { unreachable = true }
                listFailure = (unreachable ? .unreachable : .unhealthy, "failed to fetch endpoints from etcd cluster member list: \(error.message)")
            }
            if ctx.interrupted { ctx.exitBySignal() }
            if listFailure == nil && round.allSatisfy({ $0.1 == .healthy }) {
                try emit(ctx, round.map(\.0), format)
                return .success
            }
            if Deadline.now >= deadline {
                try emit(ctx, round.map(\.0), format)
                throw waitFailure(round, listFailure: listFailure, waited: waitText)
            }
            let rest = Int((deadline - Deadline.now) / 1_000_000)
            Backoff.sleep(milliseconds: min(pause, max(1, rest)))
            if ctx.interrupted { ctx.exitBySignal() }
            pause = min(pause * 2, 1000)
        }
    }
}
