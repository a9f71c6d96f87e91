import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// The lease family against golden files captured from etcdctl 3.4.23 on a one-member etcd 3.4.23: the input is
/// the gateway's JSON for the same call (leases granted through the gateway with chosen IDs, so etcdctl could
/// be asked about the same ones; for grant, the gateway's reply with etcdctl's new ID), the expected output what
/// etcdctl printed. Fixtures/lease/<scenario>.gateway.json and .<format>.
final class LeaseOutputTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("lease")

    func fixture(_ name: String) throws -> Data { try Data(contentsOf: Self.fixtures.appendingPathComponent(name)) }

    func decode<T: Decodable>(_ type: T.Type, _ scenario: String) throws -> T {
        var json = try JSONParser.parse(fixture("\(scenario).gateway.json"))
        if let result = json["result"] { json = result }  // the keep-alive stream's wrapping
        return try MessageDecoder.decode(type, from: json)
    }

    func render<V>(_ value: V, _ output: Output<V>, _ format: OutputFormat) throws -> [UInt8] {
        let out = OutputBuffer()
        try output.write(value, as: format, to: out)
        return out.bytes
    }

    func text<V>(_ value: V, _ output: Output<V>, _ format: OutputFormat) throws -> String {
        String(decoding: try render(value, output, format), as: UTF8.self)
    }

    /// Every captured format of a scenario renders byte for byte; the formats etcdctl lacks are refused.
    func check<V>(_ scenario: String, _ value: V, _ output: Output<V>, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        var compared = 0
        for format in OutputFormat.allCases where format != .jsonl {
            guard let expected = try? fixture("\(scenario).\(format.rawValue)") else {
                XCTAssertFalse(output.supports(format), "\(scenario): etcdctl has no \(format.rawValue)", file: file, line: line)
                continue
            }
            XCTAssertTrue(output.supports(format), "\(scenario) \(format.rawValue)", file: file, line: line)
            let actual = try render(value, output, format)
            XCTAssertEqual(actual, Array(expected), """
                \(scenario).\(format.rawValue) differs
                expected: \(String(decoding: expected, as: UTF8.self).debugDescription)
                actual:   \(String(decoding: actual, as: UTF8.self).debugDescription)
                """, file: file, line: line)
            compared += 1
        }
        XCTAssertTrue(output.supports(.jsonl), scenario, file: file, line: line)
        return compared
    }

    func testEveryFormatAsEtcdctlPrintsIt() throws {
        var compared = 0
        compared += try check("grant", decode(LeaseGrantResponse.self, "grant"), LeaseOutput.grant)
        compared += try check("revoke", decode(HeaderOnlyResponse.self, "revoke"), LeaseOutput.revoke(0x1001))
        compared += try check("ttl", decode(LeaseTimeToLiveResponse.self, "ttl"), LeaseOutput.timeToLive(keys: false))
        compared += try check("ttl_keys", decode(LeaseTimeToLiveResponse.self, "ttl_keys"), LeaseOutput.timeToLive(keys: true))
        compared += try check("ttl_unknown", decode(LeaseTimeToLiveResponse.self, "ttl_unknown"), LeaseOutput.timeToLive(keys: true))
        compared += try check("list", decode(LeaseLeasesResponse.self, "list"), LeaseOutput.list)
        compared += try check("list_empty", decode(LeaseLeasesResponse.self, "list_empty"), LeaseOutput.list)
        compared += try check("keepalive", decode(LeaseKeepAliveResponse.self, "keepalive"), LeaseOutput.keepAlive)
        XCTAssertEqual(compared, 31)
    }

    func testLeaseIDsAreGoPercent016x() {
        XCTAssertEqual(LeaseOutput.hex(0x1234abcd), "000000001234abcd")
        XCTAssertEqual(LeaseOutput.hex(0x694d77aa9e38260f), "694d77aa9e38260f")
        XCTAssertEqual(LeaseOutput.hex(0), "0000000000000000")
        // etcdctl: `lease timetolive -- -1` prints `lease -000000000000001 already expired`.
        XCTAssertEqual(LeaseOutput.hex(-1), "-000000000000001")
        XCTAssertEqual(LeaseOutput.hex(Int64.min), "-8000000000000000")
    }

    func testTimeToLiveListsSeveralKeysAsGoPrintsAStringSlice() throws {
        let r = LeaseTimeToLiveResponse(ID: 0x10, TTL: 5, grantedTTL: 9, keys: [Array("a b".utf8), [0xFF, 0x41], []])
        XCTAssertEqual(try render(r, LeaseOutput.timeToLive(keys: true), .simple),
                       Array("lease 0000000000000010 granted with TTL(9s), remaining(5s), attached keys([a b ".utf8) + [0xFF, 0x41] + Array(" ])\n".utf8))
        XCTAssertEqual(try text(r, LeaseOutput.timeToLive(keys: false), .simple), "lease 0000000000000010 granted with TTL(9s), remaining(5s)\n")
        // The keys asked for but none attached: etcdctl prints an empty list.
        let none = LeaseTimeToLiveResponse(ID: 0x10, TTL: 5, grantedTTL: 9)
        XCTAssertEqual(try text(none, LeaseOutput.timeToLive(keys: true), .simple), "lease 0000000000000010 granted with TTL(9s), remaining(5s), attached keys([])\n")
    }

    /// jsonl: lease IDs as hex strings (as `put --lease` takes them, and as `get -w jsonl` prints a key's lease),
    /// the header's IDs as decimal strings, every field present.
    func testJSONLines() throws {
        XCTAssertEqual(try text(decode(LeaseGrantResponse.self, "grant"), LeaseOutput.grant, .jsonl),
                       #"{"id":"6b01a231ac341205","ttl":300,"revision":1,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
        XCTAssertEqual(try text(decode(HeaderOnlyResponse.self, "revoke"), LeaseOutput.revoke(0x1001), .jsonl),
                       #"{"id":"1001","revoked":true,"revision":1,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
        XCTAssertEqual(try text(decode(LeaseTimeToLiveResponse.self, "ttl_keys"), LeaseOutput.timeToLive(keys: true), .jsonl),
                       #"{"id":"1003","ttl":99999,"granted_ttl":100000,"keys":["q\"\tx é"],"revision":2,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
        XCTAssertEqual(try text(decode(LeaseTimeToLiveResponse.self, "ttl"), LeaseOutput.timeToLive(keys: false), .jsonl),
                       #"{"id":"1004","ttl":99999,"granted_ttl":100000,"revision":2,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
        XCTAssertEqual(try text(decode(LeaseTimeToLiveResponse.self, "ttl_unknown"), LeaseOutput.timeToLive(keys: false), .jsonl),
                       #"{"id":"1234abcd","ttl":-1,"granted_ttl":0,"revision":2,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
        let binary = LeaseTimeToLiveResponse(ID: 1, TTL: 1, grantedTTL: 2, keys: [Array("a".utf8), [0xFF]])
        XCTAssertEqual(try text(binary, LeaseOutput.timeToLive(keys: true), .jsonl), #"{"id":"1","ttl":1,"granted_ttl":2,"keys_base64":["YQ==","/w=="]}"# + "\n")
        let two = LeaseLeasesResponse(leases: [LeaseStatus(ID: 0x694d77aa9e38260f), LeaseStatus(ID: 0x10)])
        XCTAssertEqual(try text(two, LeaseOutput.list, .jsonl), #"{"id":"694d77aa9e38260f"}"# + "\n" + #"{"id":"10"}"# + "\n")
        XCTAssertEqual(try text(decode(LeaseLeasesResponse.self, "list_empty"), LeaseOutput.list, .jsonl), "")
        XCTAssertEqual(try text(decode(LeaseKeepAliveResponse.self, "keepalive"), LeaseOutput.keepAlive, .jsonl),
                       #"{"id":"1004","ttl":100000,"revision":3,"cluster_id":"15514407177735009183","member_id":"4319972579058543361","raft_term":2}"# + "\n")
    }

    /// A keep-alive reply for a lease that is gone has no TTL (the gateway leaves out the zero).
    func testKeepAliveReplyOfAGoneLease() throws {
        let json = try JSONParser.parse(Array(#"{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"4"},"ID":"999"}"#.utf8))
        let r = try MessageDecoder.decode(LeaseKeepAliveResponse.self, from: json)
        XCTAssertEqual(r.ID, 999)
        XCTAssertEqual(r.TTL, 0)
    }
}
