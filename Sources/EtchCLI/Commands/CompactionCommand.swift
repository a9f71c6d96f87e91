import EtchGateway
import EtchOutput

/// `etch compaction`: discards the history before a revision.
enum CompactionCommand {
    static let spec = CommandSpec(
        name: "compaction",
        summary: "Compacts the event history in etcd",
        arguments: "[options] <revision>",
        description: "Compacts the event history in etcd: revisions before <revision> are no longer readable or watchable. With --physical, waits until the compaction is physically applied in the backend database. Prints `compacted revision N` in every output format, as etcdctl does.",
        examples: [("etch compaction 1234", "discard the history before revision 1234"),
                   ("etch compaction --physical $(etch get / -w jsonl --count-only | jq .revision)", "compact everything up to now")],
        flags: [FlagSpec("physical", .bool, "'true' to wait for compaction to physically remove all old revisions")],
        run: run
    )

    static func run(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        guard a.positionals.count == 1 else { throw CLIError(.badArgs, "compaction command needs 1 argument") }
        let revision: Int64
        do { revision = try Operands.int64(a.positionals[0]) } catch { throw CLIError(.error, error.message) }
        return try ctx.unary(CompactionRequest(revision: revision, physical: a.bool("physical")), ClusterOutput.compaction(revision))
    }
}
