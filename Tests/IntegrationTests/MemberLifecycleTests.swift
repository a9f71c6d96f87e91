import Foundation
import XCTest

/// Membership changes on a real three-member cluster, done with etch: add a member and start it with the
/// environment `member add` printed, add a learner and promote it once it has caught up, update peer URLs,
/// remove; a member named instead of its hex ID.
final class MemberLifecycleTests: XCTestCase {
    /// Parses `KEY="value"` lines.
    func environment(_ out: String) -> [String: String] {
        var env: [String: String] = [:]
        for line in out.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), line.hasPrefix("ETCD_") else { continue }
            var v = String(line[line.index(after: eq)...])
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            env[String(line[..<eq])] = v
        }
        return env
    }

    func members(_ cluster: EtcdCluster) throws -> [(id: String, name: String, peers: String, learner: Bool)] {
        let r = try etch(["--endpoints", cluster.endpoints, "member", "list"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.split(separator: "\n").map { line in
            let f = line.components(separatedBy: ", ")
            return (f[0], f[2], f[3], f[5] == "true")
        }
    }

    /// etcd refuses a voting member until every member has been connected for 5 s ("unhealthy cluster"):
    /// retries that refusal only.
    func addMember(_ args: [String]) throws -> Outcome {
        var r = try etch(args)
        for _ in 0..<60 where r.status != 0 && r.stderr.contains("unhealthy cluster") {
            usleep(250_000)
            r = try etch(args)
        }
        return r
    }

    func testAddStartPromoteUpdateRemove() throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        let eps = cluster.endpoints

        // A voting member, started with the environment member add printed.
        let peer = freePort(), client = freePort()
        let add = try addMember(["--endpoints", eps, "member", "add", "n4", "--peer-urls=http://127.0.0.1:\(peer)"])
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertTrue(add.out.hasPrefix("Member "), add.out)
        XCTAssertTrue(add.out.contains(" added to cluster "), add.out)
        let env = environment(add.out)
        XCTAssertEqual(env["ETCD_NAME"], "n4")
        XCTAssertEqual(env["ETCD_INITIAL_CLUSTER_STATE"], "existing")
        XCTAssertEqual(env["ETCD_INITIAL_ADVERTISE_PEER_URLS"], "http://127.0.0.1:\(peer)")
        XCTAssertEqual(env["ETCD_INITIAL_CLUSTER"]?.split(separator: ",").count, 4, env["ETCD_INITIAL_CLUSTER"] ?? "")
        XCTAssertTrue(env["ETCD_INITIAL_CLUSTER"]?.contains("n4=http://127.0.0.1:\(peer)") ?? false)
        let n4 = EtcdMember(name: "n4", clientPort: client, peerPort: peer, dataDir: cluster.directory + "/n4",
                            initialCluster: env["ETCD_INITIAL_CLUSTER"], token: cluster.members[0].token)
        n4.extraArguments = ["--initial-cluster-state", "existing"]
        try n4.start()
        defer { n4.kill() }
        XCTAssertEqual(try members(cluster).first { $0.name == "n4" }?.learner, false)

        // A learner, promoted once it has caught up (etcd refuses before: retry for a while).
        let learnerPeer = freePort(), learnerClient = freePort()
        let addL = try addMember(["--endpoints", eps, "member", "add", "l5", "--peer-urls=http://127.0.0.1:\(learnerPeer)", "--learner"])
        XCTAssertEqual(addL.status, 0, addL.stderr)
        let envL = environment(addL.out)
        let l5 = EtcdMember(name: "l5", clientPort: learnerClient, peerPort: learnerPeer, dataDir: cluster.directory + "/l5",
                            initialCluster: envL["ETCD_INITIAL_CLUSTER"], token: cluster.members[0].token)
        l5.extraArguments = ["--initial-cluster-state", "existing"]
        try l5.start(wait: false)
        defer { l5.kill() }
        XCTAssertEqual(try members(cluster).first { $0.name == "l5" || $0.peers.contains("\(learnerPeer)") }?.learner, true)
        var promoted: Outcome?
        for _ in 0..<100 {
            // By name: etch looks the member up when the operand is not hex.
            let r = try etch(["--endpoints", eps, "member", "promote", "l5"])
            if r.status == 0 { promoted = r; break }
            usleep(200_000)
        }
        XCTAssertNotNil(promoted, "the learner was promoted once it caught up")
        XCTAssertTrue(promoted?.out.contains(" promoted in cluster ") ?? false)
        XCTAssertEqual(try members(cluster).first { $0.name == "l5" }?.learner, false)

        // Update n4's peer URLs (same port, another spelling of the address), then remove it by ID.
        guard let n4ID = try members(cluster).first(where: { $0.name == "n4" })?.id else { return XCTFail("n4 is listed") }
        let upd = try etch(["--endpoints", eps, "member", "update", n4ID, "--peer-urls=http://localhost:\(peer)"])
        XCTAssertEqual(upd.status, 0, upd.stderr)
        // etcdctl prints both IDs as %16x: a cluster ID with a leading zero nibble (1 in 16) is padded too.
        let clusterID = String(upd.out.split(separator: " ").last!.dropLast())
        let padded = { (id: String) in String(repeating: " ", count: max(0, 16 - id.count)) + id }
        XCTAssertEqual(upd.out, "Member \(padded(n4ID)) updated in cluster \(padded(clusterID))\n")
        XCTAssertEqual(try members(cluster).first { $0.id == n4ID }?.peers, "http://localhost:\(peer)")
        let rm = try etch(["--endpoints", eps, "member", "remove", n4ID, "-w", "json"])
        XCTAssertEqual(rm.status, 0, rm.stderr)
        XCTAssertTrue(rm.out.hasPrefix("{\"header\":{\"cluster_id\":"), rm.out)
        XCTAssertFalse(try members(cluster).contains { $0.id == n4ID })

        // A name two members share is ambiguous; an unknown name is a bad ID, as etcdctl says it.
        let unknown = try etch(["--endpoints", eps, "member", "remove", "nosuch"])
        XCTAssertEqual(unknown.status, 128)
        XCTAssertEqual(unknown.stderr, "Error: bad member ID arg (strconv.ParseUint: parsing \"nosuch\": invalid syntax), expecting ID in Hex\n")
    }

    func testFormatsEtcdctlLacksAreRefusedBeforeAnythingIsApplied() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        for args in [["member", "add", "x", "--peer-urls=http://127.0.0.1:1", "--learner", "-w", "table"],
                     ["member", "add", "x", "--peer-urls=http://127.0.0.1:1", "--learner", "-w", "fields"],
                     ["member", "promote", "1", "-w", "json"], ["member", "promote", "1", "-w", "protobuf"]] {
            let r = try etch(["--endpoints", cluster.endpoint] + args)
            XCTAssertEqual(r.status, 4, "\(args)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: ") && r.stderr.hasSuffix(" not supported as output format\n"), r.stderr)
        }
        XCTAssertEqual(try etch(["--endpoints", cluster.endpoint, "member", "list"]).out.split(separator: "\n").count, 1,
                       "no member was added")
    }
}
