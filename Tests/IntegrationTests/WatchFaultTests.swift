import Foundation
import Glibc
import XCTest

/// The watch never loses or repeats an event: servers killed mid-stream, connections cut mid-line, members
/// of a cluster restarted in turn, history compacted while disconnected. Each test compares what etch printed
/// with the server's own history read back at the end.
final class WatchFaultTests: XCTestCase {
    func currentRevision(_ endpoint: String) throws -> Int64 {
        let out = try etch(["--endpoints", endpoint, "get", "x", "-w", "fields"]).out
        let line = out.split(separator: "\n").first { $0.hasPrefix("\"Revision\"") } ?? ""
        return Int64(line.split(separator: " ").last ?? "") ?? 0
    }

    /// Waits until the watcher printed `count` events or `seconds` pass; returns the seconds it took.
    @discardableResult
    func converge(_ w: StreamingProcess, count: Int, seconds: Double = 60) -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if eventsFromEtchJSON(w.output).count >= count { break }
            usleep(50_000)
        }
        return Date().timeIntervalSince(start)
    }

    func check(_ w: StreamingProcess, port: Int, start: Int64, label: String) throws {
        let history = try serverHistory(port: port, prefix: "f/", start: start, expected: 1)
        let seconds = converge(w, count: history.count)
        let received = eventsFromEtchJSON(w.output)
        let result = Comparison(history: history, received: received)
        print("\(label): \(result); converged \(String(format: "%.2f", seconds))s after the last write")
        XCTAssertGreaterThan(result.written, 500, label)
        XCTAssertTrue(result.exact, "\(label): \(result)\nstderr: \(w.errors.suffix(2000))")
    }

    func testServerKilledTwiceDuringThousandsOfWrites() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let start = try currentRevision(cluster.endpoint) + 1
        let w = try StreamingProcess(etchBinary, ["--endpoints", cluster.endpoint, "watch", "--prefix", "f/", "--rev", "\(start)", "-w", "json"])
        defer { _ = w.stop() }
        let writer = Writer(ports: [cluster.members[0].clientPort], prefix: "f/", count: 3000)
        for threshold in [800, 1800] {
            while writer.acknowledged < threshold { usleep(10_000) }
            cluster.members[0].kill()
            try cluster.members[0].start()
        }
        writer.wait()
        try check(w, port: cluster.members[0].clientPort, start: start, label: "SIGKILL x2")
        XCTAssertTrue(w.errors.contains("reconnecting at revision"), w.errors)
    }

    func cutTest(_ range: ClosedRange<Int>, label: String) throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let proxy = CuttingProxy(upstreamPort: cluster.members[0].clientPort, cutAfter: range)
        defer { proxy.stop() }
        let start = try currentRevision(cluster.endpoint) + 1
        let w = try StreamingProcess(etchBinary, ["--endpoints", "127.0.0.1:\(proxy.port)", "watch", "--prefix", "f/", "--rev", "\(start)", "-w", "json"])
        defer { _ = w.stop() }
        let writer = Writer(ports: [cluster.members[0].clientPort], prefix: "f/", count: 2000)
        writer.wait()
        try check(w, port: cluster.members[0].clientPort, start: start, label: "\(label) (\(proxy.cuts) cuts)")
        XCTAssertGreaterThan(proxy.cuts, 2, "the proxy really cut the stream")
    }

    func testConnectionsCutOftenMidLine() throws { try cutTest(1_000...4_000, label: "cut every few KB") }

    func testConnectionsCutRarely() throws { try cutTest(20_000...60_000, label: "cut every tens of KB") }

    func testThreeMemberClusterRestartedInTurn() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let start = try currentRevision(cluster.endpoints) + 1
        let w = try StreamingProcess(etchBinary, ["--endpoints", cluster.endpoints, "watch", "--prefix", "f/", "--rev", "\(start)", "-w", "json"])
        defer { _ = w.stop() }
        let writer = Writer(ports: cluster.members.map(\.clientPort), prefix: "f/", count: 2400, pause: 500)
        for (i, member) in cluster.members.enumerated() {
            while writer.acknowledged < 500 * (i + 1) { usleep(10_000) }
            member.kill()
            usleep(500_000)
            try member.start()
        }
        writer.wait()
        try check(w, port: cluster.members[0].clientPort, start: start, label: "3 members restarted in turn")
    }

    /// Compaction while the watcher is cut off: without --list, etcdctl's message and exit 5, never a silent skip.
    func testCompactionWhileDisconnectedExits5() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let proxy = CuttingProxy(upstreamPort: cluster.members[0].clientPort, cutAfter: Int.max / 2...Int.max / 2)
        defer { proxy.stop() }
        let ep = cluster.endpoint
        let w = try StreamingProcess(etchBinary, ["--endpoints", "127.0.0.1:\(proxy.port)", "watch", "--prefix", "c/"])
        usleep(300_000)
        _ = try etch(["--endpoints", ep, "put", "c/1", "a"])
        XCTAssertEqual(w.waitForLines(3).count, 3)
        proxy.disconnect()
        for i in 2...5 { _ = try etch(["--endpoints", ep, "put", "c/\(i)", "x"]) }
        let rev = try currentRevision(ep)
        _ = try runProcess("/usr/bin/curl", ["-s", "-XPOST", "http://\(ep)/v3/kv/compaction", "-d", "{\"revision\":\"\(rev)\"}"])
        proxy.refusing = false
        w.process.waitUntilExit()
        XCTAssertEqual(w.process.terminationStatus, 5)
        XCTAssertTrue(w.errors.contains("watch was canceled (etcdserver: mvcc: required revision has been compacted)"), w.errors)
        XCTAssertTrue(w.errors.contains("compacted its history up to revision \(rev)"), w.errors)
    }

    /// With --list, a compaction is not fatal: etch lists again and prints the difference, so the consumer's
    /// view converges to the server's state.
    func testCompactionWhileDisconnectedWithListConverges() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let proxy = CuttingProxy(upstreamPort: cluster.members[0].clientPort, cutAfter: Int.max / 2...Int.max / 2)
        defer { proxy.stop() }
        let ep = cluster.endpoint
        for i in 1...3 { _ = try etch(["--endpoints", ep, "put", "c/\(i)", "old\(i)"]) }
        let w = try StreamingProcess(etchBinary, ["--endpoints", "127.0.0.1:\(proxy.port)", "watch", "--prefix", "c/", "--list", "-w", "json"])
        defer { _ = w.stop() }
        while eventsFromEtchJSON(w.output).count < 3 { usleep(20_000) }
        proxy.disconnect()
        _ = try etch(["--endpoints", ep, "del", "c/1"])
        _ = try etch(["--endpoints", ep, "put", "c/2", "new2"])
        _ = try etch(["--endpoints", ep, "put", "c/4", "new4"])
        let rev = try currentRevision(ep)
        _ = try runProcess("/usr/bin/curl", ["-s", "-XPOST", "http://\(ep)/v3/kv/compaction", "-d", "{\"revision\":\"\(rev)\"}"])
        proxy.refusing = false
        converge(w, count: 6, seconds: 20)
        _ = try etch(["--endpoints", ep, "put", "c/5", "after"])
        converge(w, count: 7, seconds: 10)
        // Apply what etch printed, as a consumer would, and compare with the server's state.
        var view: [String: String] = [:]
        for line in w.output.split(separator: "\n") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let events = obj["Events"] as? [[String: Any]] else { continue }
            for e in events {
                let kv = e["kv"] as? [String: Any] ?? [:]
                let key = String(decoding: Data(base64Encoded: kv["key"] as? String ?? "") ?? Data(), as: UTF8.self)
                let value = String(decoding: Data(base64Encoded: kv["value"] as? String ?? "") ?? Data(), as: UTF8.self)
                if (e["type"] as? NSNumber)?.intValue == 1 { view[key] = nil } else { view[key] = value }
            }
        }
        XCTAssertEqual(view, ["c/2": "new2", "c/3": "old3", "c/4": "new4", "c/5": "after"], "stderr: \(w.errors)")
        XCTAssertTrue(w.errors.contains("listing again"), w.errors)
    }
}

/// One revision with tens of thousands of events (a `del --prefix`) is a multi-MB message: decoded as it
/// arrives, printed exactly as etcdctl prints it, and resumed without loss or repeats when cut in the middle.
final class HugeRevisionTests: XCTestCase {
    func testHugeRevisionStreamsAndSurvivesCuts() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        let n = 12_000
        Writer(ports: [cluster.members[0].clientPort], prefix: "h/", count: n, keySpace: n).wait()
        let del = try etch(["--endpoints", ep, "del", "h/", "--prefix", "-w", "fields"])
        XCTAssertTrue(del.out.contains("\"Deleted\" : \(n)"), del.out)
        let rev = del.out.split(separator: "\n").first { $0.hasPrefix("\"Revision\"") }!.split(separator: " ").last!
        let args = ["--endpoints", ep, "watch", "--prefix", "h/", "--rev", String(rev), "-w", "json"]
        let mine = try etch(args + ["--max-events", "\(n)"], timeout: 60)
        XCTAssertEqual(mine.status, 0, mine.stderr)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") {
            let theirs = try runProcess("/usr/bin/timeout", ["5", "/usr/bin/etcdctl"] + args)
            XCTAssertEqual(mine.stdout, theirs.stdout, "the streamed message prints as etcdctl prints it")
        }
        XCTAssertEqual(eventsFromEtchJSON(mine.out).count, n)

        // etcd cannot start a watch inside a revision, so a message of one revision cut on every connection
        // could never get through; cut it twice in the middle, then let it pass.
        let proxy = CuttingProxy(upstreamPort: cluster.members[0].clientPort, cutAfter: 200_000...500_000, maxCuts: 2)
        defer { proxy.stop() }
        var cutArgs = args
        cutArgs[1] = "127.0.0.1:\(proxy.port)"
        let cut = try etch(cutArgs + ["--max-events", "\(n)"], timeout: 120)
        XCTAssertEqual(cut.status, 0, cut.stderr)
        let events = eventsFromEtchJSON(cut.out)
        XCTAssertEqual(events.count, n, "every event once")
        XCTAssertEqual(Set(events.map(\.key)).count, n, "no key twice")
        XCTAssertGreaterThan(proxy.cuts, 0, "the message really was cut")
        XCTAssertTrue(cut.stderr.contains("reconnecting at revision \(rev)"), cut.stderr)
    }
}
