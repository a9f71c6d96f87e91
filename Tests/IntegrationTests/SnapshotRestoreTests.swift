import Foundation
import XCTest

/// `snapshot restore` side by side with etcdctl 3.4.23, on a snapshot etcdctl saved from the server under test
/// (a few keys, one of them attached to a lease): the WAL and the raft snapshot file must be byte for byte
/// etcdctl's; real etcd (the version under test) must start on etch's data directory and serve what it serves
/// on etcdctl's; three restores of one file must make a working three-member cluster; refusals must have
/// etcdctl's exit code and message. One source server for the whole suite.
final class SnapshotRestoreTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"

    /// The suite's snapshot: saved once from a one-member cluster, which is stopped right after.
    static var fixture: (dir: String, snapshot: String)?
    static var fixtureError: Error?

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
        if Self.fixture == nil && Self.fixtureError == nil {
            do { Self.fixture = try Self.makeSnapshot() } catch { Self.fixtureError = error }
        }
        if let e = Self.fixtureError { throw e }
    }

    override class func tearDown() {
        if let f = fixture { try? FileManager.default.removeItem(atPath: f.dir) }
        fixture = nil
    }

    static func makeSnapshot() throws -> (dir: String, snapshot: String) {
        let cluster = try EtcdCluster(size: 1)
        defer { cluster.stop() }
        let dir = NSTemporaryDirectory() + "etch-restore-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ep = ["--endpoints", cluster.endpoint]
        for (k, v) in [("a", "1"), ("b/x", "two"), ("c", "3"), ("a", "1 again")] {
            let r = try etch(ep + ["put", k, v])
            guard r.status == 0 else { throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        }
        let lease = try etch(ep + ["lease", "grant", "3000"]).out.split(separator: " ")[1]
        _ = try etch(ep + ["put", "leased", "v", "--lease", String(lease)])
        _ = try etch(ep + ["del", "c"])
        let path = dir + "/backup.db"
        let saved = try runProcess(etcdctl, ep + ["snapshot", "save", path])
        guard saved.status == 0 else { throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: saved.stderr]) }
        return (dir, path)
    }

    var dir: String { Self.fixture!.dir }
    var snapshot: String { Self.fixture!.snapshot }

    /// A fresh path under the suite's directory.
    func fresh(_ name: String) -> String { dir + "/" + name + "-" + UUID().uuidString.prefix(8) }

    func restoreArgs(_ dataDir: String, name: String? = nil, cluster: String? = nil, token: String? = nil, peer: String? = nil) -> [String] {
        var a = ["snapshot", "restore", snapshot, "--data-dir", dataDir]
        if let name { a += ["--name", name] }
        if let cluster { a += ["--initial-cluster", cluster] }
        if let token { a += ["--initial-cluster-token", token] }
        if let peer { a += ["--initial-advertise-peer-urls", peer] }
        return a
    }

    /// Every regular file under `root`, relative path -> (mode, bytes).
    func files(_ root: String) throws -> [String: (mode: Int, data: Data)] {
        var out: [String: (mode: Int, data: Data)] = [:]
        let fm = FileManager.default
        for rel in try fm.subpathsOfDirectory(atPath: root) {
            let attrs = try fm.attributesOfItem(atPath: root + "/" + rel)
            let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue ?? -1
            if attrs[.type] as? FileAttributeType == .typeDirectory {
                out[rel + "/"] = (mode, Data())
            } else {
                out[rel] = (mode, try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel)))
            }
        }
        return out
    }

    /// The same directory tree, modes and bytes as etcdctl's, except member/snap/db (etcdctl rewrites it
    /// through etcd's mvcc store; etch writes a fresh bbolt file: checked by the servers' answers).
    func assertSameFiles(_ args: (String) -> [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let ours = fresh("etch"), theirs = fresh("etcdctl")
        let got = try etch(args(ours)), ref = try runProcess(Self.etcdctl, args(theirs))
        XCTAssertEqual(ref.status, 0, ref.stderr, file: file, line: line)
        XCTAssertEqual(got.status, 0, got.stderr, file: file, line: line)
        XCTAssertEqual(got.out, "", file: file, line: line)
        XCTAssertTrue(got.stderr.contains("\"msg\":\"added member\""), got.stderr, file: file, line: line)
        let a = try files(ours), b = try files(theirs)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
        for (path, want) in b {
            guard let have = a[path] else { continue }
            XCTAssertEqual(have.mode, want.mode, "mode of \(path)", file: file, line: line)
            if path != "member/snap/db" {
                XCTAssertTrue(have.data == want.data, "\(path) differs from etcdctl's", file: file, line: line)
            }
        }
        XCTAssertEqual(a["member/wal/0000000000000000-0000000000000000.wal"]?.data.count, 64_000_000, file: file, line: line)
    }

    func testWALAndSnapFilesAreEtcdctls() throws {
        try assertSameFiles { self.restoreArgs($0) }
        let cluster = "m1=http://127.0.0.1:1,m2=http://127.0.0.1:2,m3=http://127.0.0.1:3,m4=https://[::1]:4"
        try assertSameFiles { self.restoreArgs($0, name: "m2", cluster: cluster, token: "tok", peer: "http://127.0.0.1:2") }
    }

    /// The refusals: exit code and message as etcdctl's; nothing left behind.
    func testRefusalsAreEtcdctls() throws {
        let existing = fresh("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
        let bad = fresh("bad")
        var corrupt = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        corrupt.replaceSubrange(0..<512, with: Data(count: 512))
        let corruptPath = fresh("corrupt.db")
        try corrupt.write(to: URL(fileURLWithPath: corruptPath))
        let noHash = fresh("nohash.db")
        try corrupt.prefix(corrupt.count - 32).write(to: URL(fileURLWithPath: noHash))
        let cases: [[String]] = [
            restoreArgs(existing),
            ["snapshot", "restore", "--data-dir", bad],
            ["snapshot", "restore", snapshot, snapshot, "--data-dir", bad],
            ["snapshot", "restore", dir + "/missing.db", "--data-dir", bad],
            ["snapshot", "restore", corruptPath, "--data-dir", bad],
            ["snapshot", "restore", noHash, "--data-dir", bad],
            restoreArgs(bad, name: "m1"),
            restoreArgs(bad, peer: "http://localhost:2381"),
            restoreArgs(bad, cluster: "default=http://localhost:2380,default=http://localhost:2381"),
            restoreArgs(bad, cluster: "default=localhost:2380"),
            restoreArgs(bad, cluster: "default=http://localhost:2380/x"),
            restoreArgs(bad, cluster: "default=http://localhost:2380,b=http://localhost:2380"),
        ]
        for args in cases {
            let ref = try runProcess(Self.etcdctl, args)
            try? FileManager.default.removeItem(atPath: bad)
            let got = try etch(args)
            XCTAssertEqual(got.status, ref.status, "\(args)\n\(got.stderr)")
            let errorLine = { (s: String) in s.split(separator: "\n").first { $0.hasPrefix("Error: ") }.map(String.init) }
            XCTAssertNotNil(errorLine(ref.stderr), "\(args)")
            XCTAssertEqual(errorLine(got.stderr), errorLine(ref.stderr), "\(args)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: bad), "\(args) left \(bad)")
        }
        // A database without a digest (as copied from a data directory) restores with --skip-hash-check.
        let plain = fresh("plain.db")
        let original = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        try original.prefix(original.count - 32).write(to: URL(fileURLWithPath: plain))
        let r = try etch(["snapshot", "restore", plain, "--data-dir", fresh("skip"), "--skip-hash-check"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func get(_ member: EtcdMember, _ args: [String]) throws -> Outcome {
        try etch(["--endpoints", member.endpoint] + args)
    }

    /// `get --prefix "" -w json` with the header's IDs and raft term masked.
    func dump(_ member: EtcdMember) throws -> String {
        let r = try get(member, ["get", "--prefix", "", "-w", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.replacingOccurrences(of: #""(cluster_id|member_id|raft_term)":[0-9]+"#, with: "\"$1\":0", options: .regularExpression)
    }

    /// One member on etch's restore and one on etcdctl's, side by side: the same keys, revisions and leases;
    /// etch's takes writes and restarts from its WAL.
    func testRestoredMemberServesWhatEtcdctlsServes() throws {
        var members: [EtcdMember] = []
        defer { members.forEach { $0.kill() } }
        for tool in ["etch", "etcdctl"] {
            let peer = freePort()
            let dataDir = fresh(tool)
            let args = restoreArgs(dataDir, name: "r", cluster: "r=http://127.0.0.1:\(peer)", token: "restored",
                                   peer: "http://127.0.0.1:\(peer)")
            let r = tool == "etch" ? try etch(args) : try runProcess(Self.etcdctl, args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let m = EtcdMember(name: "r", peerPort: peer, dataDir: dataDir, token: "restored")
            members.append(m)
            try m.start(wait: false)
        }
        for m in members { try m.waitHealthy() }
        let (ours, theirs) = (members[0], members[1])
        let want = try dump(theirs)
        XCTAssertTrue(want.contains("\"count\":3"), want)
        XCTAssertEqual(try dump(ours), want)
        let leases = try get(ours, ["lease", "list"]).out
        XCTAssertEqual(leases, try get(theirs, ["lease", "list"]).out)
        XCTAssertTrue(leases.hasPrefix("found 1 leases"), leases)
        XCTAssertEqual(try get(ours, ["member", "list", "-w", "json"]).out.components(separatedBy: "\"ID\"").count, 2)

        XCTAssertEqual(try get(ours, ["put", "after", "restore"]).status, 0)
        ours.kill()
        try ours.start()
        XCTAssertEqual(try get(ours, ["get", "after", "--print-value-only"]).out, "restore\n")
        XCTAssertEqual(try get(ours, ["get", "b/x", "--print-value-only"]).out, "two\n")
    }

    /// Three restores of one file (one per --name, the same --initial-cluster) make a working cluster.
    func testThreeMembersFromOneSnapshot() throws {
        let peers = (0..<3).map { _ in freePort() }
        let initial = peers.enumerated().map { "n\($0.offset)=http://127.0.0.1:\($0.element)" }.joined(separator: ",")
        var members: [EtcdMember] = []
        defer { members.forEach { $0.kill() } }
        for (i, peer) in peers.enumerated() {
            let dataDir = fresh("n\(i)")
            let r = try etch(restoreArgs(dataDir, name: "n\(i)", cluster: initial, token: "three", peer: "http://127.0.0.1:\(peer)"))
            XCTAssertEqual(r.status, 0, r.stderr)
            let m = EtcdMember(name: "n\(i)", peerPort: peer, dataDir: dataDir, initialCluster: initial, token: "three")
            members.append(m)
            try m.start(wait: false)
        }
        for m in members { try m.waitHealthy() }
        let list = try get(members[1], ["member", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.out.split(separator: "\n").count, 3, list.out)
        XCTAssertEqual(try get(members[0], ["put", "fresh", "from-n0"]).status, 0)
        XCTAssertEqual(try get(members[2], ["get", "fresh", "--print-value-only"]).out, "from-n0\n")
        XCTAssertEqual(try get(members[2], ["get", "a", "--print-value-only"]).out, "1 again\n")
    }
}
