/// `etch snapshot save|status|restore`: backups of a member's database and new members made from them.
enum SnapshotCommands {
    static let spec = CommandSpec.group(
        "snapshot", summary: "Manages etcd node snapshots",
        description: "Saves a member's database to a file, shows a snapshot file's status, and restores a snapshot file into the data directory of a new member (offline, no server needed).",
        [SnapshotRestoreCommand.spec])
}
