@testable import EtchGateway
import XCTest

/// One message declaration, every wire form: the gateway's JSON in, etcdctl's JSON and protobuf out, compared
/// with what etch's decoder read from a real etcd 3.4.23 and what etcdctl 3.4.23 printed for the same reply.
final class MessageCodingTests: XCTestCase {
    let memberListReply = #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","raft_term":"2"},"members":[{"ID":"13668033151171901709","name":"s1","peerURLs":["http://127.0.0.1:23801"],"clientURLs":["http://127.0.0.1:23791"]}]}"#

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try MessageDecoder.decode(type, from: JSONParser.parse(Array(text.utf8)))
    }

    func testMemberListDecodesWithGatewayRulesAndReencodesAsEtcdctl() throws {
        let r = try decode(MemberListResponse.self, memberListReply)
        XCTAssertEqual(r.header?.clusterID, 15_118_495_548_433_857_066, "uint64 from a string, exactly")
        XCTAssertEqual(r.header?.revision, 0, "a missing field is zero")
        XCTAssertEqual(r.members.first?.isLearner, false)
        // etcdctl 3.4.23 `member list -w json` on the same server:
        XCTAssertEqual(String(decoding: EncodedValue.of(r).goJSON(), as: UTF8.self),
                       #"{"header":{"cluster_id":15118495548433857066,"member_id":13668033151171901709,"raft_term":2},"members":[{"ID":13668033151171901709,"name":"s1","peerURLs":["http://127.0.0.1:23801"],"clientURLs":["http://127.0.0.1:23791"]}]}"#)
        // etcdctl 3.4.23 `member list -w protobuf`, as hex:
        XCTAssertEqual(EncodedValue.of(r).protobuf().map { String(format2($0)) }.joined(),
                       "0a1808aaf4e5f599f3ebe7d101108df2f48ec1f7a6d7bd012002123f088df2f48ec1f7a6d7bd01120273311a16687474703a2f2f3132372e302e302e313a32333830312216687474703a2f2f3132372e302e302e313a3233373931")
    }

    func testRequestsAreGatewayJSONWithStringIntegersAndEnumNames() {
        XCTAssertEqual(String(decoding: EncodedValue.of(AlarmRequest(action: .deactivate, memberID: 1 << 63, alarm: AlarmType(rawValue: 1))).gatewayJSON(), as: UTF8.self),
                       #"{"action":"DEACTIVATE","memberID":"9223372036854775808","alarm":"NOSPACE"}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(AlarmRequest(action: .get)).gatewayJSON(), as: UTF8.self), "{}", "zero fields are left out")
        let grant = AuthRoleGrantPermissionRequest(name: "r", perm: Permission(permType: .readwrite, key: [0x61], rangeEnd: [0x62]))
        XCTAssertEqual(String(decoding: EncodedValue.of(grant).gatewayJSON(), as: UTF8.self),
                       #"{"name":"r","perm":{"permType":"READWRITE","key":"YQ==","range_end":"Yg=="}}"#)
    }

    func testEnumsDecodeByNameOrNumberAndUnknownNumbersSurvive() throws {
        let r = try decode(AlarmResponse.self, #"{"alarms":[{"memberID":"5","alarm":"NOSPACE"},{"memberID":"6","alarm":7},{"memberID":"7"}]}"#)
        XCTAssertEqual(r.alarms.map(\.alarm.rawValue), [1, 7, 0])
        XCTAssertNil(r.header, "a missing message is nil, not an empty one")
        XCTAssertEqual(String(decoding: EncodedValue.of(r).goJSON(), as: UTF8.self),
                       #"{"alarms":[{"memberID":5,"alarm":1},{"memberID":6,"alarm":7},{"memberID":7}]}"#)
    }

    func testMalformedRepliesAreErrorsNamingTheField() {
        XCTAssertThrowsError(try decode(MemberListResponse.self, #"{"members":[{"ID":"-1"}]}"#)) { e in
            guard case let GatewayError.malformedReply(m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("members") && m.contains("ID"), m)
        }
        XCTAssertThrowsError(try decode(MemberListResponse.self, #"{"members":{"ID":"1"}}"#))
        XCTAssertThrowsError(try decode(AuthRoleGetResponse.self, #"{"perm":[{"key":"not base64!"}]}"#))
        XCTAssertThrowsError(try decode(StatusResponse.self, #"{"dbSize":"12x"}"#))
    }

    func testProtobufPresentEmptyMessagesAndPackedRepeatedNumbers() {
        // A present header with every field zero is written as an empty message (tag, length 0), as gogo does.
        XCTAssertEqual(EncodedValue.of(HeaderOnlyResponse(header: ResponseHeader())).protobuf(), [0x0A, 0x00])
        XCTAssertEqual(EncodedValue.of(HeaderOnlyResponse()).protobuf(), [])
        // Negative int64 as ten bytes of two's complement.
        let neg = EncodedValue.message([EncodedField(name: "n", number: 1, value: .int(-1))], keepZero: [])
        XCTAssertEqual(neg.protobuf(), [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        let packed = EncodedValue.message([EncodedField(name: "p", number: 2, value: .list([.int(1), .int(300)]))], keepZero: [])
        XCTAssertEqual(packed.protobuf(), [0x12, 0x03, 0x01, 0xAC, 0x02])
    }

    func testGoJSONEscapesStringsAsGoDoes() {
        var out: [UInt8] = []
        GoJSON.appendString(Array("a<b>&\"\\\n\t\u{1}\u{2028}é".utf8) + [0xFF], to: &out, escapeHTML: true)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #""a\u003cb\u003e\u0026\"\\\n\t\u0001\u2028é\ufffd""#)
    }

    func testJSONLinesWriteEveryFieldIDsAsStringsAndBytesAsText() {
        var m = Member()
        m.ID = 1 << 63
        m.name = "n"
        let line = String(decoding: EncodedValue.of(m).jsonLine(), as: UTF8.self)
        XCTAssertEqual(line, #"{"ID":"9223372036854775808","name":"n","peerURLs":[],"clientURLs":[],"isLearner":false}"#)
        let p = Permission(permType: .write, key: Array("/a".utf8), rangeEnd: [0xFF])
        XCTAssertEqual(String(decoding: EncodedValue.of(p).jsonLine(), as: UTF8.self),
                       #"{"permType":"WRITE","key":"/a","range_end_base64":"/w=="}"#)
    }
}

private func format2(_ b: UInt8) -> String {
    let h = String(b, radix: 16)
    return h.count == 1 ? "0" + h : h
}
