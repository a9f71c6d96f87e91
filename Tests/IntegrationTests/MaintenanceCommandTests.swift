import Foundation
import XCTest

/// endpoint health/status, alarm, defrag and move-leader side by side with etcdctl 3.4.23 against the same
/// real etcd members: stdout and exit codes must match byte for byte, with only what cannot match masked
/// (durations, and the order of health answers, which is the order they came in). The etcd binary and its
/// version come from the harness; where etcd 3.5 answers differently (alarm replies carry a header), the test
/// asks the server its version.
final class MaintenanceCommandTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"
    /// Short timeouts for both tools, so a dead member costs seconds.
    static let timeouts = ["--dial-timeout", "1s", "--command-timeout", "2s"]

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    func ctl(_ args: [String]) throws -> Outcome { try runProcess(Self.etcdctl, Self.timeouts + args) }
    func et(_ args: [String]) throws -> Outcome { try etch(Self.timeouts + args) }

    /// The server's version, from `GET /version` (`3.4.23`).
    func serverVersion(_ member: EtcdMember) -> String {
        guard let reply = httpGet(port: member.clientPort, path: "/version"),
              let r = reply.range(of: #""etcdserver":"([^"]*)""#, options: .regularExpression) else { return "" }
        return String(reply[r].dropFirst(#""etcdserver":""#.count).dropLast())
    }

    /// Runs both tools and requires the same exit code and the same stdout after `normalise`.
    @discardableResult
    func same(_ args: [String], normalise: (String) -> String = { $0 }, file: StaticString = #filePath, line: UInt = #line) throws -> (Outcome, Outcome) {
        let ref = try ctl(args), got = try et(args)
        XCTAssertEqual(got.status, ref.status, "exit code of \(args)\netcdctl: \(ref.stderr)\netch: \(got.stderr)", file: file, line: line)
        XCTAssertEqual(normalise(got.out), normalise(ref.out), "stdout of \(args)", file: file, line: line)
        if got.status != 0 && got.status != ref.status {
            XCTAssertTrue(got.stderr.contains("Error: "), "\(args): \(got.stderr)", file: file, line: line)
        }
        return (ref, got)
    }

    /// Go durations (`954.972µs`, `5.000579635s`) as `<T>`.
    static func maskDurations(_ s: String) -> String {
        s.replacingOccurrences(of: #"[0-9][0-9.]*(h[0-9.]*)?(m[0-9.]*)?(ns|µs|ms|s)\b"#, with: "<T>", options: .regularExpression)
    }

    /// Health output with durations masked and the answers in endpoint order, whatever order they came in. A
    /// table's column widths depend on the durations: runs of spaces and dashes are collapsed.
    static func normaliseHealth(_ s: String) -> String {
        var text = maskDurations(s)
        if text.hasPrefix("[") {
            let items = text.dropFirst().dropLast(2).components(separatedBy: "},{")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "{}")) }
            return items.sorted().joined(separator: "\n")
        }
        if text.hasPrefix("+") {
            text = text.replacingOccurrences(of: " +", with: " ", options: .regularExpression)
                .replacingOccurrences(of: "-+", with: "-", options: .regularExpression)
        }
        if text.contains("\n\n") {
            return text.components(separatedBy: "\n\n").sorted().joined(separator: "\n\n")
        }
        return text.split(separator: "\n").sorted().joined(separator: "\n")
    }

    /// The lines of etch's stderr that start with `Error: `.
    func errorLines(_ o: Outcome) -> [Substring] { o.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") } }

    // MARK: endpoint status and health

    func testEndpointStatusAndHealthInEveryFormat() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let all = ["--endpoints", cluster.endpoints]
        // The endpoint exactly as given is what both print, trailing slash and scheme included.
        let odd = ["--endpoints", "http://\(cluster.members[1].endpoint)/,\(cluster.members[2].endpoint)"]
        for format in ["simple", "json", "fields", "table", "protobuf"] {
            try same(all + ["endpoint", "status", "-w", format])
            try same(odd + ["endpoint", "status", "-w", format])
            try same(["--endpoints", cluster.endpoint, "endpoint", "status", "--cluster", "-w", format])
            try same(["--endpoints", cluster.endpoint, "endpoint", "--cluster", "status", "-w", format])
        }
        for format in ["json", "fields", "table"] {
            try same(all + ["endpoint", "health", "-w", format], normalise: Self.normaliseHealth)
            try same(odd + ["endpoint", "health", "-w", format], normalise: Self.normaliseHealth)
            try same(["--endpoints", cluster.endpoint, "endpoint", "health", "--cluster", "-w", format], normalise: Self.normaliseHealth)
        }
        // simple reports on stderr, stdout stays empty.
        let (ref, got) = try same(all + ["endpoint", "health"])
        XCTAssertEqual(got.out, "")
        let refLines = Self.normaliseHealth(ref.stderr.split(separator: "\n").filter { $0.contains(" is healthy") }.joined(separator: "\n"))
        XCTAssertEqual(Self.normaliseHealth(got.stderr), refLines)
        XCTAssertEqual(got.stderr.split(separator: "\n").count, 3, got.stderr)
        let protobuf = try same(all + ["endpoint", "health", "-w", "protobuf"])
        XCTAssertEqual(protobuf.1.status, 4)
        XCTAssertEqual(errorLines(protobuf.1), ["Error: protobuf not supported as output format"])

        // jsonl (etch only): one object per endpoint, IDs as strings.
        let lines = try et(all + ["endpoint", "status", "-w", "jsonl"]).out.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for (line, member) in zip(lines, cluster.members) {
            XCTAssertTrue(line.hasPrefix(#"{"endpoint":"\#(member.endpoint)","cluster_id":""#), String(line))
        }
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let leaders = objects.filter { ($0["member_id"] as? String) == ($0["leader"] as? String) }
        XCTAssertEqual(leaders.count, 1, "exactly one endpoint is the leader: \(lines)")
        let health = try et(all + ["endpoint", "health", "-w", "jsonl"])
        XCTAssertEqual(health.out.split(separator: "\n").filter { $0.contains(#""health":true"#) && $0.contains(#""error":"""#) }.count, 3, health.out)
    }

    /// One member killed: health names it and fails with etcdctl's exit code, status and defrag report it on
    /// stderr and print the others; all within --dial-timeout + --command-timeout. Then two members down: the
    /// last one has no leader and is unhealthy.
    func testDeadMembersAreNamedWithinTheTimeouts() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        // A follower, so the others keep their leader and stay healthy.
        let leaderIndex = try leader(cluster).index
        let followers = cluster.members.indices.filter { $0 != leaderIndex }
        let dead = cluster.members[followers[0]]
        let live = cluster.members.filter { $0 !== dead }
        dead.kill()
        let all = ["--endpoints", cluster.endpoints]
        for format in ["simple", "json", "fields", "table"] {
            // The error text is etch's own (it names the endpoint and the cause), so tables differ: compared
            // for the other formats with the error masked.
            let args = all + ["endpoint", "health", "-w", format]
            let (ref, got) = format == "table" ? (try ctl(args), try et(args)) : try same(args, normalise: { s in
                Self.normaliseHealth(s.replacingOccurrences(of: #""error":"[^"]*""#, with: #""error":"<E>""#, options: .regularExpression)
                    .replacingOccurrences(of: #""Error" : .+"#, with: #""Error" : <E>"#, options: .regularExpression))
            })
            XCTAssertEqual(got.status, 1)
            XCTAssertEqual(ref.status, 1)
            XCTAssertEqual(errorLines(got), ["Error: unhealthy cluster"])
            XCTAssertLessThan(got.seconds, 3.5, "within --dial-timeout + --command-timeout")
            XCTAssertLessThan(got.seconds, ref.seconds + 1)
            if format == "simple" {
                XCTAssertTrue(got.stderr.contains("\(dead.endpoint) is unhealthy: failed to commit proposal: "), got.stderr)
                XCTAssertTrue(got.stderr.contains("http://\(dead.endpoint)"), "the reason names the endpoint: \(got.stderr)")
                XCTAssertEqual(got.stderr.components(separatedBy: " is healthy: successfully committed proposal: took = ").count, 3, got.stderr)
            }
            if format == "table" {
                XCTAssertTrue(got.out.contains("| \(dead.endpoint) |  false |"), got.out)
            }
        }
        for format in ["simple", "json", "fields", "table"] {
            let (_, got) = try same(all + ["endpoint", "status", "-w", format])
            XCTAssertTrue(got.stderr.hasPrefix("Failed to get the status of endpoint \(dead.endpoint) ("), got.stderr)
            XCTAssertLessThan(got.seconds, 3.5)
            XCTAssertEqual(errorLines(got), ["Error: failed to get the status of 1 of 3 endpoints: \(dead.endpoint)"])
        }
        let (_, defrag) = try same(all + ["defrag"])
        XCTAssertEqual(defrag.status, 1)
        XCTAssertEqual(defrag.out, live.map { "Finished defragmenting etcd member[\($0.endpoint)]\n" }.joined())
        XCTAssertTrue(defrag.stderr.hasPrefix("Failed to defragment etcd member[\(dead.endpoint)] ("), defrag.stderr)
        XCTAssertEqual(errorLines(defrag), ["Error: failed to defragment 1 of 3 members: \(dead.endpoint)"])

        // --wait: every endpoint answered but one is not healthy (no leader left): 7; one never answered: 124.
        let other = cluster.members[followers[1]], last = cluster.members[leaderIndex]
        other.kill()
        let lonely = try et(["--endpoints", last.endpoint, "endpoint", "health", "--wait", "2s"])
        XCTAssertEqual(lonely.status, 7, lonely.stderr)
        XCTAssertEqual(errorLines(lonely), ["Error: unhealthy cluster after waiting 2s: \(last.endpoint) reachable but not healthy"])
        XCTAssertLessThan(lonely.seconds, 3)
        let silent = try et(all + ["endpoint", "health", "--wait", "1s", "-w", "json"])
        XCTAssertEqual(silent.status, 124, silent.stderr)
        let message = errorLines(silent).first ?? ""
        XCTAssertTrue(message.contains("no answer from ") && message.contains(dead.endpoint) && message.contains(other.endpoint)
                      && !message.contains(last.endpoint), silent.stderr)
        XCTAssertEqual(silent.out.components(separatedBy: #""health":false"#).count - 1, 3, "the last round is printed: \(silent.out)")
        XCTAssertLessThan(silent.seconds, 2.5)
    }

    /// `--wait` while the member starts late: it waits, then reports it healthy, exit 0.
    func testEndpointHealthWaitsForAMemberThatStartsLate() throws {
        let directory = NSTemporaryDirectory() + "etch-it-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let member = EtcdMember(name: "late", dataDir: directory + "/late", token: "etch-late")
        defer {
            member.kill()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let early = try et(["--endpoints", member.endpoint, "endpoint", "health", "--wait", "500ms"])
        XCTAssertEqual(early.status, 124)
        XCTAssertEqual(errorLines(early), ["Error: unhealthy cluster after waiting 500ms: no answer from \(member.endpoint)"])
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { try? member.start(wait: false) }
        let waited = try et(["--endpoints", member.endpoint, "endpoint", "health", "--wait", "30s", "-w", "fields"])
        XCTAssertEqual(waited.status, 0, waited.stderr)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 1.4)
        XCTAssertTrue(waited.out.hasPrefix("\"Endpoint\" : \"\(member.endpoint)\"\n\"Health\" : true\n"), waited.out)
        XCTAssertEqual(waited.stderr, "")
        let again = try same(["--endpoints", member.endpoint, "endpoint", "health", "-w", "json"], normalise: Self.normaliseHealth)
        XCTAssertEqual(again.1.status, 0)
        // --cluster before anything answers: the member list itself is waited for.
        member.kill()
        let noList = try et(["--endpoints", member.endpoint, "endpoint", "health", "--cluster", "--wait", "300ms"])
        XCTAssertEqual(noList.status, 124, noList.stderr)
        XCTAssertTrue(errorLines(noList).first?.contains("failed to fetch endpoints from etcd cluster member list") ?? false, noList.stderr)
    }

    // MARK: move-leader

    /// The leader's member ID (hex) and index, from etch's status.
    func leader(_ cluster: EtcdCluster) throws -> (id: String, index: Int) {
        let out = try et(["--endpoints", cluster.endpoints, "endpoint", "status"]).out
        let rows = out.split(separator: "\n").map { $0.components(separatedBy: ", ") }
        let i = try XCTUnwrap(rows.firstIndex { $0.count > 4 && $0[4] == "true" }, out)
        return (rows[i][1], i)
    }

    func memberIDs(_ cluster: EtcdCluster) throws -> [String] {
        let out = try et(["--endpoints", cluster.endpoints, "endpoint", "status"]).out
        return out.split(separator: "\n").map { $0.components(separatedBy: ", ")[1] }
    }

    func testMoveLeaderToEachMemberInTurn() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let ids = try memberIDs(cluster)
        let all = ["--endpoints", cluster.endpoints]
        // Each member in turn, alternating the tools; etch once by name.
        for step in 0..<4 {
            let from = try leader(cluster)
            let to = (from.index + 1) % 3
            let operand = step == 3 ? cluster.members[to].name : ids[to]
            let o = step % 2 == 0 ? try ctl(all + ["move-leader", ids[to]]) : try et(all + ["move-leader", operand])
            XCTAssertEqual(o.status, 0, "step \(step): \(o.stderr)")
            XCTAssertEqual(o.out, "Leadership transferred from \(from.id) to \(ids[to])\n", "step \(step)")
            XCTAssertEqual(try leader(cluster).index, to, "step \(step): the leadership moved")
        }
        // To the leader itself: nothing moves; the reply is the same from both (json {} on 3.4).
        let current = try leader(cluster)
        for format in ["json", "protobuf", "fields", "table"] {
            try same(all + ["move-leader", current.id, "-w", format])
        }
        // Refused input: etcdctl's exit code and message, and the leadership stays.
        let other = ids[(current.index + 1) % 3]
        let nonLeaders = cluster.members.enumerated().filter { $0.offset != current.index }.map(\.element.endpoint)
        for args in [["move-leader"], ["move-leader", other, "extra"], ["move-leader", "zz"], ["move-leader", "10000000000000000"],
                     ["move-leader", ""], ["move-leader", "nosuchname"], ["move-leader", "3039"]] {
            let (_, got) = try same(all + args)
            XCTAssertEqual(errorLines(got).count, 1, "\(args): \(got.stderr)")
            XCTAssertEqual(got.out, "")
        }
        let (_, noLeader) = try same(["--endpoints", nonLeaders.joined(separator: ","), "move-leader", other])
        XCTAssertEqual(noLeader.status, 128)
        XCTAssertEqual(errorLines(noLeader), ["Error: no leader endpoint given at [\(nonLeaders.joined(separator: " "))]"])
        XCTAssertEqual(try leader(cluster).index, current.index, "nothing was moved by refused input")
        let lines = try et(all + ["move-leader", current.id, "-w", "jsonl"]).out
        XCTAssertTrue(lines.hasPrefix(#"{"leaderID":""#) && lines.hasSuffix("}\n"), lines)
    }

    // MARK: alarm and defrag

    /// A NOSPACE alarm raised by a tiny quota, listed and shown in status in each format, then disarmed after
    /// compaction and defrag, by each tool in turn.
    func testNoSpaceAlarmListedThenDisarmedAfterCompactionAndDefrag() throws {
        let cluster = try EtcdCluster(extraArguments: ["--quota-backend-bytes", "16384"])
        defer { cluster.stop() }
        let member = cluster.members[0]
        let ep = ["--endpoints", cluster.endpoint]
        let version = serverVersion(member)
        /// A put: over the quota, it fails and raises the alarm (again).
        func raise() throws {
            let o = try ctl(ep + ["put", "k", "v"])
            XCTAssertEqual(o.status, 1)
            XCTAssertTrue(o.stderr.contains("database space exceeded"), o.stderr)
        }
        try raise()
        let (list, _) = try same(ep + ["alarm", "list"])
        XCTAssertTrue(list.out.hasPrefix("memberID:") && list.out.hasSuffix(" alarm:NOSPACE \n"), list.out)
        for format in ["json", "protobuf", "table"] { try same(ep + ["alarm", "list", "-w", format]) }
        let fields = try et(ep + ["alarm", "list", "-w", "fields"])
        if version.hasPrefix("3.4") {
            // etcd 3.4's alarm reply has no header: etcdctl panics (exit 2); etch says why.
            XCTAssertEqual(fields.status, 1)
            XCTAssertEqual(errorLines(fields).count, 1)
            XCTAssertTrue(fields.stderr.contains("has no header"), fields.stderr)
        } else {
            try same(ep + ["alarm", "list", "-w", "fields"])
        }
        let jsonl = try et(ep + ["alarm", "list", "-w", "jsonl"])
        XCTAssertTrue(jsonl.out.hasSuffix(#""alarm":"NOSPACE"}"# + "\n") && jsonl.out.contains(#""memberID":""#), jsonl.out)
        for format in ["simple", "json", "fields", "table"] {
            let (_, got) = try same(ep + ["endpoint", "status", "-w", format])
            XCTAssertTrue(got.out.contains("alarm:NOSPACE"), got.out)
        }

        // Free the space: compaction to the current revision, then defrag (same line in every format).
        let status = try et(ep + ["endpoint", "status", "-w", "jsonl"]).out
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any], status)
        let revision = try XCTUnwrap(object["revision"] as? Int, status)
        XCTAssertEqual(try et(ep + ["compaction", "\(revision)"]).status, 0)
        for format in ["simple", "json", "fields", "table", "protobuf"] {
            let (_, got) = try same(ep + ["defrag", "-w", format])
            XCTAssertEqual(got.out, "Finished defragmenting etcd member[\(cluster.endpoint)]\n")
        }
        try same(ep + ["defrag", "--cluster"])
        XCTAssertEqual(try et(ep + ["defrag", "-w", "jsonl"]).out, #"{"endpoint":"\#(cluster.endpoint)","defragmented":true}"# + "\n")

        // Disarm, each tool in turn, in each format: the same output; raise it again in between.
        for format in ["simple", "json", "protobuf"] {
            let ref = try ctl(ep + ["alarm", "disarm", "-w", format])
            XCTAssertEqual(try ctl(ep + ["alarm", "list"]).out, "", "etcdctl disarmed it")
            try raise()
            let got = try et(ep + ["alarm", "disarm", "-w", format])
            XCTAssertEqual(got.status, ref.status, got.stderr)
            XCTAssertEqual(got.out, ref.out, "disarm -w \(format)")
            XCTAssertEqual(try ctl(ep + ["alarm", "list"]).out, "", "etch disarmed it")
            try raise()
        }
        // fields: etcdctl disarms, then crashes on its header-less reply; etch refuses before disarming.
        let refused = try et(ep + ["alarm", "disarm", "-w", "fields"])
        XCTAssertEqual(refused.status, 4)
        XCTAssertEqual(errorLines(refused), ["Error: fields not supported as output format"])
        XCTAssertTrue(try ctl(ep + ["alarm", "list"]).out.contains("alarm:NOSPACE"), "nothing was disarmed")
        let table = try same(ep + ["alarm", "disarm", "-w", "table"])
        XCTAssertEqual(table.1.status, 4)
        try raise()
        let lines = try et(ep + ["alarm", "disarm", "-w", "jsonl"])
        XCTAssertTrue(lines.out.hasSuffix(#""alarm":"NOSPACE"}"# + "\n"), lines.out)
        try same(ep + ["alarm", "list"])
        XCTAssertEqual(try et(ep + ["alarm", "list"]).out, "", "disarmed")
        try same(ep + ["alarm", "disarm"])
        try same(ep + ["alarm", "disarm", "-w", "json"])
    }

    /// An endpoint that takes the connection and never answers: every command fails within --dial-timeout +
    /// --command-timeout and names it.
    func testNothingHangsOnASilentEndpoint() throws {
        let (fd, port) = bindLoopback()
        defer { close(fd) }
        XCTAssertEqual(listen(fd, 64), 0)
        let silent = "127.0.0.1:\(port)"
        let ep = ["--endpoints", silent]
        for args in [["endpoint", "health"], ["endpoint", "health", "-w", "json"], ["endpoint", "status"], ["endpoint", "status", "--cluster"],
                     ["defrag"], ["alarm", "list"], ["alarm", "disarm"], ["move-leader", "1"], ["move-leader", "m1"]] {
            let o = try et(ep + args)
            XCTAssertNotEqual(o.status, 0, "\(args)")
            XCTAssertLessThan(o.seconds, 3.5, "\(args) within --dial-timeout 1s + --command-timeout 2s")
            XCTAssertTrue((o.stderr + o.out).contains("http://\(silent)"), "\(args) names the endpoint: \(o.stderr)")
            XCTAssertEqual(errorLines(o).count, 1, "\(args): \(o.stderr)")
        }
        let waited = try et(ep + ["endpoint", "health", "--wait", "1s"])
        XCTAssertEqual(waited.status, 7, "it takes connections: reachable, not healthy: \(waited.stderr)")
        XCTAssertLessThan(waited.seconds, 2)
    }

    // MARK: bad input

    func testBadInputFailsAsInEtcdctlAndAppliesNothing() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = ["--endpoints", cluster.endpoint]
        for args in [["alarm", "list", "extra"], ["alarm", "disarm", "extra"], ["alarm", "list", "-w", "table"],
                     ["endpoint", "health", "--rev", "3"], ["endpoint", "status", "-w", "bogus"], ["endpoint", "health", "-w", "protobuf"],
                     ["endpoint", "status", "-w", "protobuf"], ["defrag", "-w", "bogus"], ["defrag", "--clusterr"],
                     ["move-leader", "1", "2"]] {
            let (ref, got) = try same(ep + args, normalise: { $0.hasPrefix("NAME:") ? "" : $0 })
            XCTAssertNotEqual(ref.status, 0, "\(args)")
            XCTAssertEqual(errorLines(got).count, 1, "\(args): \(got.stderr)")
            XCTAssertEqual(got.out, "", "\(args)")
        }
        let (_, unreachable) = try same(["--endpoints", "127.0.0.1:1", "endpoint", "status", "--cluster"])
        XCTAssertEqual(errorLines(unreachable).count, 1, unreachable.stderr)
        XCTAssertTrue(unreachable.stderr.hasPrefix("Error: failed to fetch endpoints from etcd cluster member list: "), unreachable.stderr)
        // Accepted as etcdctl accepts them: extra arguments where etcdctl ignores them, unique prefixes, a
        // parent without a (known) subcommand prints its help.
        for args in [["endpoint", "health", "extra"], ["endpoint", "st"], ["alarm", "l"], ["defrag", "extra"],
                     ["endpoint"], ["endpoint", "foo"], ["alarm"], ["alarm", "foo"]] {
            let (_, got) = try same(ep + args, normalise: { s in
                s.hasPrefix("NAME:") || s.contains("Usage:") ? "<help>" : Self.normaliseHealth(s)
            })
            XCTAssertEqual(got.status, 0, "\(args): \(got.stderr)")
        }
        // defrag --data-dir on a directory that is not there: etcdctl's message, exit 1 where etcdctl panics (2).
        let dataDir = try et(ep + ["defrag", "--data-dir", "/nonexistent"])
        XCTAssertEqual(dataDir.status, 1, dataDir.stderr)
        XCTAssertTrue(dataDir.stderr.hasPrefix("Failed to defragment etcd data[/nonexistent] (open /nonexistent/member/snap/db: no such file or directory)\n"), dataDir.stderr)
        XCTAssertEqual(errorLines(dataDir).count, 1, dataDir.stderr)
    }
}
