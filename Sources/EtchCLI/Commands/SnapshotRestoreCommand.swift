import EtchMember

/// `etch snapshot restore <file>`: a new member's data directory from a snapshot file, offline.
enum SnapshotRestoreCommand {
    static let defaultName = "default"

    static let spec = CommandSpec(
        name: "restore", summary: "Restores an etcd member snapshot to an etcd directory", arguments: "<filename> [options]",
        description: "Writes the data directory of a new member from a snapshot file (etcdctl snapshot save, etch snapshot save, or with --skip-hash-check a member's member/snap/db), as etcdctl 3.4 does: member/snap/db (the database, its SHA-256 trailer checked and removed, the old cluster's members replaced by the new ones, the consistent index set), member/wal (a WAL of 64 MB holding the new cluster's membership) and the raft snapshot file. Start etcd on it with the same --name, --initial-cluster, --initial-cluster-token and --initial-advertise-peer-urls. For a cluster of N members, restore the same file N times, once per --name, with the same --initial-cluster. The directory must not exist (`Error: data-dir \"x\" exists`, exit 1); on any failure etch removes what it wrote. Nothing on stdout; etcdctl's log lines (JSON) on stderr. etch compares --initial-advertise-peer-urls with this member's --initial-cluster URLs as written (etcdctl resolves host names before it refuses a mismatch).",
        examples: [("etch snapshot restore backup.db --data-dir /var/lib/etcd-new", "one member, default name and peer URL"),
                   ("etch snapshot restore backup.db --name m1 --data-dir m1.etcd --initial-cluster m1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380,m3=http://10.0.0.3:2380 --initial-cluster-token prod --initial-advertise-peer-urls http://10.0.0.1:2380", "the first of three members")],
        flags: [
            FlagSpec("data-dir", .string, "Path to the data directory", isPath: true),
            FlagSpec("initial-advertise-peer-urls", .string, default: "http://localhost:2380", "List of this member's peer URLs to advertise to the rest of the cluster"),
            FlagSpec("initial-cluster", .string, default: "default=http://localhost:2380", "Initial cluster configuration for restore bootstrap"),
            FlagSpec("initial-cluster-token", .string, default: "etcd-cluster", "Initial cluster token for the etcd cluster during restore bootstrap"),
            FlagSpec("name", .string, default: defaultName, "Human-readable name for this member"),
            FlagSpec("skip-hash-check", .bool, "Ignore snapshot integrity hash value (required if copied from data directory)"),
            FlagSpec("wal-dir", .string, "Path to the WAL directory (use --data-dir if none given)", isPath: true),
        ],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        let a = ctx.arguments
        guard a.positionals.count == 1 else { throw CLIError(.badArgs, "snapshot restore requires exactly one argument") }
        let name = a.string("name") ?? defaultName
        var dataDir = a.string("data-dir") ?? ""
        if dataDir.isEmpty { dataDir = name + ".etcd" }
        var walDir = a.string("wal-dir") ?? ""
        if walDir.isEmpty { walDir = SnapshotRestore.join(dataDir, "member/wal") }
        let restore = SnapshotRestore(
            snapshotPath: a.positionals[0], name: name, dataDir: dataDir, walDir: walDir,
            initialCluster: a.string("initial-cluster") ?? "default=http://localhost:2380",
            token: a.string("initial-cluster-token") ?? "etcd-cluster",
            advertisedPeerURLs: a.string("initial-advertise-peer-urls") ?? "http://localhost:2380",
            skipHashCheck: a.bool("skip-hash-check"))
        do {
            try restore.run { line in
                ctx.stderr.append(line)
                ctx.stderr.flush()
            }
        } catch {
            throw CLIError(.error, error.message)
        }
        return .success
    }
}
