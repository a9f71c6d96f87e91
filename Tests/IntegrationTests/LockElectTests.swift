import Foundation
import Glibc
import XCTest

/// `lock` and `elect` against a real etcd, with etcdctl 3.4.23 taking part: the command's environment and exit
/// status, `--timeout` leaving no key, signals passed on to the command, etcdctl waiting for etch, and an
/// observer following the leaders. Mutual exclusion and lost leases on three members: LockElectReliabilityTests.
final class LockElectTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    func keys(_ cluster: EtcdCluster, _ prefix: String) throws -> [String] {
        try etch(["--endpoints", cluster.endpoint, "get", "--prefix", "--keys-only", prefix]).out
            .split(separator: "\n").map(String.init)
    }

    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return false
    }

    /// The command sees ETCD_LOCK_KEY and ETCD_LOCK_REV, etch exits with its status, and the lock is released.
    func testCommandEnvironmentAndExitStatus() throws {
        let cluster = try EtcdCluster()
        let r = try etch(["--endpoints", cluster.endpoint, "lock", "job", "--", "sh", "-c", "echo $ETCD_LOCK_KEY $ETCD_LOCK_REV; exit 3"])
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.out.hasPrefix("job/"), r.out)
        XCTAssertEqual(try keys(cluster, "job/"), [])
    }

    /// SIGTERM to etch reaches the command first; the lock is released after it ends.
    func testSignalReachesTheCommand() throws {
        let cluster = try EtcdCluster()
        let holder = try StreamingProcess(etchBinary, ["--endpoints", cluster.endpoint, "lock", "sig", "--", "sh", "-c",
                                                       "trap 'echo stopping; exit 7' TERM; echo running; while :; do sleep 0.05; done"])
        XCTAssertEqual(holder.waitForLines(1), ["running"])
        kill(holder.process.processIdentifier, SIGTERM)
        holder.process.waitUntilExit()
        XCTAssertEqual(holder.process.terminationStatus, 7)
        XCTAssertEqual(holder.output, "running\nstopping\n")
        XCTAssertEqual(try keys(cluster, "sig/"), [])
    }

    /// --timeout gives up with 124 and leaves only the holder's key; --timeout 0 tries once.
    func testTimeoutLeavesNoKeyBehind() throws {
        let cluster = try EtcdCluster()
        let ep = cluster.endpoint
        let holder = try StreamingProcess(Self.etcdctl, ["--endpoints", ep, "lock", "busy"])
        holder.waitForLines(1)
        let before = try keys(cluster, "busy/")
        XCTAssertEqual(before.count, 1)
        let waited = try etch(["--endpoints", ep, "lock", "--timeout", "500ms", "busy", "--", "true"])
        XCTAssertEqual(waited.status, 124)
        XCTAssertEqual(waited.stderr, "Error: lock \"busy\" not acquired within --timeout 500ms\n")
        XCTAssertGreaterThan(waited.seconds, 0.45)
        XCTAssertEqual(try keys(cluster, "busy/"), before)
        XCTAssertEqual(try etch(["--endpoints", ep, "lock", "--timeout", "0", "busy", "--", "true"]).status, 124)
        XCTAssertEqual(try keys(cluster, "busy/"), before)
        XCTAssertEqual(holder.stop(), 0)
        XCTAssertEqual(try etch(["--endpoints", ep, "lock", "--timeout", "0", "busy", "--", "true"]).status, 0)
    }

    /// An etch lock excludes etcdctl's: etcdctl waits until etch releases, and prints the same lines.
    func testEtcdctlWaitsForEtch() throws {
        let cluster = try EtcdCluster()
        let ep = cluster.endpoint
        let mine = try StreamingProcess(etchBinary, ["--endpoints", ep, "lock", "shared"])
        let first = mine.waitForLines(2)
        XCTAssertEqual(first.count, 2)
        XCTAssertTrue(first[0].hasPrefix("shared/"))
        let theirs = try StreamingProcess(Self.etcdctl, ["--endpoints", ep, "lock", "shared"])
        usleep(500_000)
        XCTAssertEqual(theirs.output, "")
        XCTAssertEqual(mine.stop(), 0)
        let second = theirs.waitForLines(2)
        XCTAssertEqual(second.count, 2)
        XCTAssertNotEqual(second[0], first[0])
        XCTAssertEqual(theirs.stop(), 0)
    }

    /// The leader is printed once elected; an observer (etch and etcdctl alike) sees the next after a resign.
    func testElectionObserverSeesTheNextLeader() throws {
        let cluster = try EtcdCluster()
        let ep = cluster.endpoint
        let observer = try StreamingProcess(etchBinary, ["--endpoints", ep, "elect", "-l", "el"])
        let theirObserver = try StreamingProcess(Self.etcdctl, ["--endpoints", ep, "elect", "-l", "el"])
        let a = try StreamingProcess(etchBinary, ["--endpoints", ep, "elect", "--ttl", "5", "el", "p1"])
        let aLines = a.waitForLines(2)
        XCTAssertEqual(aLines.count, 2)
        XCTAssertEqual(aLines.last, "p1")
        let b = try StreamingProcess(Self.etcdctl, ["--endpoints", ep, "elect", "el", "p2"])
        usleep(300_000)
        XCTAssertEqual(b.output, "")
        XCTAssertEqual(a.stop(), 0)
        let bLines = b.waitForLines(2)
        XCTAssertEqual(bLines.last, "p2")
        let seen = observer.waitForLines(4)
        XCTAssertEqual(seen, aLines + bLines)
        XCTAssertEqual(theirObserver.waitForLines(4), seen)
        XCTAssertEqual(b.stop(), 0)
        XCTAssertEqual(observer.stop(), 0)
        _ = theirObserver.stop()
    }
}
