import EtchBolt

#if canImport(Glibc)
import Glibc
#endif
import EtchGateway

/// `snapshot restore`: a new member's data directory from a snapshot file, as etcdctl 3.4's
/// clientv3/snapshot Restore writes it: member/snap/db (the snapshot's bbolt file, its SHA-256 trailer checked
/// and stripped, the membership replaced, the consistent index set), the WAL holding the new cluster's
/// membership and hard state, and the raft snapshot whose v2 store holds the membership.
public struct SnapshotRestore {
    public var snapshotPath: String
    public var name: String
    public var dataDir: String
    public var walDir: String
    public var initialCluster: String
    public var token: String
    public var advertisedPeerURLs: String
    public var skipHashCheck: Bool

    public init(snapshotPath: String, name: String, dataDir: String, walDir: String, initialCluster: String,
                token: String, advertisedPeerURLs: String, skipHashCheck: Bool) {
        self.snapshotPath = snapshotPath
        self.name = name
        self.dataDir = dataDir
        self.walDir = walDir
        self.initialCluster = initialCluster
        self.token = token
        self.advertisedPeerURLs = advertisedPeerURLs
        self.skipHashCheck = skipHashCheck
    }

    var snapDir: String { SnapshotRestore.join(dataDir, "member/snap") }

    /// filepath.Join for the paths a restore names: `dir/rest`, without doubled or trailing slashes.
    public static func join(_ dir: String, _ rest: String) -> String {
        var d = Substring(dir)
        while d.count > 1 && d.hasSuffix("/") { d = d.dropLast() }
        return d.isEmpty ? rest : (d == "/" ? "/" + rest : d + "/" + rest)
    }

    /// Restores; `log` gets etcdctl's log lines (zap's JSON) for stderr. On failure nothing it made is left.
    public func run(log: ([UInt8]) -> Void) throws(MemberDataError) {
        let cluster = try BootstrapCluster(name: name, initialCluster: initialCluster, token: token,
                                           advertisedPeerURLs: advertisedPeerURLs)
        if LocalFiles.exists(dataDir) { throw MemberDataError("data-dir \(goQuote(dataDir)) exists") }
        if LocalFiles.exists(walDir) { throw MemberDataError("wal-dir \(goQuote(walDir)) exists") }
        let paths: [(String, String)] = [("path", snapshotPath), ("wal-dir", walDir), ("data-dir", dataDir), ("snap-dir", snapDir)]
        log(ZapLine.info("snapshot/v3_snapshot.go:296", "restoring snapshot", paths.map { ($0.0, .string($0.1)) }))
        do {
            try saveDB(cluster)
            for m in cluster.members {
                log(ZapLine.info("membership/cluster.go:392", "added member", [
                    ("cluster-id", .string(String(cluster.clusterID, radix: 16))), ("local-member-id", .string("0")),
                    ("added-peer-id", .string(m.hexID)), ("added-peer-peer-urls", .strings(m.peerURLs))]))
            }
            try saveWALAndSnap(cluster)
        } catch {
            LocalFiles.removeTree(dataDir)
            LocalFiles.removeTree(walDir)
            LocalFiles.removeTree(walDir + ".tmp")
            throw error
        }
        log(ZapLine.info("snapshot/v3_snapshot.go:309", "restored snapshot", paths.map { ($0.0, .string($0.1)) }))
    }

    /// member/snap/db: the snapshot's database (its SHA-256 trailer checked unless --skip-hash-check, and left
    /// out), written afresh with the new membership and consistent index.
    func saveDB(_ cluster: BootstrapCluster) throws(MemberDataError) {
        let source = try SnapshotFile(path: snapshotPath)
        defer { source.close() }
        try LocalFiles.makeDirectories(snapDir)
        if !source.hasDigest && !skipHashCheck {
            throw MemberDataError("snapshot missing hash but --skip-hash-check=false")
        }
        if source.hasDigest && !skipHashCheck {
            let got = try source.databaseDigest()
            if got != source.trailer {
                throw MemberDataError("expected sha256 \(SnapshotRestore.goBytes(source.trailer)), got \(SnapshotRestore.goBytes(got))")
            }
        }
        try MemberDB.write(from: snapshotPath, to: SnapshotRestore.join(snapDir, "db"), members: cluster.members,
                           consistentIndex: UInt64(cluster.members.count))
    }

    /// The WAL (written in `<wal-dir>.tmp`, renamed, as wal.Create does) and the raft snapshot file.
    func saveWALAndSnap(_ cluster: BootstrapCluster) throws(MemberDataError) {
        let term: UInt64 = 1
        let entries = cluster.members.enumerated().map { i, m in
            RaftEntry(term: term, index: UInt64(i + 1), type: 1,
                      data: ConfChange(nodeID: m.id, context: m.json).marshal())
        }
        let commit = UInt64(entries.count)
        let wal = WALEncoder.restoredMember(
            nodeID: cluster.local.id, clusterID: cluster.clusterID, entries: entries,
            hardState: HardState(term: term, vote: cluster.members[0].id, commit: commit))
        let walName = "/0000000000000000-0000000000000000.wal"
        let tmp = walDir + ".tmp"
        LocalFiles.removeTree(tmp)
        try LocalFiles.makeDirectories(tmp)
        try LocalFiles.create(tmp + walName, mode: 0o600, reserve: WALEncoder.segmentSize) { (fd) throws(MemberDataError) in
            try LocalFiles.writeAll(fd, wal, path: tmp + walName)
        }
        if rename(tmp, walDir) != 0 { throw LocalFiles.error("rename", tmp) }
        LocalFiles.syncDirectory(walDir)

        let snapshot = RaftSnapshot(
            data: V2Store.json(cluster.members),
            metadata: SnapshotMetadata(confState: ConfState(voters: cluster.members.map(\.id)), index: commit, term: term)
        ).marshal()
        let file = SnapFile(crc: CRC32C.checksum(snapshot), data: snapshot).marshal()
        let snapPath = snapDir + "/" + SnapshotRestore.hex16(term) + "-" + SnapshotRestore.hex16(commit) + ".snap"
        try LocalFiles.create(snapPath, mode: 0o666) { (fd) throws(MemberDataError) in
            try LocalFiles.writeAll(fd, file, path: snapPath)
        }
        LocalFiles.syncDirectory(snapDir)
    }

    /// `%016x`.
    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// Go's `%v` of a []byte: `[1 2 3]`.
    static func goBytes(_ b: [UInt8]) -> String { "[" + b.map(String.init).joined(separator: " ") + "]" }
}
