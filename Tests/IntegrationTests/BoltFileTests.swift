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
        _ = try? runProcess(etcdctl, ep + ["put", "big", String(repeating: "b", count: 9000)])
        // Three transactions of 100 puts each: 120 keys, most overwritten.
        for batch in 0..<3 {
            let puts = (0..<100).map { i -> String in
                let n = batch * 100 + i
                return "put key/\(n % 120) value-\(n)-\(String(repeating: "x", count: n % 50))"
            }
            _ = try? runProcess(etcdctl, ep + ["txn"], stdin: Data(("\n" + puts.joined(separator: "\n") + "\n\n\n").utf8))
        }
        _ = try? runProcess(etcdctl, ep + ["del", "key/1", "--prefix"])
        _ = try? runProcess(etcdctl, ep + ["compaction", "3"])
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
        XCTAssertGreaterThan(object["revision"] as? Int ?? 0, 4)
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

    /// `defrag --data-dir` on a stopped member after deletes and a compaction: the file shrinks, real bbolt
    /// (etcdctl's status, which runs bbolt's integrity check) reads the same hash, and etcd starts on it with the
    /// same keys. While etcd runs, the locked file is refused at once; a missing directory is an error.
    func testDefragDataDirShrinksAndEtcdStartsOnIt() throws {
        let c = try EtcdCluster()
        defer { c.stop() }
        let m = c.members[0]
        let ep = ["--endpoints", c.endpoint]
        let value = String(repeating: "v", count: 1000)
        for batch in 0..<12 {
            let puts = (0..<128).map { "put k\(batch)-\($0) \(value)" }.joined(separator: "\n")
            let o = try runProcess(Self.etcdctl, ep + ["txn"], stdin: Data(("\n" + puts + "\n\n\n").utf8))
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        XCTAssertEqual(try runProcess(Self.etcdctl, ep + ["del", "--prefix", "k1"]).status, 0)
        let rev = try runProcess(Self.etcdctl, ep + ["put", "last", "x", "-w", "json"]).out
        let revision = (try JSONSerialization.jsonObject(with: Data(rev.utf8)) as! [String: Any])["header"] as! [String: Any]
        XCTAssertEqual(try runProcess(Self.etcdctl, ep + ["compaction", "--physical", "\(revision["revision"]!)"]).status, 0)
        let before = try runProcess(Self.etcdctl, ep + ["get", "--prefix", "", "-w", "json"]).out

        let locked = try etch(["defrag", "--data-dir", m.dataDir], timeout: 10)
        XCTAssertEqual(locked.status, 1, locked.stderr)
        XCTAssertTrue(locked.stderr.hasPrefix("Failed to defragment etcd data[\(m.dataDir)] (") && locked.stderr.contains("locked"), locked.stderr)

        m.kill()
        let db = m.dataDir + "/member/snap/db"
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: db)[.size] as! Int
        let statusBefore = try runProcess(Self.etcdctl, ["snapshot", "status", db, "-w", "json"]).out
        let o = try etch(["defrag", "--data-dir", m.dataDir])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.out + o.stderr, "", "silent on success")
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: db)[.size] as! Int
        XCTAssertLessThan(sizeAfter, sizeBefore * 3 / 4, "\(sizeBefore) -> \(sizeAfter)")
        let statusAfter = try runProcess(Self.etcdctl, ["snapshot", "status", db, "-w", "json"])
        XCTAssertEqual(statusAfter.status, 0, statusAfter.stderr)
        let hash = { (s: String) in (try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])?["hash"] as? Int }
        XCTAssertEqual(hash(statusAfter.out), hash(statusBefore))
        XCTAssertNotNil(hash(statusBefore))

        try m.start()
        let after = try runProcess(Self.etcdctl, ep + ["get", "--prefix", "", "-w", "json"]).out
        XCTAssertEqual(Self.withoutHeader(after), Self.withoutHeader(before))
        XCTAssertEqual(try runProcess(Self.etcdctl, ep + ["put", "after", "defrag"]).status, 0, "etcd writes to the file")

        let missing = try etch(["defrag", "--data-dir", c.directory + "/nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("Failed to defragment etcd data[\(c.directory)/nope] (open \(c.directory)/nope/member/snap/db: no such file or directory)\n"), missing.stderr)
    }

    /// `endpoint hashkv` equals etcdctl's (gRPC HashKV, the truth) in every format, at every revision from the
    /// compaction to the current one and past it, before and after a second compaction, with keys overwritten,
    /// deleted and created again across the compactions. On servers whose gateway lacks HashKV, etch computed it
    /// from a snapshot (checked with --debug).
    func testEndpointHashKVEqualsEtcdctl() throws {
        let ep = ["--endpoints", Self.cluster!.endpoint]
        func run(_ ops: [String]) throws {
            let text = "\n" + ops.joined(separator: "\n") + "\n\n\n"
            let o = try runProcess(Self.etcdctl, ep + ["txn"], stdin: Data(text.utf8))
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        func revision() throws -> Int {
            let o = try runProcess(Self.etcdctl, ep + ["get", "nothing", "-w", "json"]).out
            return ((try JSONSerialization.jsonObject(with: Data(o.utf8)) as! [String: Any])["header"] as! [String: Any])["revision"] as! Int
        }
        func compare(_ revs: [Int]) throws {
            for rev in revs {
                try same(ep + ["endpoint", "hashkv", "--rev", "\(rev)"], stderrToo: false)
            }
            for format in ["json", "fields", "table", "protobuf"] {
                try same(ep + ["endpoint", "hashkv", "-w", format], stderrToo: false)
            }
        }
        try run(["put a 1", "put b 1", "put c 1"])
        try run(["del a", "put b 2"])
        try run(["put a 2", "put d 1"])
        let first = try revision()
        XCTAssertEqual(try runProcess(Self.etcdctl, ep + ["compaction", "--physical", "\(first - 1)"]).status, 0)
        try run(["put b 3", "del c"])
        try run(["put c 2", "del d"])
        let second = try revision()
        try compare(Array((first - 2)...(second + 1)) + [0])
        XCTAssertEqual(try runProcess(Self.etcdctl, ep + ["compaction", "\(second - 1)"]).status, 0)
        try run(["put e 1"])
        try compare(Array((second - 2)...(second + 2)))
        let debug = try etch(ep + ["endpoint", "hashkv", "--debug"])
        XCTAssertEqual(debug.status, 0, debug.stderr)
        if !etcdAtLeast(3, 6) {
            XCTAssertTrue(debug.stderr.contains("computing the member's HashKV from a streamed snapshot"), debug.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("etch-hashkv-") }, [], "temporary files removed")
    }

    /// A `get -w json` reply without its header (raft term and revision move on).
    static func withoutHeader(_ json: String) -> String {
        guard var object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        object["header"] = nil
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self)
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
