import Foundation
import Glibc
import XCTest

/// make-mirror between two real single-member clusters: the destination ends equal to the source, key for
/// key (values and deletes), through a proxy that cuts the source's connections every few KB and a
/// destination restarted mid-copy; the destination prefix rules; resuming from the checkpoint after a kill.
final class MakeMirrorTests: XCTestCase {
    /// Puts `count` keys `<prefix>NNNNN` with values of `size` bytes, 128 to a transaction.
    func load(_ endpoint: String, prefix: String, count: Int, size: Int = 16, start: Int = 0) throws {
        var i = start
        while i < start + count {
            let n = min(128, start + count - i)
            let ops = (i..<(i + n)).map { "put \(prefix)\(String(format: "%05d", $0)) \(String(repeating: "v", count: max(0, size - 6)))\(String(format: "%06d", $0))" }
            let o = try etch(["--endpoints", endpoint, "txn"], stdin: Data(("\n" + ops.joined(separator: "\n") + "\n\n\n").utf8))
            XCTAssertEqual(o.status, 0, o.stderr)
            i += n
        }
    }

    /// Every key-value under `prefix`, keys with `prefix` removed.
    func contents(_ endpoint: String, prefix: String) throws -> [String: String] {
        let o = try etch(["--endpoints", endpoint, "get", "--prefix", prefix, "-w", "json"])
        guard o.status == 0, let json = try JSONSerialization.jsonObject(with: o.stdout) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        for kv in json["kvs"] as? [[String: Any]] ?? [] {
            let key = String(decoding: Data(base64Encoded: kv["key"] as? String ?? "") ?? Data(), as: UTF8.self)
            let value = String(decoding: Data(base64Encoded: kv["value"] as? String ?? "") ?? Data(), as: UTF8.self)
            out[String(key.dropFirst(prefix.count))] = value
        }
        return out
    }

    func revision(_ endpoint: String) throws -> Int64 {
        let o = try etch(["--endpoints", endpoint, "get", "x", "-w", "json"])
        let json = try JSONSerialization.jsonObject(with: o.stdout) as? [String: Any]
        return ((json?["header"] as? [String: Any])?["revision"] as? NSNumber)?.int64Value ?? 0
    }

    func count(_ endpoint: String, prefix: String) -> Int {
        guard let o = try? etch(["--endpoints", endpoint, "get", "--prefix", prefix, "--count-only", "-w", "fields"], timeout: 5),
              o.status == 0 else { return -1 }
        let line = o.out.split(separator: "\n").first { $0.hasPrefix("\"Count\"") } ?? ""
        return Int(line.split(separator: " ").last ?? "") ?? -1
    }

    /// Waits until the destination under `to` equals the source under `from`; returns whether it did.
    func converge(source: String, from: String, destination: String, to: String, seconds: Double = 30) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        let want = try contents(source, prefix: from)
        while Date() < deadline {
            if try contents(destination, prefix: to) == want { return true }
            usleep(100_000)
        }
        let got = try contents(destination, prefix: to)
        let missing = want.filter { got[$0.key] != $0.value }.count
        let extra = got.filter { want[$0.key] == nil }.count
        XCTFail("destination \(to) differs from source \(from): \(missing) missing or different, \(extra) extra (of \(want.count))")
        return false
    }

    func testCopyAndLiveChangesThroughCutsAndADestinationRestart() throws {
        let source = try EtcdCluster()
        let destination = try EtcdCluster()
        defer { source.stop(); destination.stop() }
        let src = source.endpoint, dst = destination.endpoint
        try load(src, prefix: "m/", count: 2000, size: 200)
        try load(src, prefix: "other/", count: 10)
        let proxy = CuttingProxy(upstreamPort: source.members[0].clientPort, cutAfter: 1_000...4_000)
        defer { proxy.stop() }
        let mirror = try StreamingProcess(etchBinary, ["--endpoints", "127.0.0.1:\(proxy.port)", "make-mirror", "--prefix", "m/",
                                                       "--dest-prefix", "d/", "--max-txn-ops", "50", "-w", "jsonl",
                                                       "--progress-interval", "1s", dst])
        // The destination dies mid-copy and comes back on the same port and data.
        let deadline = Date().addingTimeInterval(20)
        var atKill = 0
        while Date() < deadline {
            atKill = count(dst, prefix: "d/")
            if atKill > 0 { break }
            usleep(20_000)
        }
        destination.members[0].kill()
        usleep(500_000)
        try destination.members[0].start()
        // Live changes while copying and after: puts (new keys and overwrites), deletes, one multi-key txn.
        let writer = Writer(ports: [source.members[0].clientPort], prefix: "m/live", count: 150, keySpace: 50)
        writer.wait()
        // Deletes: single keys and a range of five in one revision. (Each revision stays under the proxy's
        // smallest cut: etcd sends a revision in one message, so a bigger one could never get through it.)
        XCTAssertEqual(try etch(["--endpoints", src, "del", "m/00100"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", src, "del", "m/00300", "m/00305"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", src, "del", "m/live00010"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", src, "txn"], stdin: Data("\nput m/00001 t1\nput m/00002 t2\ndel m/00003\n\n\n".utf8)).status, 0)
        let copyStart = Date()
        while Date().timeIntervalSince(copyStart) < 30 && !mirror.output.contains("\"phase\":\"watching\"") { usleep(50_000) }
        print("make-mirror: the initial copy was done within \(String(format: "%.1f", Date().timeIntervalSince(copyStart))) s of the destination's restart")
        let equal = try converge(source: src, from: "m/", destination: dst, to: "d/")
        print("make-mirror: \(proxy.cuts) source connections cut; destination killed with \(atKill) of 2000 keys copied")
        XCTAssertTrue(equal, mirror.errors.suffix(3000).description)
        XCTAssertEqual(count(dst, prefix: "other/"), 0, "keys outside --prefix are not mirrored")
        XCTAssertEqual(count(dst, prefix: "m/"), 0, "mirrored keys go under the destination prefix")
        XCTAssertGreaterThan(proxy.cuts, 20)
        XCTAssertTrue(mirror.errors.contains("writing to the destination failed"), mirror.errors.suffix(2000).description)
        // The progress line: keys put and deleted, applied and source revision, lag.
        let last = mirror.waitForLines(1).last ?? ""
        XCTAssertTrue(last.hasPrefix("{\"keys\":"), last)
        XCTAssertTrue(last.contains("\"phase\":\"watching\""), last)
        XCTAssertEqual(mirror.stop(), SIGINT)
    }

    func testDestinationPrefixesAndEtcdctlsArgumentErrors() throws {
        let source = try EtcdCluster()
        let destination = try EtcdCluster()
        defer { source.stop(); destination.stop() }
        let src = source.endpoint, dst = destination.endpoint
        try load(src, prefix: "o_", count: 5)
        // --no-dest-prefix: to the root; etcdctl's exact progress line (the count alone) every interval.
        let root = try StreamingProcess(etchBinary, ["--endpoints", src, "make-mirror", "--prefix", "o_", "--no-dest-prefix",
                                                     "--progress-interval", "300ms", dst])
        XCTAssertTrue(try converge(source: src, from: "o_0000", destination: dst, to: "0000"))
        XCTAssertEqual(try etch(["--endpoints", src, "del", "o_00002"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", src, "put", "o_00009", "new"]).status, 0)
        XCTAssertTrue(try converge(source: src, from: "o_0000", destination: dst, to: "0000"))
        let progressDeadline = Date().addingTimeInterval(10)
        while Date() < progressDeadline && root.waitForLines(1).last != "7" { usleep(50_000) }
        XCTAssertEqual(root.waitForLines(1).last, "7", "5 keys copied, a delete and a put")
        XCTAssertTrue(root.waitForLines(1).allSatisfy { Int($0) != nil }, root.output)
        XCTAssertEqual(root.stop(), SIGINT)
        XCTAssertEqual(count(dst, prefix: "o_"), 0)
        // The default destination prefix is the source prefix.
        let same = try StreamingProcess(etchBinary, ["--endpoints", src, "make-mirror", "--prefix", "o_", dst])
        XCTAssertTrue(try converge(source: src, from: "o_", destination: dst, to: "o_"))
        XCTAssertEqual(same.stop(), SIGINT)
        // Bad arguments: etcdctl's messages and exit codes.
        for args in [["make-mirror"], ["make-mirror", dst, "extra"], ["make-mirror", "--dest-prefix", "x", "--no-dest-prefix", dst]] {
            let mine = try etch(["--endpoints", src] + args)
            let theirs = try runProcess("/usr/bin/etcdctl", ["--endpoints", src] + args)
            XCTAssertEqual(mine.status, theirs.status, "\(args)")
            XCTAssertEqual(mine.stderr, theirs.stderr, "\(args)")
        }
    }

    /// A destination that serves clients over TLS only and requires a client certificate: etcdctl's --dest-cacert,
    /// --dest-cert and --dest-key reach it. Without the client certificate, or without the CA, etch exits 1 at
    /// once and says which, naming the --dest- flags (etcdctl 3.4 retries silently forever in both cases); a key file that cannot be read
    /// is etcdctl's error and exit code.
    func testTLSDestination() throws {
        let pki = try TestPKI()
        let dir = NSTemporaryDirectory() + "etch-mirror-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try EtcdCluster()
        defer { source.stop() }
        let destination = try TLSEtcd(pki: pki, directory: dir)
        defer { destination.member.kill() }
        let src = source.endpoint
        try load(src, prefix: "tls/", count: 20)
        XCTAssertEqual(try etch(["--endpoints", src, "put", "tls/del", "x"]).status, 0)
        let mirror = try StreamingProcess(etchBinary, ["--endpoints", src, "make-mirror", "--prefix", "tls/",
                                                       "--dest-cacert", pki.path("ca.crt"), "--dest-cert", pki.path("client.crt"),
                                                       "--dest-key", pki.path("client.key"), destination.endpoint])
        XCTAssertEqual(try etch(["--endpoints", src, "del", "tls/del"]).status, 0)
        let want = try etch(["--endpoints", src, "get", "--prefix", "tls/"]).out
        XCTAssertFalse(want.isEmpty)
        var got = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            got = try etch(["--endpoints", destination.endpoint] + destination.tlsFlags + ["get", "--prefix", "tls/"]).out
            if got == want { break }
            usleep(100_000)
        }
        XCTAssertEqual(got, want, "the TLS destination holds the source's keys, the deleted one gone: \(mirror.errors)")
        XCTAssertEqual(mirror.stop(), SIGINT)

        let noClientCert = try etch(["--endpoints", src, "make-mirror", "--prefix", "tls/", "--dest-cacert", pki.path("ca.crt"),
                                     destination.endpoint], timeout: 20)
        XCTAssertEqual(noClientCert.status, 1, noClientCert.stderr)
        XCTAssertTrue(noClientCert.stderr.contains("client certificate") && noClientCert.stderr.contains("--dest-cert and --dest-key"),
                      noClientCert.stderr)
        let noCA = try etch(["--endpoints", src, "make-mirror", "--prefix", "tls/", destination.endpoint], timeout: 20)
        XCTAssertEqual(noCA.status, 1, noCA.stderr)
        XCTAssertTrue(noCA.stderr.contains("not signed by a CA") && noCA.stderr.contains("--dest-cacert"), noCA.stderr)
        let args = ["--endpoints", src, "make-mirror", "--dest-cacert", pki.path("ca.crt"), "--dest-cert", pki.path("client.crt"),
                    "--dest-key", dir + "/missing.key", destination.endpoint]
        let mine = try etch(args, timeout: 20)
        let theirs = try runProcess("/usr/bin/etcdctl", args, timeout: 20)
        XCTAssertEqual(mine.status, theirs.status)
        XCTAssertEqual(mine.stderr, theirs.stderr)
    }

    func testResumesFromTheCheckpointAfterAKill() throws {
        let source = try EtcdCluster()
        let destination = try EtcdCluster()
        defer { source.stop(); destination.stop() }
        let src = source.endpoint, dst = destination.endpoint
        try load(src, prefix: "r/", count: 500)
        let args = ["--endpoints", src, "make-mirror", "--prefix", "r/", "--dest-prefix", "s/", "--checkpoint-key", "mirror/r", dst]
        // The checkpoint cannot lie where mirrored keys go.
        let inside = try etch(["--endpoints", src, "make-mirror", "--prefix", "r/", "--checkpoint-key", "r/cp", dst])
        XCTAssertEqual(inside.status, 128, inside.stderr)
        let first = try StreamingProcess(etchBinary, args)
        XCTAssertTrue(try converge(source: src, from: "r/", destination: dst, to: "s/"))
        XCTAssertEqual(try etch(["--endpoints", src, "put", "r/00001", "one"]).status, 0)
        XCTAssertTrue(try converge(source: src, from: "r/", destination: dst, to: "s/"))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        // Changes while no mirror runs: 20 puts, a delete, a 2-key transaction: 22 source revisions.
        for i in 0..<20 {
            XCTAssertEqual(try etch(["--endpoints", src, "put", "r/0000\(i % 4)", "v\(i)"]).status, 0)
        }
        XCTAssertEqual(try etch(["--endpoints", src, "del", "r/00004"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", src, "txn"], stdin: Data("\nput r/00005 five\ndel r/00006\n\n\n".utf8)).status, 0)
        let before = try revision(dst)
        // The destination's replies are cut every few hundred bytes: transactions applied whose answer is lost.
        let proxy = CuttingProxy(upstreamPort: destination.members[0].clientPort, cutAfter: 600...2_000)
        defer { proxy.stop() }
        let resumedAt = Date()
        let second = try StreamingProcess(etchBinary, Array(args.dropLast()) + ["127.0.0.1:\(proxy.port)"])
        XCTAssertTrue(try converge(source: src, from: "r/", destination: dst, to: "s/"))
        // Resumed, not copied again: one destination transaction per source revision missed, none repeated
        // although answers were lost.
        XCTAssertEqual(try revision(dst) - before, 22, second.errors)
        XCTAssertGreaterThan(proxy.cuts, 2)
        print("make-mirror: resumed through \(proxy.cuts) cut destination connections in \(String(format: "%.1f", Date().timeIntervalSince(resumedAt))) s")
        XCTAssertTrue(second.errors.contains("resuming from the checkpoint"), second.errors)
        XCTAssertEqual(second.stop(), SIGINT)
        // --rev: from a given source revision, no copy.
        let rev = try revision(src)
        XCTAssertEqual(try etch(["--endpoints", src, "put", "r/00007", "seven"]).status, 0)
        let fromRev = try StreamingProcess(etchBinary, ["--endpoints", src, "make-mirror", "--prefix", "r/", "--dest-prefix", "t/",
                                                        "--rev", "\(rev + 1)", dst])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && count(dst, prefix: "t/") < 1 { usleep(50_000) }
        XCTAssertEqual(try contents(dst, prefix: "t/"), ["00007": "seven"])
        XCTAssertEqual(fromRev.stop(), SIGINT)
    }
}
