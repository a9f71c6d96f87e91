import EtchGateway
import EtchOutput

/// `etch member list|add|remove|update|promote`: cluster membership.
enum MemberCommands {
    static let spec = CommandSpec.group(
        "member", summary: "Membership related commands",
        description: "Lists, adds, removes, updates and promotes the members of the cluster. Where etcdctl takes a member ID in hex, etch also takes the member's name when exactly one member has it.",
        [list, add, remove, update, promote])

    static let list = CommandSpec(
        name: "list", summary: "Lists all members in the cluster", arguments: "",
        description: "Lists the members: with -w simple one comma-separated line per member, with the items ID, Status, Name, Peer Addrs, Client Addrs, Is Learner; -w table prints the same as a table.",
        examples: [("etch member list -w table", "the members as a table"),
                   ("etch member list -w jsonl | jq -r .name", "the members' names")],
        flags: [],
        run: { ctx in try ctx.unary(MemberListRequest(), ClusterOutput.list) })

    static let peerURLs = FlagSpec("peer-urls", .string, "comma separated peer URLs for the new member.")

    static let add = CommandSpec(
        name: "add", summary: "Adds a member into the cluster", arguments: "<memberName> [options]",
        description: "Adds a member named <memberName> with the given peer URLs and prints the environment to start it with (ETCD_NAME, ETCD_INITIAL_CLUSTER, ETCD_INITIAL_ADVERTISE_PEER_URLS, ETCD_INITIAL_CLUSTER_STATE).",
        examples: [("etch member add n4 --peer-urls=http://10.0.0.4:2380", "add a voting member"),
                   ("etch member add n4 --peer-urls=http://10.0.0.4:2380 --learner", "add a learner, to promote once it has caught up")],
        flags: [FlagSpec("peer-urls", .string, "comma separated peer URLs for the new member."),
                FlagSpec("learner", .bool, "indicates if the new member is raft learner")],
        run: runAdd)

    static func runAdd(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        guard let name = a.positionals.first else { throw CLIError(.badArgs, "member name not provided") }
        if a.positionals.count > 1 {
            var why = "too many arguments"
            for s in a.positionals where s.lowercased().hasPrefix("http") { why += ", did you mean --peer-urls=\(s)" }
            throw CLIError(.badArgs, why)
        }
        let urls = a.string("peer-urls") ?? ""
        guard !urls.isEmpty else { throw CLIError(.badArgs, "member peer urls not provided") }
        let request = MemberAddRequest(peerURLs: urls.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
                                       isLearner: a.bool("learner"))
        return try ctx.unary(request, ClusterOutput.add(name: name, peerURLs: urls))
    }

    static let remove = CommandSpec(
        name: "remove", summary: "Removes a member from the cluster", arguments: "<memberID>",
        description: "Removes the member with the given ID (hex, as member list prints it) or, when exactly one member has it, name.",
        examples: [("etch member remove 8e9e05c52164694d", "remove a member by ID"), ("etch member remove n3", "remove the member named n3")],
        flags: [],
        run: { ctx in
            let id = try memberID(ctx)
            return try ctx.unary(MemberRemoveRequest(ID: id), ClusterOutput.changed(id, verb: "removed from", structured: true))
        })

    static let update = CommandSpec(
        name: "update", summary: "Updates a member in the cluster", arguments: "<memberID> [options]",
        description: "Sets the peer URLs of the member with the given ID (hex) or name.",
        examples: [("etch member update 8e9e05c52164694d --peer-urls=http://10.0.0.9:2380", "move a member's peer URL")],
        flags: [FlagSpec("peer-urls", .string, "comma separated peer URLs for the updated member.")],
        run: { ctx in
            let id = try memberID(ctx)
            let urls = ctx.arguments.string("peer-urls") ?? ""
            guard !urls.isEmpty else { throw CLIError(.badArgs, "member peer urls not provided") }
            let request = MemberUpdateRequest(ID: id, peerURLs: urls.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            return try ctx.unary(request, ClusterOutput.changed(id, verb: "updated in", structured: true))
        })

    static let promote = CommandSpec(
        name: "promote", summary: "Promotes a non-voting member in the cluster", arguments: "<memberID>",
        description: "Promotes a learner to a voting member once it has caught up with the leader. Only -w simple and jsonl: etcdctl crashes on the other formats after promoting.",
        examples: [("etch member promote 8e9e05c52164694d", "promote a learner")],
        flags: [],
        run: { ctx in
            let id = try memberID(ctx)
            return try ctx.unary(MemberPromoteRequest(ID: id), ClusterOutput.changed(id, verb: "promoted in", structured: false))
        })

    /// The one operand of remove, update and promote: a hex ID, or a unique member name.
    static func memberID(_ ctx: Context) throws -> UInt64 {
        guard ctx.arguments.positionals.count == 1 else { throw CLIError(.badArgs, "member ID is not provided") }
        return try Operands.memberID(ctx.arguments.positionals[0]) {
            try ctx.makeClient().unary(MemberListRequest()).members.map { ($0.name, $0.ID) }
        }
    }
}
