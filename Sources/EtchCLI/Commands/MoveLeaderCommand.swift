import EtchGateway
import EtchOutput

/// `etch move-leader <member>`: hands the leadership to another member.
enum MoveLeaderCommand {
    static let spec = CommandSpec(
        name: "move-leader", summary: "Transfers leadership to another etcd cluster member",
        arguments: "<transferee-member-id>",
        description: "Asks every endpoint for its status, then asks the first one that is the leader to transfer leadership to the member with the given ID (hex, as member list prints it) or, when exactly one member has it, name. Fails with exit code 128 when none of --endpoints is the leader: give them all. The whole exchange is limited by one --command-timeout.",
        examples: [("etch move-leader 8e9e05c52164694d --endpoints $(etch member list -w jsonl | jq -r '.clientURLs[]' | paste -sd,)", "move the leadership, asking every member"),
                   ("etch move-leader m2", "move the leadership to the member named m2")],
        flags: [],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        guard a.positionals.count == 1 else { throw CLIError(.badArgs, "move-leader command needs 1 argument") }
        let output = MaintenanceOutput.moveLeader
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        let target = try Operands.memberID(a.positionals[0], names: {
            try client.unary(MemberListRequest()).members.map { ($0.name, $0.ID) }
        }, badID: { CLIError(.badArgs, $0.message) })
        // One command timeout for the statuses and the transfer, as etcdctl's one context.
        let deadline = CommandDeadline(milliseconds: ctx.commandTimeoutMilliseconds)
        let targets = try ctx.endpointTargets(cluster: false, client: client)
        let statuses = client.fanOut(targets.map(\.endpoint)) { single throws(GatewayError) in
            try single.unary(StatusRequest())
        }
        // The first leader in --endpoints' order; an endpoint before it that failed fails the command.
        for r in statuses {
            let status = try r.result.get()
            guard let header = status.header, header.memberID == status.leader else { continue }
            let leader = client.single(r.endpoint)
            deadline.limit(leader)
            let reply = try leader.unary(MoveLeaderRequest(targetID: target))
            try ctx.emit(LeaderMove(leader: status.leader, target: target, response: reply), output, as: format)
            return .success
        }
        throw CLIError(.badArgs, "no leader endpoint given at [\(targets.map(\.display).joined(separator: " "))]")
    }
}
