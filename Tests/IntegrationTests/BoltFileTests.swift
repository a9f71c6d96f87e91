import Foundation
import XCTest

/// etch's local bbolt work side by side with etcdctl 3.4.23 on files real etcd wrote: `snapshot status` of a
/// snapshot etcdctl saved (every format, byte for byte, with exit codes), and the refusals of damaged files.
/// One server for the whole suite.
final class BoltFileTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"
    static var cluster: EtcdCluster?
    static var snapshot = ""

    override class func setUp() {
        super.setUp()
        guard FileManager.default.isExecutableFile(atPath: etcdctl), let c = try? EtcdCluster() else { return }
        cluster = c
        // A history with overwrites, deletes, a lease and a compaction, then a snapshot by etcdctl.
        let ep = ["--endpoints", c.endpoint]
        var txn = ""
        for i in 0..<300 { txn += "put key/\(i % 120) value-\(i)-\(String(repeating: "x", count: i % 50))\n" }
        _ = try? runProcess(etcdctl, ep + ["put", "big", String(repeating: "b", count: 9000)])
        for line in txn.split(separator: "\n").prefix(300) {
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            _ = try? runProcess(etcdctl, ep + [parts[0], parts[1], parts[2]])
        }
        _ = try? runProcess(etcdctl, ep + ["del", "key/1", "--prefix"])
        _ = try? runProcess(etcdctl, ep + ["compaction", "100"])
        _ = try? runProcess(etcdctl, ep + ["lease", "grant", "600"])
        snapshot = c.directory + "/snap.db"
        _ = try? runProcess(etcdctl, ep + ["snapshot", "save", snapshot])
    }

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        guard Self.cluster != nil, FileManager.default.fileExists(atPath: Self.snapshot) else {
            throw XCTSkip("no etcd/etcdctl, or the snapshot could not be saved")
        }
    }

    /// Every format etcdctl has and the ones it refuses (protobuf), and its argument errors: same stdout,
    /// stderr and exit code.
    func testSnapshotStatusEqualsEtcdctl() throws {
        for format in ["simple", "json", "fields", "table", "protobuf"] {
            try same(["snapshot", "status", Self.snapshot, "-w", format], stderrToo: true)
        }
        try same(["snapshot", "status", Self.cluster!.directory + "/missing.db"], stderrToo: true)
        try same(["snapshot", "status", Self.cluster!.directory], stderrToo: true)
        try same(["snapshot", "status"], stderrToo: true)
        try same(["snapshot", "status", "a", "b"], stderrToo: true)
        let jsonl = try etch(["snapshot", "status", Self.snapshot, "-w", "jsonl"])
        XCTAssertEqual(jsonl.status, 0)
        let json = try etch(["snapshot", "status", Self.snapshot, "-w", "json"]).out
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let line = try JSONSerialization.jsonObject(with: jsonl.stdout) as! [String: Any]
        XCTAssertEqual(line["hash"] as? Int, object["hash"] as? Int)
        XCTAssertEqual(line["total_key"] as? Int, object["totalKey"] as? Int)
        XCTAssertGreaterThan(object["revision"] as? Int ?? 0, 300)
    }

    /// A truncated file and files with damaged structure: a one-line error, exit 1, no crash (etcdctl dies of
    /// SIGBUS on the truncated one).
    func testDamagedSnapshotsAreRefused() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.snapshot))
        let dir = Self.cluster!.directory
        func refused(_ bytes: Data, _ name: String, _ expected: String) throws {
            let path = dir + "/" + name
            try bytes.write(to: URL(fileURLWithPath: path))
            let o = try etch(["snapshot", "status", path])
            XCTAssertEqual(o.status, 1, "\(name): \(o.out) \(o.stderr)")
            XCTAssertEqual(o.out, "", name)
            XCTAssertTrue(o.stderr.hasPrefix("Error: ") && o.stderr.contains(expected), "\(name): \(o.stderr)")
            XCTAssertEqual(o.stderr.split(separator: "\n").count, 1, name)
        }
        try refused(original.prefix(original.count / 2), "half.db", "truncated database")
        // The id field of the root bucket's page (named by the meta page with the higher txid).
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(original[at + $1]) << (8 * $1) } }
        let meta = u64(16 + 48) > u64(4096 + 16 + 48) ? 16 : 4096 + 16
        var flipped = original
        flipped[u64(meta + 16) * 4096] ^= 0x01
        try refused(flipped, "id.db", "corrupt database")
        // Both meta pages' checksummed area.
        var metas = original
        metas[16 + 40] ^= 0x10
        metas[4096 + 16 + 40] ^= 0x10
        try refused(metas, "meta.db", "checksum error")
    }

    @discardableResult
    func same(_ args: [String], stderrToo: Bool, file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let ref = try runProcess(Self.etcdctl, args), got = try etch(args)
        XCTAssertEqual(got.status, ref.status, "exit code of \(args)\netcdctl: \(ref.stderr)\netch: \(got.stderr)", file: file, line: line)
        XCTAssertEqual(got.out, ref.out, "stdout of \(args)", file: file, line: line)
        if stderrToo { XCTAssertEqual(got.stderr, ref.stderr, "stderr of \(args)", file: file, line: line) }
        return got
    }
}
