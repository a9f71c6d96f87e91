/// `etch migrate`: etcdctl 3.4's offline v2-to-v3 conversion of a stopped member's data directory. An etcd
/// 3.4 or later cluster holds no v2 store to convert (3.4 members start only from v3 data), and etch reaches
/// etcd over the network only, so etch says so instead of doing anything: exit 4, nothing touched.
enum MigrateCommand {
    static let spec = CommandSpec(
        name: "migrate", summary: "Migrates keys in a v2 store to a mvcc store", arguments: "",
        description: "Not supported by etch (exit 4, nothing is read or written): etcdctl's migrate converts the v2 store in a stopped etcd 2.x-era member's data directory into the v3 store, offline. Clusters of etcd 3.4 and later have nothing to migrate: their keys are already in the v3 store. The flags are etcdctl's, accepted so that a script calling it gets this explanation rather than an unknown-flag error.",
        examples: [("etch migrate --data-dir /var/lib/etcd", "exits 4: use etcdctl 3.4 migrate on a stopped v2 member")],
        flags: [FlagSpec("no-ttl", .bool, "Do not convert TTL keys"),
                FlagSpec("data-dir", .string, "Path to the data directory", isPath: true),
                FlagSpec("wal-dir", .string, "Path to the WAL directory", isPath: true),
                FlagSpec("transformer", .string, "Path to the user-provided transformer program", isPath: true)],
        run: { _ in
            throw CLIError(.badFeature, "migrate is not supported by etch: it converts a stopped member's v2 store to v3 offline, and clusters of etcd 3.4 and later have nothing to migrate (their data is already v3). For a v2-era data directory, run etcdctl 3.4's migrate on the stopped member; nothing was read or written")
        })
}
