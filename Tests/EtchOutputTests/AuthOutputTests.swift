import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// The auth family against golden files captured from etcdctl 3.4.23 (`auth status` from etcdctl 3.5.1 on
/// etcd 3.5.1): the input is the gateway's JSON for the same call on the same server, the expected output what
/// etcdctl printed. Fixtures/auth/<scenario>.gateway.json and .<format>.
final class AuthOutputTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("auth")

    func fixture(_ name: String) throws -> Data { try Data(contentsOf: Self.fixtures.appendingPathComponent(name)) }

    func decode<T: Decodable>(_ type: T.Type, _ scenario: String) throws -> T {
        try MessageDecoder.decode(type, from: JSONParser.parse(fixture("\(scenario).gateway.json")))
    }

    func render<V>(_ value: V, _ output: Output<V>, _ format: OutputFormat) throws -> [UInt8] {
        let out = OutputBuffer()
        try output.write(value, as: format, to: out)
        return out.bytes
    }

    /// Every captured format of a scenario renders byte for byte; the formats etcdctl refuses are refused.
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
        return compared
    }

    func testEveryFormatAsEtcdctlPrintsIt() throws {
        var compared = 0
        compared += try check("role_get_ranges", decode(AuthRoleGetResponse.self, "role_get_ranges"), AuthOutput.roleGet("r2"))
        compared += try check("role_get_empty", decode(AuthRoleGetResponse.self, "role_get_empty"), AuthOutput.roleGet("empty"))
        compared += try check("role_list", decode(AuthRoleListResponse.self, "role_list"), AuthOutput.roleList)
        compared += try check("user_get_u1", decode(AuthUserGetResponse.self, "user_get_u1"), AuthOutput.userGet("u1"))
        compared += try check("user_get_nobody", decode(AuthUserGetResponse.self, "user_get_nobody"), AuthOutput.userGet("nobody"))
        compared += try check("user_list", decode(AuthUserListResponse.self, "user_list"), AuthOutput.userList)
        compared += try check("auth_status", decode(AuthStatusResponse.self, "auth_status"), AuthOutput.authStatus)
        XCTAssertEqual(compared, 24)
    }

    func testPermissionsDecodeWithTheirZeroTypeLeftOut() throws {
        let r = try decode(AuthRoleGetResponse.self, "role_get_ranges")
        XCTAssertEqual(r.perm.map(\.permType.name),
                       ["READWRITE", "WRITE", "READ", "WRITE", "READ", "READWRITE", "READ", "WRITE", "READ"])
        XCTAssertEqual(r.perm[0].key, [0])
        XCTAssertEqual(r.perm[8].range_end, [0])
    }

    func testChangesPrintTheirLineOrTheHeader() throws {
        let header = ResponseHeader(clusterID: 324952591200643719, memberID: 3319814642761637952, revision: 1, raftTerm: 2)
        let reply = HeaderOnlyResponse(header: header)
        let added = AuthOutput.change(Array("User u1 created\n".utf8), subject: [("user", .string("u1"))])
        XCTAssertEqual(try render(reply, added, .simple), Array("User u1 created\n".utf8))
        XCTAssertEqual(String(decoding: try render(reply, added, .json), as: UTF8.self),
                       #"{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":1,"raft_term":2}}"# + "\n")
        XCTAssertEqual(String(decoding: try render(reply, added, .fields), as: UTF8.self),
                       "\"ClusterID\" : 324952591200643719\n\"MemberID\" : 3319814642761637952\n\"Revision\" : 1\n\"RaftTerm\" : 2\n")
        XCTAssertEqual(try render(reply, added, .protobuf),
                       [0x0a, 0x18, 0x08, 0x87, 0xd5, 0xed, 0xba, 0x8f, 0xd5, 0x9d, 0xc1, 0x04, 0x10, 0xc0, 0xc0, 0xca,
                        0xaf, 0xc1, 0xba, 0x96, 0x89, 0x2e, 0x18, 0x01, 0x20, 0x02], "as etcdctl's user get -w protobuf header")
        XCTAssertFalse(added.supports(.table))
        XCTAssertEqual(String(decoding: try render(reply, added, .jsonl), as: UTF8.self),
                       #"{"user":"u1","revision":1,"cluster_id":"324952591200643719","member_id":"3319814642761637952","raft_term":2}"# + "\n")
        // auth enable and disable print their line in every format etcdctl has, table included.
        let enabled = AuthOutput.authSwitched(enabled: true)
        for format in [OutputFormat.simple, .json, .fields, .table, .protobuf] {
            XCTAssertEqual(try render(reply, enabled, format), Array("Authentication Enabled\n".utf8), format.rawValue)
        }
        XCTAssertEqual(String(decoding: try render(reply, AuthOutput.authSwitched(enabled: false), .jsonl), as: UTF8.self),
                       #"{"enabled":false,"revision":1,"cluster_id":"324952591200643719","member_id":"3319814642761637952","raft_term":2}"# + "\n")
    }

    func testJSONLinesOnePerUserRoleAndPermission() throws {
        let perms = try decode(AuthRoleGetResponse.self, "role_get_ranges")
        let lines = String(decoding: try render(perms, AuthOutput.roleGet("r2"), .jsonl), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 9)
        XCTAssertEqual(lines[0], #"{"role":"r2","permType":"READWRITE","key":"\u0000","range_end":"\u0000"}"#)
        XCTAssertEqual(lines[2], #"{"role":"r2","permType":"READ","key":"/a","range_end":""}"#)
        XCTAssertEqual(lines[7], #"{"role":"r2","permType":"WRITE","key_base64":"L3j/","range_end":"/y"}"#, "bytes that are not text")
        let users = try decode(AuthUserListResponse.self, "user_list")
        XCTAssertEqual(String(decoding: try render(users, AuthOutput.userList, .jsonl), as: UTF8.self),
                       users.users.map { #"{"user":"\#($0)"}"# + "\n" }.joined())
        let roles = try decode(AuthRoleListResponse.self, "role_list")
        XCTAssertEqual(String(decoding: try render(roles, AuthOutput.roleList, .jsonl), as: UTF8.self),
                       #"{"role":"empty"}"# + "\n" + #"{"role":"r1"}"# + "\n" + #"{"role":"r2"}"# + "\n" + #"{"role":"root"}"# + "\n")
        let user = try decode(AuthUserGetResponse.self, "user_get_u1")
        XCTAssertEqual(String(decoding: try render(user, AuthOutput.userGet("u1"), .jsonl), as: UTF8.self),
                       #"{"user":"u1","roles":["empty","r1","r2"]}"# + "\n")
        let empty = try decode(AuthRoleGetResponse.self, "role_get_empty")
        XCTAssertEqual(String(decoding: try render(empty, AuthOutput.userDetail(user: "u1", role: "empty"), .jsonl), as: UTF8.self),
                       #"{"user":"u1","role":"empty","perm":[]}"# + "\n", "a role without permissions still shows")
        let status = try decode(AuthStatusResponse.self, "auth_status")
        XCTAssertEqual(String(decoding: try render(status, AuthOutput.authStatus, .jsonl), as: UTF8.self),
                       #"{"enabled":true,"authRevision":17,"revision":1,"cluster_id":"17275085818596437638","member_id":"12692202640747750824","raft_term":2}"# + "\n")
    }
}
