/// `etch snapshot save|status|restore`: backups of an etcd member's database. Each subcommand lives in a file
/// of its own and is one line of the list below.
enum SnapshotCommands {
    static let spec = CommandSpec.group(
        "snapshot", summary: "Manages etcd node snapshots",
        description: "Saves a member's database to a file (verified against the SHA-256 etcd sends with it), reads a saved file's status and restores one into a new member's data directory, these two without a server.",
        [
            SnapshotSaveCommand.spec,
            SnapshotRestoreCommand.spec,
            SnapshotStatusCommand.spec,
        ])
}
