import EtchGateway
import EtchTransport
import Foundation
import Glibc
import XCTest

/// The lease commands and `put --lease` side by side with etcdctl 3.4.23, and what etch adds: keep-alive across
/// member restarts, a lost lease reported within its TTL, no hang on a dead endpoint, and `LeaseSession`.
///
/// Lease IDs come from the time and the member, so the byte-for-byte comparisons grant their leases through
/// the gateway with chosen IDs (0x1001, ...) on twin servers; only `lease grant` itself is compared with its
/// new ID masked. A lease's remaining TTL is whole seconds, rounded down: each query renews the lease just
/// before (a renewal changes no revision), so both tools see the full TTL less one second.
final class LeaseCommandTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"
    static let timeouts = ["--dial-timeout", "1s", "--command-timeout", "2s"]

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    /// A POST to the gateway with curl, for what neither tool can ask for (a lease with a chosen ID).
    @discardableResult
    func gateway(_ endpoint: String, _ path: String, _ body: String) throws -> String {
        try runProcess("/usr/bin/curl", ["-s", "-XPOST", "http://\(endpoint)/v3\(path)", "-d", body]).out
    }

    // MARK: side by side

    func testEveryCommandAndFormatSideBySideWithEtcdctl() throws {
        func grant(_ id: Int, ttl: Int = 100_000) -> String {
            "curl -s -XPOST $GW/lease/grant -d '{\"TTL\":\"\(ttl)\",\"ID\":\"\(id)\"}' >/dev/null"
        }
        let renew = "curl -s -XPOST $GW/lease/keepalive -d '{\"ID\":\"4097\"}' >/dev/null; "
        let seed = [
            grant(0x1001), "printf v | $CTL put \"$(printf 'q\"\\tx é')\" --lease 1001",
            grant(0x1002), grant(0x1003), grant(0x1004), grant(0x1005),
        ]
        var cases: [String] = []
        for w in ["simple", "json", "fields", "protobuf"] {
            cases += [renew + "$CTL lease timetolive 1001 -w \(w)", renew + "$CTL lease timetolive 1001 --keys -w \(w)",
                      "$CTL lease timetolive 1234abcd --keys -w \(w)", "$CTL lease keep-alive --once 1001 -w \(w)",
                      "timeout 2 $CTL lease keep-alive 1001 -w \(w)"]
        }
        cases += [
            "$CTL lease timetolive -- -1", "$CTL lease timetolive zz", "$CTL lease timetolive", "$CTL lease timetolive 1 2",
            "$CTL lease timetolive 0x10", "$CTL lease timetolive 10000000000000000",
            "$CTL lease keep-alive --once 1234abcd", "$CTL lease keep-alive 1234abcd", "$CTL lease keep-alive 1234abcd -w json",
            "$CTL lease keep-alive -- -1", "$CTL lease keep-alive", "$CTL lease keep-alive zz", "$CTL lease keep-alive 1 2",
            "$CTL lease revoke 1002", "$CTL lease revoke 1003 -w json", "$CTL lease revoke 1004 -w fields", "$CTL lease revoke 1002",
            "$CTL lease revoke zz", "$CTL lease revoke", "$CTL lease revoke 1 2", "$CTL lease revoke 0x10",
            "$CTL lease grant x", "$CTL lease grant", "$CTL lease grant 1 2", "$CTL lease grant 99999999999",
            "$CTL lease grant 99999999999999999999", "$CTL lease grant -- -x", "$CTL lease grant 1.5",
            // put --lease and --ignore-lease (TestCtlV3PutIgnoreLease), and what a key's lease looks like
            "$CTL put lk v --lease 1005 -w json", "$CTL get lk -w json", "$CTL get lk -w fields", "$CTL put lk v2 --ignore-lease -w json",
            "$CTL get lk -w json", "$CTL put lk v --lease 1234abcd", "$CTL put lk v --lease zz", "$CTL put lk v --lease 1005 --ignore-lease",
            "$CTL put nokey --ignore-lease", "$CTL put nokey x --ignore-lease", "$CTL lease revoke 1005", "$CTL get lk",
            // one lease left: list's order is the server's map order, random with more than one
            "$CTL lease list", "$CTL lease list -w json", "$CTL lease list -w fields", "$CTL lease list -w protobuf",
            "$CTL lease list extra", "$CTL lease li", "$CTL lease ke --once 1001", "$CTL lea tim 1234abcd",
            // etcdctl acts, then refuses the format; etch refuses first: last, since the histories part here
            "$CTL lease timetolive 1001 -w table", "$CTL lease list -w table", "$CTL lease keep-alive --once 1001 -w table",
            "$CTL lease keep-alive 1001 -w table", "$CTL lease grant 10 -w table", "$CTL lease revoke 1001 -w table",
        ]
        let runs = try TwinServers.compare(seed: seed, cases: cases)
        // The cases reached what they were meant to (a lease with its key, renewals, a key's lease).
        func out(_ c: String) -> String { String(decoding: runs[cases.firstIndex(of: c)!].out, as: UTF8.self) }
        XCTAssertEqual(out(renew + "$CTL lease timetolive 1001 --keys -w simple"),
                       "lease 0000000000001001 granted with TTL(100000s), remaining(99999s), attached keys([q\"\tx é])\n")
        XCTAssertEqual(out("timeout 2 $CTL lease keep-alive 1001 -w simple"), "lease 0000000000001001 keepalived with TTL(100000)\n")
        XCTAssertEqual(out("$CTL lease keep-alive 1234abcd"), "lease 000000001234abcd expired or revoked.\n")
        XCTAssertTrue(out("$CTL get lk -w json").contains(#""lease":4101"#))
        XCTAssertEqual(out("$CTL lease list"), "found 1 leases\n0000000000001001\n")
    }

    /// `lease grant` in every format etcdctl has, on one server, with the new lease's ID masked.
    func testGrantSideBySideWithEtcdctl() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = ["--endpoints", cluster.endpoint]
        func masked(_ s: String) -> String {
            s.replacingOccurrences(of: #"\b[0-9a-f]{16}\b"#, with: "<ID>", options: .regularExpression)
                .replacingOccurrences(of: #""ID" ?: ?[0-9]+"#, with: "\"ID\":<ID>", options: .regularExpression)
        }
        for args in [["100"], ["1"], ["--", "-5"], ["+7"], ["9000000000"]] {
            for w in ["simple", "json", "fields", "protobuf"] {
                let ref = try runProcess(Self.etcdctl, ep + ["lease", "grant", "-w", w] + args)
                let got = try etch(ep + ["lease", "grant", "-w", w] + args)
                XCTAssertEqual(got.status, ref.status, "\(args) \(w): \(ref.stderr) / \(got.stderr)")
                XCTAssertEqual(masked(got.out), masked(ref.out), "\(args) \(w)")
                if ref.status == 0 && w == "simple" {
                    // The lease exists, with the TTL the server granted.
                    let id = String(got.out.split(separator: " ")[1])
                    let ttl = try etch(ep + ["lease", "timetolive", id])
                    XCTAssertTrue(ttl.out.hasPrefix("lease \(id) granted with TTL("), ttl.out + ttl.stderr)
                }
            }
        }
    }

    /// `lease revoke -w protobuf`: etcdctl revokes, then exits 4 (it has no protobuf for the reply); etch
    /// refuses first, with the same code, and the lease lives on.
    func testFormatsEtcdctlLacksAreRefusedBeforeActing() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = ["--endpoints", cluster.endpoint]
        try gateway(cluster.endpoint, "/lease/grant", #"{"TTL":"100","ID":"4097"}"#)
        for args in [["revoke", "1001", "-w", "protobuf"], ["revoke", "1001", "-w", "table"], ["grant", "10", "-w", "table"],
                     ["keep-alive", "1001", "-w", "table"]] {
            let r = try etch(ep + ["lease"] + args)
            XCTAssertEqual(r.status, 4, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr, "Error: \(args[3]) not supported as output format\n")
        }
        XCTAssertEqual(try etch(ep + ["lease", "list"]).out, "found 1 leases\n0000000000001001\n")
    }

    // MARK: keep-alive

    /// A lease revoked while kept alive: both tools print their renewals, then `lease <ID> expired or revoked.`
    /// and exit 0 (etch also says so on stderr); in json nothing marks the end.
    func testKeepAliveEndsWhenTheLeaseIsRevoked() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        for format in ["simple", "json"] {
            try gateway(ep, "/lease/grant", #"{"TTL":"3","ID":"8193"}"#)
            try gateway(ep, "/lease/grant", #"{"TTL":"3","ID":"8194"}"#)
            let ref = try StreamingProcess(Self.etcdctl, ["--endpoints", ep, "lease", "keep-alive", "2001", "-w", format])
            let got = try StreamingProcess(etchBinary, ["--endpoints", ep, "lease", "keep-alive", "2002", "-w", format])
            XCTAssertEqual(ref.waitForLines(1).count, 1)
            XCTAssertEqual(got.waitForLines(1).count, 1)
            usleep(1_500_000)
            try gateway(ep, "/lease/revoke", #"{"ID":"8193"}"#)
            try gateway(ep, "/lease/revoke", #"{"ID":"8194"}"#)
            let revoked = Date()
            ref.process.waitUntilExit()
            got.process.waitUntilExit()
            XCTAssertLessThan(Date().timeIntervalSince(revoked), 2.5, "a third of the TTL, and a little")
            XCTAssertEqual(got.process.terminationStatus, 0, got.errors)
            XCTAssertEqual(ref.process.terminationStatus, 0, ref.errors)
            let refLines = ref.output.split(separator: "\n").map { $0.replacingOccurrences(of: "2001", with: "ID").replacingOccurrences(of: "8193", with: "ID") }
            let gotLines = got.output.split(separator: "\n").map { $0.replacingOccurrences(of: "2002", with: "ID").replacingOccurrences(of: "8194", with: "ID") }
            // The renewals may differ in number (etcdctl's client sends on a 500 ms tick); their shape may not.
            XCTAssertEqual(Set(gotLines), Set(refLines), "etcdctl:\n\(ref.output)\netch:\n\(got.output)")
            if format == "simple" { XCTAssertEqual(gotLines.last, "lease 000000000000ID expired or revoked.") }
            XCTAssertTrue(got.errors.contains("etch: lease 0000000000002002 expired or revoked (http://\(ep) answered"), got.errors)
        }
    }

    /// Three members, each restarted in turn (the keep-alive's own endpoint first, then the leader) while etch
    /// keeps a lease of 6 s alive: renewals move to the others, the lease and its key survive, and the
    /// lease still has TTL left afterwards. A `LeaseSession` on the same cluster keeps its lease too.
    func testKeepAliveSurvivesMemberRestarts() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let all = ["--endpoints", cluster.endpoints] + Self.timeouts
        let granted = try etch(all + ["lease", "grant", "6"])
        XCTAssertEqual(granted.status, 0, granted.stderr)
        let id = String(granted.out.split(separator: " ")[1])
        XCTAssertEqual(try etch(all + ["put", "alive", "yes", "--lease", id]).status, 0)
        let keeper = try StreamingProcess(etchBinary, all + ["lease", "keep-alive", id, "-w", "jsonl"])
        XCTAssertEqual(keeper.waitForLines(1).count, 1, keeper.errors)

        let client = GatewayClient(endpoints: cluster.members.map { Endpoint($0.endpoint, tlsByDefault: false)! },
                                   transport: HTTPTransport(options: TransportOptions()), commandTimeoutMilliseconds: 2000)
        let lost = LossRecorder()
        let session = try LeaseSession.grant(client, ttl: 6) { lost.record($0) }

        for victim in [cluster.members[0], try cluster.leader()] {
            victim.kill()
            usleep(8_000_000)  // longer than the TTL
            XCTAssertTrue(keeper.process.isRunning, "keep-alive ended while \(victim.name) was down: \(keeper.errors)")
            try victim.start()
            usleep(1_000_000)
        }
        XCTAssertTrue(keeper.process.isRunning, keeper.errors)
        let ttl = try etch(all + ["lease", "timetolive", id, "-w", "json"])
        let left = (try JSONSerialization.jsonObject(with: ttl.stdout) as? [String: Any])?["ttl"] as? Int ?? -1
        XCTAssertGreaterThan(left, 0, "the lease expired: \(ttl.out) \(ttl.stderr)\nkeep-alive said: \(keeper.errors)")
        XCTAssertEqual(try etch(all + ["get", "alive", "--print-value-only"]).out, "yes\n")
        let renewals = keeper.output.split(separator: "\n")
        XCTAssertGreaterThan(renewals.count, 6, "renewed every 2 s across 20 s")
        XCTAssertTrue(renewals.allSatisfy { $0.contains(#""ttl":6"#) }, keeper.output)
        XCTAssertEqual(keeper.stop(), 2, "ended by SIGINT")  // killed by the signal, as etcdctl is
        print("keep-alive across restarts: \(renewals.count) renewals; stderr:\n\(keeper.errors)")

        XCTAssertNil(lost.value, "the session lost its lease: \(String(describing: lost.value))")
        XCTAssertNil(session.loss)
        let sessionTTL = try etch(all + ["lease", "timetolive", String(session.id, radix: 16)])
        XCTAssertTrue(sessionTTL.out.contains("granted with TTL(6s)"), sessionTTL.out + sessionTTL.stderr)
        try session.close()
        let gone = try etch(all + ["lease", "timetolive", String(session.id, radix: 16)])
        XCTAssertTrue(gone.out.hasSuffix("already expired\n"), gone.out)
    }

    /// The only endpoint down for a few seconds, less than the TTL: renewals fail, are retried with backoff, and
    /// get through once the member is back; stderr says both, and the lease and its key live on.
    func testKeepAliveRidesOutARestartOfItsOnlyEndpoint() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let member = cluster.members[0]
        let ep = ["--endpoints", cluster.endpoint] + Self.timeouts
        let id = String(try etch(ep + ["lease", "grant", "10"]).out.split(separator: " ")[1])
        XCTAssertEqual(try etch(ep + ["put", "k", "v", "--lease", id]).status, 0)
        let keeper = try StreamingProcess(etchBinary, ep + ["lease", "keep-alive", id])
        XCTAssertEqual(keeper.waitForLines(1).count, 1, keeper.errors)
        member.kill()
        usleep(4_500_000)  // a renewal is due after 3.3 s
        XCTAssertTrue(keeper.process.isRunning, keeper.errors)
        try member.start()
        let lines = keeper.waitForLines(2, seconds: 8)
        XCTAssertEqual(lines.count, 2, "renewed once the member was back: \(keeper.errors)")
        XCTAssertTrue(keeper.process.isRunning, keeper.errors)
        XCTAssertTrue(keeper.errors.contains("etch: renewing lease \(id) failed (cannot connect to any endpoint (http://\(cluster.endpoint): "), keeper.errors)
        XCTAssertTrue(keeper.errors.contains("etch: lease \(id) renewed by http://\(cluster.endpoint) after "), keeper.errors)
        XCTAssertEqual(keeper.stop(), 2)
        XCTAssertTrue(try etch(ep + ["lease", "timetolive", id]).out.contains("granted with TTL(10s)"))
        XCTAssertEqual(try etch(ep + ["get", "k", "--print-value-only"]).out, "v\n")
    }

    /// When no renewal gets through (the only member frozen), etch says so within the TTL and exits 1, naming
    /// the endpoint; etcdctl prints `expired or revoked.` and exits 0 as if the server had said so.
    func testLeaseLostWhenNoRenewalGetsThrough() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let member = cluster.members[0]
        let ep = ["--endpoints", cluster.endpoint] + Self.timeouts
        let id = String(try etch(ep + ["lease", "grant", "3"]).out.split(separator: " ")[1])
        let keeper = try StreamingProcess(etchBinary, ep + ["lease", "keep-alive", id])
        XCTAssertEqual(keeper.waitForLines(1).count, 1, keeper.errors)
        let pid = try XCTUnwrap(member.process?.processIdentifier)
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let frozen = Date()
        keeper.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(frozen), 4.5, "within the TTL of 3 s, and a little")
        XCTAssertEqual(keeper.process.terminationStatus, 1)
        XCTAssertTrue(keeper.errors.contains("Error: lease \(id) was not renewed within its TTL of 3s, so it has most likely expired: "), keeper.errors)
        XCTAssertTrue(keeper.errors.contains("http://\(cluster.endpoint)"), keeper.errors)
        XCTAssertFalse(keeper.output.contains("expired or revoked"), "etch does not claim the server said so")
    }

    /// etcdctl waits forever for a dead endpoint in timetolive, list and keep-alive --once; etch fails within
    /// --dial-timeout + --command-timeout, naming the endpoint, with etcdctl's exit code for the command's errors.
    func testDeadEndpointsFailInTime() throws {
        // A port that is bound and listening but never accepts: connections hang (the backlog), replies never come.
        let (hole, holePort) = bindLoopback()
        listen(hole, 16)
        defer { close(hole) }
        let (closed, closedPort) = bindLoopback()
        defer { close(closed) }
        for port in [holePort, closedPort] {
            let ep = ["--endpoints", "127.0.0.1:\(port)", "--dial-timeout", "1s", "--command-timeout", "1s"]
            for (args, code) in [(["timetolive", "1001"], 2), (["list"], 2), (["keep-alive", "--once", "1001"], 2),
                                 (["keep-alive", "1001"], 1), (["grant", "10"], 1), (["revoke", "1001"], 1)] {
                let r = try etch(ep + ["lease"] + args, timeout: 15)
                XCTAssertEqual(r.status, Int32(code), "\(port) \(args): \(r.stderr)")
                XCTAssertLessThan(r.seconds, 3, "\(args)")
                XCTAssertTrue(r.stderr.contains("127.0.0.1:\(port)"), "\(args): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }.count, 1, r.stderr)
            }
        }
    }

    /// Keep-alive against a fake gateway: each bad reply is one clear error (--once: exit 2), a retryable one is
    /// retried until the first-reply limit, a permanent one ends it at once, and a reply without TTL is the
    /// lease gone (etcdctl's line, exit 0).
    func testKeepAliveAgainstBadReplies() throws {
        let h = fakeHeader()
        let replies: [(String, (FakeConnection) -> Void, once: (Int32, String), stream: (Int32, String, Double))] = [
            ("no result", { $0.respond(200, #"{"header":\#(h)}"#) },
             (2, "the reply has no result"), (1, "the reply has no result", 3)),
            ("not JSON", { $0.respond(200, body: Array("OK".utf8), contentType: "text/plain") },
             (2, "unexpected reply from the server: not JSON"), (1, "unexpected reply from the server: not JSON", 3)),
            ("in-band no leader", { $0.respond(200, #"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}"#) },
             (2, "Error: etcdserver: no leader\n"), (1, "etcdserver: no leader", 3)),
            ("in-band invalid argument", { $0.respond(200, #"{"error":{"grpc_code":3,"http_code":400,"message":"bad \u001b[31m","http_status":"Bad Request"}}"#) },
             (2, "Error: bad \\x1b[31m\n"), (1, "Error: renewing lease 0000000000001001: bad \\x1b[31m\n", 0.5)),
            ("closed without a reply", { $0.close() },
             (2, "closed the connection without a reply"), (1, "closed the connection without a reply", 3)),
        ]
        for (name, answer, once, stream) in replies {
            let fake = FakeGateway { _, c in answer(c) }
            defer { fake.stop() }
            let ep = ["--endpoints", fake.endpoint, "--dial-timeout", "1s", "--command-timeout", "1s"]
            let r1 = try etch(ep + ["lease", "keep-alive", "--once", "1001"], timeout: 20)
            XCTAssertEqual(r1.status, once.0, "\(name) --once: \(r1.stderr)")
            XCTAssertTrue(r1.stderr.contains(once.1) && r1.stderr.hasPrefix("Error: "), "\(name) --once: \(r1.stderr)")
            XCTAssertEqual(r1.out, "")
            let r2 = try etch(ep + ["lease", "keep-alive", "1001"], timeout: 20)
            XCTAssertEqual(r2.status, stream.0, "\(name): \(r2.stderr)")
            XCTAssertTrue(r2.stderr.contains(stream.1), "\(name): \(r2.stderr)")
            XCTAssertEqual(r2.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }.count, 1, "\(name): \(r2.stderr)")
            XCTAssertLessThan(r2.seconds, stream.2, "\(name): within --dial-timeout + --command-timeout")
            XCTAssertEqual(r2.out, "")
        }
        // A renewal answered without TTL: the lease is gone.
        let gone = FakeGateway { _, c in c.respond(200, #"{"result":{"header":\#(h),"ID":"4097"}}"#) }
        defer { gone.stop() }
        let r = try etch(["--endpoints", gone.endpoint, "lease", "keep-alive", "1001"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.out, "lease 0000000000001001 expired or revoked.\n")
        XCTAssertEqual(r.stderr, "etch: lease 0000000000001001 expired or revoked (http://\(gone.endpoint) answered its renewal with no TTL left)\n")
        XCTAssertEqual(gone.requests.first?.json?["ID"] as? String, "4097", "the ID in decimal, as the gateway reads int64s")
        let once = try etch(["--endpoints", gone.endpoint, "lease", "keep-alive", "--once", "1001"])
        XCTAssertEqual(once.status, 2)
        XCTAssertEqual(once.stderr, "Error: etcdserver: requested lease not found\n")
    }

    // MARK: jsonl and the session

    /// jsonl's lease IDs are what `put --lease` takes and what `get -w jsonl` prints for the key.
    func testJSONLinesLeaseIDsGoStraightIntoPut() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = ["--endpoints", cluster.endpoint]
        let grant = try etch(ep + ["lease", "grant", "100", "-w", "jsonl"])
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: grant.stdout) as? [String: Any])?["id"] as? String)
        XCTAssertEqual(try etch(ep + ["put", "k", "v", "--lease", id]).status, 0)
        let get = try etch(ep + ["get", "k", "-w", "jsonl"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: get.stdout) as? [String: Any])?["lease"] as? String, id)
        let list = try etch(ep + ["lease", "list", "-w", "jsonl"])
        XCTAssertEqual(list.out, "{\"id\":\"\(id)\"}\n")
        let ttl = try etch(ep + ["lease", "timetolive", id, "--keys", "-w", "jsonl"])
        let item = try XCTUnwrap(try JSONSerialization.jsonObject(with: ttl.stdout) as? [String: Any])
        XCTAssertEqual(item["keys"] as? [String], ["k"])
        XCTAssertEqual(item["granted_ttl"] as? Int, 100)
        let once = try etch(ep + ["lease", "keep-alive", "--once", id, "-w", "jsonl"])
        XCTAssertTrue(once.out.hasPrefix("{\"id\":\"\(id)\",\"ttl\":100,"), once.out)
        let revoke = try etch(ep + ["lease", "revoke", id, "-w", "jsonl"])
        XCTAssertTrue(revoke.out.hasPrefix("{\"id\":\"\(id)\",\"revoked\":true,"), revoke.out)
        XCTAssertEqual(try etch(ep + ["get", "k"]).out, "")
    }

    /// The session engine lock and elect build on: kept alive past its TTL, lost when revoked from outside
    /// (reported once, within a third of the TTL), revoked on close with its keys, and an existing lease adopted.
    func testLeaseSession() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = ["--endpoints", cluster.endpoint]
        func client() -> GatewayClient {
            GatewayClient(endpoints: [Endpoint(cluster.endpoint, tlsByDefault: false)!],
                          transport: HTTPTransport(options: TransportOptions()), commandTimeoutMilliseconds: 2000)
        }
        let lost = LossRecorder()
        let session = try LeaseSession.grant(client(), ttl: 2) { lost.record($0) }
        let hex = String(session.id, radix: 16)
        XCTAssertEqual(try etch(ep + ["put", "held", "x", "--lease", hex]).status, 0)
        usleep(5_000_000)
        XCTAssertNil(lost.value)
        XCTAssertEqual(try etch(ep + ["get", "held", "--print-value-only"]).out, "x\n", "kept alive past its TTL")
        try session.close()
        XCTAssertEqual(try etch(ep + ["get", "held"]).out, "", "revoked on close, with its keys")
        XCTAssertNil(lost.value, "closing is not a loss")

        let doomed = try LeaseSession.grant(client(), ttl: 3) { lost.record($0) }
        XCTAssertEqual(try etch(ep + ["lease", "revoke", String(doomed.id, radix: 16)]).status, 0)
        let revoked = Date()
        while lost.value == nil && Date().timeIntervalSince(revoked) < 5 { usleep(20_000) }
        XCTAssertLessThan(Date().timeIntervalSince(revoked), 1.5, "noticed at the next renewal")
        XCTAssertEqual(lost.value, .expired(endpoint: "http://\(cluster.endpoint)"))
        XCTAssertEqual(doomed.loss, .expired(endpoint: "http://\(cluster.endpoint)"))
        XCTAssertEqual(lost.count, 1)
        XCTAssertNoThrow(try doomed.close(), "a lease already gone is not an error on close")

        try gateway(cluster.endpoint, "/lease/grant", #"{"TTL":"2","ID":"12289"}"#)
        let adopted = try LeaseSession.adopt(client(), id: 0x3001)
        XCTAssertEqual(adopted.ttl, 2)
        usleep(4_000_000)
        XCTAssertTrue(try etch(ep + ["lease", "timetolive", "3001"]).out.contains("granted with TTL(2s)"))
        adopted.orphan()
        XCTAssertThrowsError(try LeaseSession.adopt(client(), id: 0x1234abcd)) { error in
            XCTAssertEqual((error as? GatewayError)?.message, "etcdserver: requested lease not found")
        }
    }
}

/// What a session's loss callback reported, from its thread.
final class LossRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var ends: [LeaseKeepAliveEnd] = []

    func record(_ end: LeaseKeepAliveEnd) {
        lock.lock()
        ends.append(end)
        lock.unlock()
    }

    var value: LeaseKeepAliveEnd? { lock.lock(); defer { lock.unlock() }; return ends.first }
    var count: Int { lock.lock(); defer { lock.unlock() }; return ends.count }
}
