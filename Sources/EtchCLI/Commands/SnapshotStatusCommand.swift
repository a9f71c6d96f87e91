import EtchBolt
import EtchMember
import EtchOutput

/// `etch snapshot status <file>`: hash, revision, keys and size of a saved database, read locally.
enum SnapshotStatusCommand {
    static let spec = CommandSpec(
        name: "status", summary: "Gets backend snapshot status of a given file", arguments: "<filename>",
        description: "When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint. The items in the lists are hash, revision, total keys, total size. The file is read as etcdctl reads it (bbolt, read-only): the hash is CRC-32C over each bucket's name, keys and values in order, the revision that of the last key in bucket \"key\". etch also checks the file's integrity as etcdctl does (every page reachable once or free) and refuses a truncated or corrupt file with a clear error (exit 1) where etcdctl may crash. Memory stays constant whatever the file's size. --check-digest (etch only) first checks the SHA-256 that snapshot save appends against the file's contents, which catches any damage since the save (a bit flipped inside a value changes the hash without breaking the structure); a file without it is refused.",
        examples: [("etch snapshot status backup.db -w table", "hash, revision, keys and size as a table"),
                   ("etch snapshot status backup.db -w jsonl | jq .revision", "the revision a backup holds"),
                   ("etch snapshot status --check-digest backup.db", "also verify the backup's SHA-256")],
        flags: [FlagSpec("check-digest", .bool, "verify the SHA-256 trailer a saved snapshot carries before reading it (etch only)")],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.count == 1 else {
            throw CLIError(.badArgs, "snapshot status requires exactly one argument")
        }
        let output = SnapshotStatusOutput.status
        let format = try ctx.format(for: output)
        let path = ctx.arguments.positionals[0]
        if ctx.arguments.bool("check-digest") {
            // Open it as status would first, so a missing or non-bbolt file gets etcdctl's message.
            do { _ = try BoltDB(path: path) } catch { throw CLIError(.error, error.message) }
            let outcome: SnapshotDigest.Outcome
            do { outcome = try SnapshotDigest.check(path: path) } catch { throw CLIError(.error, error.message) }
            switch outcome {
            case .verified: ctx.debug("\(path): SHA-256 verified")
            case .missing: throw CLIError(.error, "\(path) has no SHA-256 trailer (its size is not 32 bytes over a multiple of 512): not a file snapshot save wrote, or cut")
            case let .mismatch(expected, got):
                throw CLIError(.error, "\(path) was damaged after it was saved: " + SnapshotDigest.mismatchMessage(expected: expected, got: got))
            }
        }
        let s: SnapshotStatus
        do { s = try SnapshotStatus.of(path: path) } catch { throw CLIError(.error, error.message) }
        try ctx.emit(SnapshotFileStatus(hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize),
                     output, as: format)
        return .success
    }
}
