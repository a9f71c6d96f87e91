import EtchBolt
import EtchOutput

/// `etch snapshot status <file>`: hash, revision, keys and size of a saved database, read locally.
enum SnapshotStatusCommand {
    static let spec = CommandSpec(
        name: "status", summary: "Gets backend snapshot status of a given file", arguments: "<filename>",
        description: "When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint. The items in the lists are hash, revision, total keys, total size. The file is read as etcdctl reads it (bbolt, read-only): the hash is CRC-32C over each bucket's name, keys and values in order, the revision that of the last key in bucket \"key\". etch also checks the file's integrity as etcdctl does (every page reachable once or free) and refuses a truncated or corrupt file with a clear error (exit 1) where etcdctl may crash. Memory stays constant whatever the file's size.",
        examples: [("etch snapshot status backup.db -w table", "hash, revision, keys and size as a table"),
                   ("etch snapshot status backup.db -w jsonl | jq .revision", "the revision a backup holds")],
        flags: [],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.count == 1 else {
            throw CLIError(.badArgs, "snapshot status requires exactly one argument")
        }
        let output = SnapshotStatusOutput.status
        let format = try ctx.format(for: output)
        let s: SnapshotStatus
        do { s = try SnapshotStatus.of(path: ctx.arguments.positionals[0]) } catch { throw CLIError(.error, error.message) }
        try ctx.emit(SnapshotFileStatus(hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize),
                     output, as: format)
        return .success
    }
}
