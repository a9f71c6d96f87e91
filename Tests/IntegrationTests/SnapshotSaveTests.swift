import Foundation
import XCTest

/// `snapshot save` against one real etcd shared by the suite (the server's state does not change between the
/// saves compared), side by side with etcdctl 3.4.23: the file, stdout and exit codes must be the same. Faults
/// etcd cannot be made to commit (a cut connection, a stall, a wrong digest) go through CuttingProxy and
/// FakeGateway.
final class SnapshotSaveTests: SharedClusterTestCase {
    /// One member holding ~600 KB of values (several dozen 32 KiB blobs), written once by one txn.
    override class func makeCluster() throws -> EtcdCluster {
        let c = try EtcdCluster()
        var txn = "\n"
        var rng = SystemRandomNumberGenerator()
        for i in 0..<40 {
            let value = Data((0..<11_000).map { _ in UInt8.random(in: 0...255, using: &rng) }).base64EncodedString()
            txn += "put snap/\(i) \(value)\n"
        }
        txn += "\n\n"
        let r = try etch(["--endpoints", c.endpoint, "txn"], stdin: Data(txn.utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        return c
    }

    func cluster() throws -> EtcdCluster { try sharedCluster() }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "etch-snap-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func files(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? [] }

    func testSavedFileIsEtcdctlsByteForByteAndStdoutToo() throws {
        let c = try cluster()
        let dir = try temporaryDirectory()
        let ref = try runProcess(Self.etcdctl, ["--endpoints", c.endpoint, "snapshot", "save", dir + "/ctl.db"])
        let got = try etch(["--endpoints", c.endpoint, "snapshot", "save", dir + "/etch.db"])
        XCTAssertEqual(ref.status, 0, ref.stderr)
        XCTAssertEqual(got.status, 0, got.stderr)
        XCTAssertEqual(got.out, "Snapshot saved at \(dir)/etch.db\n")
        XCTAssertEqual(ref.out, "Snapshot saved at \(dir)/ctl.db\n")
        XCTAssertEqual(got.stderr, "", "nothing on stderr when it is not a terminal")
        let mine = try Data(contentsOf: URL(fileURLWithPath: dir + "/etch.db"))
        let theirs = try Data(contentsOf: URL(fileURLWithPath: dir + "/ctl.db"))
        XCTAssertGreaterThan(mine.count, 400_000)
        XCTAssertTrue(mine == theirs, "etch's file (\(mine.count) bytes) differs from etcdctl's (\(theirs.count) bytes)")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/etch.db")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(files(dir), ["ctl.db", "etch.db"], "no .part left")

        // `-`: the same bytes on stdout, nothing else.
        let piped = try etch(["--endpoints", c.endpoint, "snapshot", "save", "-"])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertTrue(piped.stdout == theirs, "stdout (\(piped.stdout.count) bytes) differs from etcdctl's file")
        XCTAssertEqual(files(dir), ["ctl.db", "etch.db"])
    }

    func testArgumentsAndSeveralEndpointsAsEtcdctl() throws {
        let c = try cluster()
        let dir = try temporaryDirectory()
        let dead = "127.0.0.1:\(freePort())"
        for args in [["snapshot", "save"], ["snapshot", "save", "a", "b"], ["--endpoints", "\(c.endpoint),\(dead)", "snapshot", "save", dir + "/x.db"],
                     ["--endpoints", c.endpoint, "snapshot", "save", dir + "/missing/x.db"]] {
            let ref = try runProcess(Self.etcdctl, args), got = try etch(args)
            XCTAssertEqual(got.status, ref.status, "\(args): etcdctl \(ref.stderr)\netch \(got.stderr)")
            XCTAssertEqual(got.out, ref.out, "\(args)")
            XCTAssertTrue(got.stderr.hasPrefix("Error: "), got.stderr)
        }
        let several = try etch(["--endpoints", "\(c.endpoint),\(dead)", "snapshot", "save", dir + "/x.db"])
        XCTAssertEqual(several.stderr, "Error: snapshot must be requested to one selected node, not multiple [\(c.endpoint) \(dead)]\n")
        XCTAssertEqual(files(dir), [])

        // --newest-member: the dead endpoint is skipped, the live one saved from.
        let newest = try etch(["--endpoints", "\(dead),\(c.endpoint)", "snapshot", "save", "--newest-member", dir + "/n.db"])
        XCTAssertEqual(newest.status, 0, newest.stderr)
        XCTAssertEqual(newest.out, "Snapshot saved at \(dir)/n.db\n")
        let none = try etch(["--endpoints", "\(dead),\(dead)", "snapshot", "save", "--newest-member", dir + "/z.db"])
        XCTAssertEqual(none.status, 5)
        XCTAssertTrue(none.stderr.contains("no healthy member"), none.stderr)
        XCTAssertEqual(files(dir), ["n.db"])
    }

    func testCutConnectionLeavesNoFile() throws {
        let c = try cluster()
        let dir = try temporaryDirectory()
        let proxy = CuttingProxy(upstreamPort: c.members[0].clientPort, cutAfter: 100_000...300_000)
        defer { proxy.stop() }
        let r = try etch(["--endpoints", "127.0.0.1:\(proxy.port)", "snapshot", "save", dir + "/cut.db"])
        XCTAssertEqual(r.status, 5, r.stderr)
        XCTAssertEqual(r.out, "")
        XCTAssertTrue(r.stderr.hasPrefix("Error: snapshot stream"), r.stderr)
        XCTAssertTrue(r.stderr.contains("(no file saved)"), r.stderr)
        XCTAssertEqual(proxy.cuts, 1)
        XCTAssertEqual(files(dir), [], "neither the file nor its .part")
    }

    /// A server that sends part of a snapshot and then nothing: --stall-timeout ends the wait.
    func testStallTimesOut() throws {
        let dir = try temporaryDirectory()
        let fake = FakeGateway { _, conn in
            conn.startStream()
            conn.chunk(#"{"result":{"remaining_bytes":"100000","blob":"AAAA"}}"# + "\n")
            conn.waitForClientToClose(seconds: 20)
        }
        defer { fake.stop() }
        let r = try etch(["--endpoints", fake.endpoint, "snapshot", "save", "--stall-timeout", "1s", dir + "/s.db"])
        XCTAssertEqual(r.status, 5, r.stderr)
        XCTAssertEqual(r.stderr, "Error: snapshot stalled: nothing received from http://127.0.0.1:\(fake.port) for 1s (no file saved)\n")
        XCTAssertLessThan(r.seconds, 6)
        XCTAssertEqual(files(dir), [])
    }

    /// A stream whose trailing SHA-256 does not match its data: refused, nothing saved (etcdctl saves it).
    func testBadDigestIsRefused() throws {
        let dir = try temporaryDirectory()
        let data = [UInt8](repeating: 7, count: 1000)
        let fake = FakeGateway { _, conn in
            conn.startStream()
            conn.chunk(#"{"result":{"blob":"\#(Data(data).base64EncodedString())"}}"# + "\n")
            conn.chunk(#"{"result":{"blob":"\#(Data(repeating: 1, count: 32).base64EncodedString())"}}"# + "\n")
            conn.endStream()
        }
        defer { fake.stop() }
        let r = try etch(["--endpoints", fake.endpoint, "snapshot", "save", dir + "/bad.db"])
        XCTAssertEqual(r.status, 5, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("Error: snapshot is corrupt: its sha256 checksum is 0101"), r.stderr)
        XCTAssertEqual(files(dir), [])
        let piped = try etch(["--endpoints", fake.endpoint, "snapshot", "save", "-"])
        XCTAssertEqual(piped.status, 5)
        XCTAssertTrue(piped.stderr.contains("not a valid snapshot"), piped.stderr)
    }
}
