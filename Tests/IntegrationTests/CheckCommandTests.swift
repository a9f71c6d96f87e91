import Foundation
import XCTest

/// `check perf`, `check datascale` and `migrate` against one real etcd shared by the suite: the error paths
/// side by side with etcdctl 3.4.23 (stdout, stderr and exit code), and one short real run of each check (the
/// hidden ETCH_CHECK_PERF_SECONDS / ETCH_CHECK_DATASCALE_KEYS shorten etcdctl's minute and 10,000 keys), whose
/// puts are counted on the server.
final class CheckCommandTests: SharedClusterTestCase {
    func cluster() throws -> EtcdCluster { try sharedCluster() }

    /// The store's revision, from the gateway.
    func revision(_ c: EtcdCluster) throws -> Int {
        let r = try etch(["--endpoints", c.endpoint, "get", "x", "-w", "json"])
        let json = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
        return ((json?["header"] as? [String: Any])?["revision"] as? NSNumber)?.intValue ?? -1
    }

    func testErrorPathsAsEtcdctl() throws {
        let c = try cluster()
        let ep = ["--endpoints", c.endpoint]
        XCTAssertEqual(try etch(ep + ["put", "/etcdctl-check-perf/x", "v"]).status, 0)
        XCTAssertEqual(try etch(ep + ["put", "/etcdctl-check-datascale/x", "v"]).status, 0)
        defer {
            _ = try? etch(ep + ["del", "--prefix", "/etcdctl-check-"])
        }
        for args in [["check", "perf", "--load", "x"], ["check", "datascale", "--load", "huge"], ["check", "perf"], ["check", "datascale"],
                     ["check", "perf", "--load", "small"]] {
            let ref = try runProcess(Self.etcdctl, ep + args), got = try etch(ep + args)
            XCTAssertEqual(got.status, ref.status, "\(args): etcdctl \(ref.stderr)\netch \(got.stderr)")
            XCTAssertEqual(got.out, ref.out, "\(args)")
            XCTAssertEqual(got.stderr, ref.stderr, "\(args)")
        }
        XCTAssertEqual(try etch(ep + ["check", "perf", "--load", "x"]).status, 4)
        XCTAssertEqual(try etch(ep + ["check", "perf"]).status, 3)
        XCTAssertEqual(try etch(ep + ["get", "--prefix", "/etcdctl-check-", "--keys-only"]).out,
                       "/etcdctl-check-datascale/x\n\n/etcdctl-check-perf/x\n\n", "keys that were there are kept")
    }

    func testShortPerfRun() throws {
        let c = try cluster()
        let before = try revision(c)
        let r = try etch(["--endpoints", c.endpoint, "check", "perf", "--prefix", "/perf/", "--auto-compact"],
                         environment: ["ETCH_CHECK_PERF_SECONDS": "2"], timeout: 60)
        let after = try revision(c)
        let lines = r.out.components(separatedBy: "\n")
        XCTAssertTrue(lines[0].contains("B") && lines[0].hasSuffix("100.00%"), "progress bar: \(lines[0])")
        let compacted = after  // the delete's revision, the last one
        XCTAssertEqual(Array(lines[1...2]), ["Compacting with revision \(compacted)", "Compacted with revision \(compacted)"])
        let verdicts = Array(lines[3...])
        XCTAssertEqual(verdicts.count, 5, r.out)
        XCTAssertEqual(verdicts.last, "", "ends with a newline")
        XCTAssertTrue(verdicts[0].range(of: #"^(PASS: Throughput is|FAIL: Throughput too low:) [0-9]+ writes/s$"#, options: .regularExpression) != nil, verdicts[0])
        XCTAssertTrue(verdicts[1].range(of: #"^(PASS: Slowest request took|Slowest request took too long:) [0-9]+\.[0-9]{6}s$"#, options: .regularExpression) != nil, verdicts[1])
        XCTAssertTrue(verdicts[2].range(of: #"^(PASS: Stddev is|Stddev too high:) [0-9]+\.[0-9]{6}s$"#, options: .regularExpression) != nil, verdicts[2])
        let pass = verdicts[0...2].allSatisfy { $0.hasPrefix("PASS") }
        XCTAssertEqual(verdicts[3], pass ? "PASS" : "FAIL")
        XCTAssertEqual(r.status, pass ? 0 : 1, r.stderr)
        // 150 puts a second for 2 s (one revision each), then one delete of them all.
        let puts = after - before - 1
        XCTAssertGreaterThan(puts, 150, "puts made: \(puts)")
        XCTAssertLessThanOrEqual(puts, 302)
        let writes = Int(verdicts[0].split(separator: " ").dropLast().last ?? "") ?? -1
        XCTAssertEqual(Double(writes), Double(puts) / 2, accuracy: 40, "the throughput printed matches the puts made")
        XCTAssertEqual(try etch(["--endpoints", c.endpoint, "get", "--prefix", "/perf/", "--count-only", "-w", "fields"]).out.contains("\"Count\" : 0"), true)
    }

    func testShortDatascaleRun() throws {
        let c = try cluster()
        let before = try revision(c)
        let r = try etch(["--endpoints", c.endpoint, "check", "datascale", "--prefix", "/scale/"],
                         environment: ["ETCH_CHECK_DATASCALE_KEYS": "500"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.out.components(separatedBy: "\n")
        XCTAssertEqual(lines[0], "Start data scale check for work load [500 key-value pairs, 1024 bytes per key-value, 50 concurrent clients].")
        XCTAssertTrue(lines[1].contains("\r 500 / 500 Booo") && lines[1].hasSuffix("o! 100.00%"), lines[1])
        XCTAssertTrue(lines[2].range(of: #"^PASS: Approximate system memory used : -?[0-9]+\.[0-9]{2} MB\.$"#, options: .regularExpression) != nil, lines[2])
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(try revision(c) - before, 501, "500 puts and one delete")
    }

    func testMigrateSaysThereIsNothingToMigrate() throws {
        let r = try etch(["migrate", "--data-dir", "/nonexistent", "--no-ttl"])
        XCTAssertEqual(r.status, 4)
        XCTAssertEqual(r.out, "")
        XCTAssertTrue(r.stderr.hasPrefix("Error: migrate is not supported by etch"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/nonexistent"))
    }
}
