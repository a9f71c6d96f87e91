import Foundation
import Glibc
import XCTest

/// A TCP server on loopback for failure cases a real etcd will not produce: it accepts connections and
/// then either never answers (a black hole) or answers with fixed bytes and closes.
final class FakeServer {
    let port: Int
    private let fd: Int32
    private let reply: [UInt8]?
    private var running = true
    private var clients: [Int32] = []

    init(reply: [UInt8]?) {
        self.reply = reply
        let (sock, boundPort) = bindLoopback()
        fd = sock
        port = boundPort
        listen(sock, 16)
        Thread.detachNewThread { [self] in
            while running {
                let c = accept(fd, nil, nil)
                if c < 0 { return }
                clients.append(c)
                guard let reply else { continue }
                var buf = [UInt8](repeating: 0, count: 65536)
                _ = recv(c, &buf, buf.count, 0)
                _ = reply.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(c)
            }
        }
    }

    func stop() {
        running = false
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for c in clients { close(c) }
    }
}

/// etch's own promises beyond etcdctl, against real etcd processes.
final class EtchBehaviourTests: XCTestCase {
    var cluster: EtcdCluster!

    override func setUpWithError() throws { cluster = try EtcdCluster() }
    override func tearDown() { cluster?.stop() }

    func testWatchPrintsEachEventAsItHappens() throws {
        let w = try StreamingProcess(etchBinary, ["--endpoints", cluster.endpoint, "watch", "--prefix", "live/", "-w", "json"])
        defer { _ = w.stop() }
        usleep(300_000)
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "put", "live/a", "1"]).status, 0)
        let first = w.waitForLines(1, seconds: 5)
        XCTAssertEqual(first.count, 1, "the first event is on stdout before the second write")
        XCTAssertTrue(first[0].contains("\"key\":\"bGl2ZS9h\""), first.joined())
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "del", "live/a"]).status, 0)
        let both = w.waitForLines(2, seconds: 5)
        XCTAssertEqual(both.count, 2)
        XCTAssertTrue(both[1].contains("\"type\":1"), "a DELETE event carries type 1")
        XCTAssertEqual(w.stop(), 2, "Ctrl-C ends the watch by SIGINT, as etcdctl's does (status shows the signal)")
    }

    func testUnreachableEndpointFailsFastAndNamesIt() throws {
        let dead = "127.0.0.1:\(freePort())"
        for args in [["get", "k"], ["put", "k", "v"], ["watch", "k"]] {
            let r = try etch(["--endpoints", dead, "--dial-timeout", "1s"] + args, timeout: 10)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.stderr.contains(dead), "the message names the endpoint: \(r.stderr)")
            XCTAssertLessThan(r.seconds, 3, "\(args) fails within the dial timeout")
        }
    }

    func testSilentServerTimesOutInsteadOfHanging() throws {
        let hole = FakeServer(reply: nil)
        defer { hole.stop() }
        let get = try etch(["--endpoints", "127.0.0.1:\(hole.port)", "--command-timeout", "1s", "get", "k"], timeout: 10)
        XCTAssertEqual(get.status, 1)
        XCTAssertTrue(get.stderr.contains("context deadline exceeded"), get.stderr)
        XCTAssertLessThan(get.seconds, 4)
        let watch = try etch(["--endpoints", "127.0.0.1:\(hole.port)", "--dial-timeout", "1s", "--command-timeout", "1s", "watch", "k"], timeout: 15)
        XCTAssertEqual(watch.status, 1, "etcdctl's watch hangs forever here; etch's does not")
        XCTAssertLessThan(watch.seconds, 6)
    }

    func testEmptyAndNonJSONRepliesAreErrorsNeverSuccess() throws {
        let empty = FakeServer(reply: [])
        defer { empty.stop() }
        let r1 = try etch(["--endpoints", "127.0.0.1:\(empty.port)", "put", "k", "v"])
        XCTAssertEqual(r1.status, 1)
        XCTAssertTrue(r1.stderr.contains("without a reply"), r1.stderr)
        XCTAssertEqual(r1.out, "", "no OK for a write whose outcome is unknown")

        let html = FakeServer(reply: Array("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>proxy!</html>\n".utf8))
        defer { html.stop() }
        let r2 = try etch(["--endpoints", "127.0.0.1:\(html.port)", "get", "k"])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.stderr.contains("502"), r2.stderr)

        let cut = FakeServer(reply: Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"kvs\":[".utf8))
        defer { cut.stop() }
        let r4 = try etch(["--endpoints", "127.0.0.1:\(cut.port)", "get", "k"])
        XCTAssertEqual(r4.status, 1)
        XCTAssertTrue(r4.stderr.contains("broke before the reply was complete"), r4.stderr)

        let garbage = FakeServer(reply: Array("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"kvs\":[".utf8))
        defer { garbage.stop() }
        let r3 = try etch(["--endpoints", "127.0.0.1:\(garbage.port)", "get", "k"])
        XCTAssertEqual(r3.status, 1)
        XCTAssertTrue(r3.stderr.contains("unexpected reply"), r3.stderr)
        XCTAssertEqual(r3.out, "")
    }

    func testBinaryValuesAndKeysRoundTrip() throws {
        let value = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let key = String(decoding: [0x62, 0x69, 0x6E, 0xC3, 0xA9], as: UTF8.self)
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "put", key], stdin: value).status, 0)
        let got = try etch(["--endpoints", cluster.endpoint, "get", key, "--print-value-only"])
        XCTAssertEqual(got.stdout, value + Data([0x0A]))
        let hex = try etch(["--endpoints", cluster.endpoint, "get", key, "--hex", "--keys-only"])
        XCTAssertEqual(hex.out, "\\x62\\x69\\x6e\\xc3\\xa9\n\n")
        let big = Data(repeating: 0x5A, count: 1_000_000)
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "put", "big"], stdin: big).status, 0)
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "get", "big", "--print-value-only"]).stdout.count, big.count + 1)
    }

    func testServerErrorsShowTheServersMessage() throws {
        let r = try etch(["--endpoints", cluster.endpoint, "get", "k", "--rev", "9999"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "Error: etcdserver: mvcc: required revision is a future revision\n")
    }

    func testDebugShowsRequestsWithoutTouchingStdout() throws {
        _ = try etch(["--endpoints", cluster.endpoint, "put", "dbg", "v"])
        let r = try etch(["--endpoints", cluster.endpoint, "--debug", "get", "dbg"])
        XCTAssertEqual(r.out, "dbg\nv\n")
        XCTAssertTrue(r.stderr.contains("POST http://\(cluster.endpoint)/v3/kv/range -> 200"), r.stderr)
    }

    func testWatchResumesAfterTheServerIsKilledWithoutLosingOrRepeating() throws {
        let ep = cluster.endpoint
        let w = try StreamingProcess(etchBinary, ["--endpoints", ep, "watch", "--prefix", "r/"])
        defer { _ = w.stop() }
        usleep(300_000)
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "r/1", "a"]).status, 0)
        XCTAssertEqual(w.waitForLines(3).count, 3)
        cluster.members[0].kill()
        try cluster.members[0].start()
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "r/2", "b"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "r/3", "c"]).status, 0)
        let lines = w.waitForLines(9, seconds: 15)
        XCTAssertEqual(lines, ["PUT", "r/1", "a", "PUT", "r/2", "b", "PUT", "r/3", "c"], "stderr: \(w.errors)")
        XCTAssertTrue(w.errors.contains("reconnecting at revision 3"), w.errors)
    }

    func testHelpForEveryCommandHasUsageFlagsAndExamples() throws {
        for cmd in ["get", "put", "del", "watch", "version"] {
            let a = try etch(["help", cmd]), b = try etch([cmd, "--help"])
            XCTAssertEqual(a.status, 0); XCTAssertEqual(a.out, b.out)
            XCTAssertTrue(a.out.contains("Usage:\n  etch \(cmd)"), a.out)
            XCTAssertTrue(a.out.contains("Examples:"), cmd)
            XCTAssertTrue(a.out.contains("--endpoints"), cmd)
        }
        let root = try etch(["--help"])
        XCTAssertEqual(root.status, 0)
        XCTAssertTrue(root.out.contains("watch"))
    }
}

/// Scripting features: ends after N events, time limits, list-then-watch and wait.
final class ScriptingTests: XCTestCase {
    var cluster: EtcdCluster!

    override func setUpWithError() throws { cluster = try EtcdCluster() }
    override func tearDown() { cluster?.stop() }

    func testMaxEventsAndTimeout() throws {
        let ep = cluster.endpoint
        for i in 1...3 { _ = try etch(["--endpoints", ep, "put", "m/\(i)", "v\(i)"]) }
        let r = try etch(["--endpoints", ep, "watch", "--prefix", "m/", "--rev", "1", "--max-events", "2"], timeout: 10)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out, "PUT\nm/1\nv1\nPUT\nm/2\nv2\n", "only two events, although the replay carries three in one response")
        let t = try etch(["--endpoints", ep, "watch", "nothing", "--timeout", "1s"], timeout: 10)
        XCTAssertEqual(t.status, 124)
        XCTAssertLessThan(t.seconds, 4)
    }

    func testListThenWatch() throws {
        let ep = cluster.endpoint
        _ = try etch(["--endpoints", ep, "put", "l/a", "1"])
        _ = try etch(["--endpoints", ep, "put", "l/b", "2"])
        let w = try StreamingProcess(etchBinary, ["--endpoints", ep, "watch", "--prefix", "l/", "--list"])
        defer { _ = w.stop() }
        XCTAssertEqual(w.waitForLines(6), ["PUT", "l/a", "1", "PUT", "l/b", "2"])
        _ = try etch(["--endpoints", ep, "del", "l/a"])
        XCTAssertEqual(Array(w.waitForLines(9).suffix(3)), ["DELETE", "l/a", ""])
    }

    func testResyncReprintsEveryKey() throws {
        let ep = cluster.endpoint
        _ = try etch(["--endpoints", ep, "put", "s/a", "1"])
        let r = try etch(["--endpoints", ep, "watch", "--prefix", "s/", "--list", "--resync", "700ms", "--timeout", "1900ms"], timeout: 10)
        XCTAssertEqual(r.status, 124)
        XCTAssertEqual(r.out, "PUT\ns/a\n1\nPUT\ns/a\n1\nPUT\ns/a\n1\n", "the first list and two resyncs")
    }

    func testWait() throws {
        let ep = cluster.endpoint
        let later = Thread { usleep(400_000); _ = try? etch(["--endpoints", ep, "put", "ready", "yes"]) }
        later.start()
        let r = try etch(["--endpoints", ep, "wait", "ready", "--for", "value=yes", "--timeout", "10s"], timeout: 15)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.out, "ready\nyes\n")
        let q = try etch(["--endpoints", ep, "wait", "ready", "--for", "exists", "-q"])
        XCTAssertEqual(q.status, 0); XCTAssertEqual(q.out, "")
        let t = try etch(["--endpoints", ep, "wait", "ready", "--for", "deleted", "--timeout", "1s"], timeout: 10)
        XCTAssertEqual(t.status, 124)
        XCTAssertTrue(t.stderr.contains("timed out"), t.stderr)
        let changed = try StreamingProcess(etchBinary, ["--endpoints", ep, "wait", "ready", "--for", "changed", "-w", "json"])
        usleep(400_000)
        _ = try etch(["--endpoints", ep, "put", "ready", "again"])
        changed.process.waitUntilExit()
        XCTAssertEqual(changed.process.terminationStatus, 0)
        XCTAssertTrue(changed.output.contains("\"value\":\"YWdhaW4=\""), changed.output)
        let bad = try etch(["--endpoints", ep, "wait", "ready", "--for", "sometime"])
        XCTAssertEqual(bad.status, 128)
    }
}

/// Interactive watches keep their own resume points across a server restart.
final class InteractiveResumeTests: XCTestCase {
    func testEachInteractiveWatchResumesWhereItStopped() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "(printf 'watch a\\nwatch --prefix b/\\n'; sleep 8) | \(etchBinary) --endpoints \(ep) watch -i"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        usleep(700_000)
        _ = try etch(["--endpoints", ep, "put", "a", "1"])
        _ = try etch(["--endpoints", ep, "put", "b/1", "x"])
        usleep(300_000)
        cluster.members[0].kill()
        _ = try etch(["--endpoints", ep, "put", "never", "seen"])  // fails: the server is down
        try cluster.members[0].start()
        _ = try etch(["--endpoints", ep, "put", "a", "2"])
        _ = try etch(["--endpoints", ep, "put", "b/2", "y"])
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // Each watch's events in order, once each; etcd does not order the catch-up of two watches on one stream.
        let events = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(events.count, 12, text)
        var perWatch: [String: [String]] = [:]
        for i in stride(from: 0, to: events.count - 2, by: 3) {
            XCTAssertEqual(events[i], "PUT", text)
            perWatch[events[i + 1].hasPrefix("b/") ? "b/" : "a", default: []].append(events[i + 1] + "=" + events[i + 2])
        }
        XCTAssertEqual(perWatch, ["a": ["a=1", "a=2"], "b/": ["b/1=x", "b/2=y"]], errors)
        XCTAssertEqual(p.terminationStatus, 3, "end of input ends it as in etcdctl")
        XCTAssertTrue(errors.contains("reconnecting with 2 watch(es)"), errors)
    }
}

/// A large range is read in pages at one revision; the output must equal etcdctl's single unpaginated get.
final class PagedGetTests: XCTestCase {
    func testPagedGetEqualsOneUnpaginatedGet() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") else { throw XCTSkip("etcdctl is not installed") }
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        // 12,000 distinct keys with 100-byte values: the range spans a first page of 5,000 keys and a second.
        Writer(ports: [cluster.members[0].clientPort], prefix: "big/", count: 12_000, keySpace: 12_000,
               value: String(repeating: "v", count: 100)).wait()
        let rev = "\(try Int((etch(["--endpoints", ep, "get", "x", "-w", "fields"]).out.split(separator: "\n")[2].split(separator: " ").last!))! - 10)"
        for extra in [[], ["-w", "json"], ["-w", "fields"], ["--keys-only"], ["--limit", "7000", "-w", "json"], ["--limit", "7000", "-w", "fields"], ["--rev", rev, "-w", "json"], ["--from-key", "-w", "fields"]] {
            let args = ["--endpoints", ep, "get", "big/"] + (extra.contains("--from-key") ? [] : ["--prefix"]) + extra
            let mine = try etch(args)
            let theirs = try runProcess("/usr/bin/etcdctl", args)
            XCTAssertEqual(mine.status, 0, mine.stderr)
            XCTAssertEqual(mine.stdout, theirs.stdout, "\(extra)")
            XCTAssertGreaterThan(mine.stdout.count, 50_000, "a range of thousands of keys really was printed")
        }
    }

    /// 40,000 keys with 1 KiB values: pages of about 22,000 keys, so after the first page of 5,000 the range
    /// is read as pipelined pages (boundaries from count_only requests, each page fetched while the one before
    /// prints) and a last page read from both ends. The output must still equal etcdctl's single get.
    func testPipelinedPagesEqualOneUnpaginatedGet() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") else { throw XCTSkip("etcdctl is not installed") }
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        let value = Data(String(repeating: "v", count: 1024).utf8)
        try loadInTransactions(cluster, prefix: "pipe/",
                               stride(from: 0, to: 40_000, by: 125).map { (keys: $0..<($0 + 125), value: { (_: Int) in value }) })
        let rev = "\(try Int((etch(["--endpoints", ep, "get", "x", "-w", "fields"]).out.split(separator: "\n")[2].split(separator: " ").last!))! - 100)"
        for extra in [[], ["-w", "json"], ["--rev", rev, "-w", "fields"]] {
            let args = ["--endpoints", ep, "--debug", "get", "pipe/", "--prefix"] + extra
            let mine = try etch(args, timeout: 60)
            let theirs = try runProcess("/usr/bin/etcdctl", args.filter { $0 != "--debug" }, timeout: 60)
            XCTAssertEqual(mine.status, 0, mine.stderr)
            XCTAssertTrue(mine.stdout == theirs.stdout, "\(extra): \(mine.stdout.count) bytes against etcdctl's \(theirs.stdout.count)")
            // The pipeline really ran (for the json and simple runs: --rev reads the same keys at that revision).
            XCTAssertTrue(mine.stderr.contains("pipelined page of"), mine.stderr)
        }
    }

    /// Values that grow along the range: 5,000 keys of 100 bytes (the first page), then 4,000 of 16 KiB. The
    /// rest looks like one page by the first page's sizes, but its second half is 32 MiB: the half held in
    /// memory is capped, the second request dropped, and the rest read page by page. Output as etcdctl's.
    func testGrowingValuesStayWithinTheHeldHalfCap() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") else { throw XCTSkip("etcdctl is not installed") }
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        let value = { (size: Int) in { (i: Int) in Data(repeating: UInt8(i % 251), count: size) } }
        let small = stride(from: 0, to: 5000, by: 125).map { (keys: $0..<($0 + 125), value: value(100)) }
        let large = stride(from: 5000, to: 9000, by: 16).map { (keys: $0..<($0 + 16), value: value(16384)) }
        try loadInTransactions(cluster, prefix: "grow/", small + large)
        for extra in [[], ["-w", "json"]] {
            let args = ["--endpoints", ep, "get", "grow/", "--prefix"] + extra
            let mine = try etch(args, timeout: 60)
            let theirs = try runProcess("/usr/bin/etcdctl", args, timeout: 60)
            XCTAssertEqual(mine.status, 0, mine.stderr)
            XCTAssertTrue(mine.stdout == theirs.stdout, "\(extra): \(mine.stdout.count) bytes against etcdctl's \(theirs.stdout.count)")
        }
    }

    /// Writes keys `<prefix>%06d` through gateway transactions, one per batch (keys, and the value of key i),
    /// all sent by one curl over one kept-alive connection.
    func loadInTransactions(_ cluster: EtcdCluster, prefix: String, _ batches: [(keys: Range<Int>, value: (Int) -> Data)]) throws {
        let bodies = cluster.directory + "/txn"
        try FileManager.default.createDirectory(atPath: bodies, withIntermediateDirectories: true)
        var urls: [String] = []
        for (n, batch) in batches.enumerated() {
            let ops = batch.keys.map { i -> String in
                let key = Data("\(prefix)\(String(format: "%06d", i))".utf8).base64EncodedString()
                return #"{"request_put":{"key":"\#(key)","value":"\#(batch.value(i).base64EncodedString())"}}"#
            }
            try #"{"success":[\#(ops.joined(separator: ","))]}"#.write(toFile: bodies + "/\(n)", atomically: false, encoding: .utf8)
            urls += ["-d", "@\(bodies)/\(n)", "http://\(cluster.endpoint)/v3/kv/txn", "--next"]
        }
        let load = try runProcess("/usr/bin/curl", ["-sf", "-o", "/dev/null"] + urls.dropLast(), timeout: 120)
        XCTAssertEqual(load.status, 0, load.stderr)
    }
}
