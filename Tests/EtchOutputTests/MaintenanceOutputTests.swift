import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// The maintenance family against what etcdctl 3.4.23 printed for the same replies (captured from a one-member
/// etcd 3.4.23 with a NOSPACE alarm raised by --quota-backend-bytes=16384).
final class MaintenanceOutputTests: XCTestCase {
    /// The gateway's reply to maintenance/status on that member.
    static let statusJSON = #"{"header":{"cluster_id":"5843898341172713593","member_id":"2178397728954835890","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"2178397728954835890","raftIndex":"90","raftTerm":"2","raftAppliedIndex":"90","errors":["memberID:2178397728954835890 alarm:NOSPACE "],"dbSizeInUse":"16384"}"#
    static let alarmJSON = #"{"alarms":[{"memberID":"2178397728954835890","alarm":"NOSPACE"}]}"#

    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try MessageDecoder.decode(type, from: JSONParser.parse(Array(json.utf8)))
    }

    func bytes<V>(_ value: V, _ output: Output<V>, _ format: OutputFormat) throws -> [UInt8] {
        let out = OutputBuffer()
        try output.write(value, as: format, to: out)
        return out.bytes
    }

    func render<V>(_ value: V, _ output: Output<V>, _ format: OutputFormat) throws -> String {
        String(decoding: try bytes(value, output, format), as: UTF8.self)
    }

    func status() throws -> [EndpointStatus] {
        [EndpointStatus(endpoint: "127.0.0.1:32390", status: try decode(StatusResponse.self, Self.statusJSON))]
    }

    func testEndpointStatusWithAnAlarmInEachFormat() throws {
        let list = try status()
        let o = MaintenanceOutput.status
        XCTAssertEqual(try render(list, o, .simple),
                       "127.0.0.1:32390, 1e3b39315ddee3b2, 3.4.23, 20 kB, true, false, 2, 90, 90, memberID:2178397728954835890 alarm:NOSPACE \n")
        XCTAssertEqual(try render(list, o, .json), #"[{"Endpoint":"127.0.0.1:32390","Status":{"header":{"cluster_id":5843898341172713593,"member_id":2178397728954835890,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":2178397728954835890,"raftIndex":90,"raftTerm":2,"raftAppliedIndex":90,"errors":["memberID:2178397728954835890 alarm:NOSPACE "],"dbSizeInUse":16384}}]"# + "\n")
        XCTAssertEqual(try render(list, o, .fields), """
        "ClusterID" : 5843898341172713593
        "MemberID" : 2178397728954835890
        "Revision" : 1
        "RaftTerm" : 2
        "Version" : "3.4.23"
        "DBSize" : 20480
        "Leader" : 2178397728954835890
        "IsLearner" : false
        "RaftIndex" : 90
        "RaftTerm" : 2
        "RaftAppliedIndex" : 90
        "Errors" : [memberID:2178397728954835890 alarm:NOSPACE ]
        "Endpoint" : "127.0.0.1:32390"


        """)
        // The errors cell wraps, and the column keeps the width it was wrapped at (30), as tablewriter's does.
        XCTAssertEqual(try render(list, o, .table), """
        +-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+
        |    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX |             ERRORS             |
        +-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+
        | 127.0.0.1:32390 | 1e3b39315ddee3b2 |  3.4.23 |   20 kB |      true |      false |         2 |         90 |                 90 |   memberID:2178397728954835890 |
        |                 |                  |         |         |           |            |           |            |                    |                 alarm:NOSPACE  |
        +-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+

        """)
        XCTAssertFalse(o.supports(.protobuf), "etcdctl has no protobuf for endpoint status")
        XCTAssertEqual(try render(list, o, .jsonl), #"{"endpoint":"127.0.0.1:32390","cluster_id":"5843898341172713593","member_id":"2178397728954835890","revision":1,"raft_term":2,"version":"3.4.23","dbSize":20480,"leader":"2178397728954835890","raftIndex":90,"raftTerm":2,"raftAppliedIndex":90,"errors":["memberID:2178397728954835890 alarm:NOSPACE "],"dbSizeInUse":16384,"isLearner":false}"# + "\n")
    }

    func testStatusWithoutErrorsAndNoEndpoints() throws {
        var list = try status()
        list[0].status.errors = []
        XCTAssertTrue(try render(list, MaintenanceOutput.status, .fields).contains("\"Errors\" : []\n"))
        XCTAssertTrue(try render(list, MaintenanceOutput.status, .simple).hasSuffix(", 90, \n"))
        XCTAssertTrue(try render(list, MaintenanceOutput.status, .jsonl).contains(#""errors":[],"#), "an empty list is [], not \"\"")
        XCTAssertEqual(try render([], MaintenanceOutput.status, .json), "[]\n", "every endpoint failed")
    }

    func testEndpointHealthInEachFormat() throws {
        let list = [EndpointHealth(endpoint: "127.0.0.1:32371", health: true, took: "954.972µs"),
                    EndpointHealth(endpoint: "127.0.0.1:1", health: false, took: "5.000579635s", error: "context deadline exceeded")]
        let o = MaintenanceOutput.health
        XCTAssertEqual(try render(list, o, .simple), """
        127.0.0.1:32371 is healthy: successfully committed proposal: took = 954.972µs
        127.0.0.1:1 is unhealthy: failed to commit proposal: context deadline exceeded

        """)
        XCTAssertEqual(try render(list, o, .json), #"[{"endpoint":"127.0.0.1:32371","health":true,"took":"954.972µs"},{"endpoint":"127.0.0.1:1","health":false,"took":"5.000579635s","error":"context deadline exceeded"}]"# + "\n")
        XCTAssertEqual(try render(list, o, .fields), """
        "Endpoint" : "127.0.0.1:32371"
        "Health" : true
        "Took" : 954.972µs
        "Error" : \("")

        "Endpoint" : "127.0.0.1:1"
        "Health" : false
        "Took" : 5.000579635s
        "Error" : context deadline exceeded


        """)
        XCTAssertEqual(try render([list[0]], o, .table), """
        +-----------------+--------+-----------+-------+
        |    ENDPOINT     | HEALTH |   TOOK    | ERROR |
        +-----------------+--------+-----------+-------+
        | 127.0.0.1:32371 |   true | 954.972µs |       |
        +-----------------+--------+-----------+-------+

        """)
        XCTAssertFalse(o.supports(.protobuf))
        XCTAssertEqual(try render(list, o, .jsonl), """
        {"endpoint":"127.0.0.1:32371","health":true,"took":"954.972µs","error":""}
        {"endpoint":"127.0.0.1:1","health":false,"took":"5.000579635s","error":"context deadline exceeded"}

        """)
        XCTAssertEqual(try render([], o, .json), "[]\n")
    }

    func testAlarmsAsGoPrintsThem() throws {
        let r = try decode(AlarmResponse.self, Self.alarmJSON)
        let o = MaintenanceOutput.alarmList
        XCTAssertEqual(try render(r, o, .simple), "memberID:2178397728954835890 alarm:NOSPACE \n", "gogo's compact text, trailing space")
        XCTAssertEqual(try render(r, o, .json), #"{"alarms":[{"memberID":2178397728954835890,"alarm":1}]}"# + "\n")
        XCTAssertEqual(try bytes(r, o, .protobuf), [0o22, 0o14, 0o10, 0o262, 0o307, 0o373, 0o356, 0o225, 0o246, 0o316, 0o235, 0o36, 0o20, 0o1],
                       "etcdctl's bytes")
        XCTAssertEqual(try render(r, o, .jsonl), #"{"memberID":"2178397728954835890","alarm":"NOSPACE"}"# + "\n")
        XCTAssertFalse(o.supports(.table))
        XCTAssertThrowsError(try render(r, o, .fields), "etcd 3.4 sends no header: etcdctl crashes, etch says why")
        var with = r
        with.header = ResponseHeader(clusterID: 5_843_898_341_172_713_593, memberID: 2_178_397_728_954_835_890, revision: 1, raftTerm: 2)
        XCTAssertEqual(try render(with, o, .fields), """
        "ClusterID" : 5843898341172713593
        "MemberID" : 2178397728954835890
        "Revision" : 1
        "RaftTerm" : 2
        "MemberID" : 2178397728954835890
        "AlarmType" : NOSPACE


        """)
        XCTAssertEqual(try render(AlarmResponse(), o, .simple), "")
        XCTAssertEqual(try render(AlarmResponse(), o, .json), "{}\n")
        XCTAssertEqual(try render(AlarmResponse(), o, .protobuf), "")
        XCTAssertEqual(MaintenanceOutput.compactText(AlarmMember(memberID: 0, alarm: AlarmType(rawValue: 2))), "alarm:CORRUPT ")
        XCTAssertFalse(MaintenanceOutput.alarmDisarm.supports(.fields), "refused before disarming: etcdctl's reply never has a header")
    }

    func testDefragPrintsTheSameLineInEveryFormat() throws {
        for format in OutputFormat.allCases where format != .jsonl {
            XCTAssertEqual(try render("127.0.0.1:2379", MaintenanceOutput.defrag, format), "Finished defragmenting etcd member[127.0.0.1:2379]\n")
        }
        XCTAssertEqual(try render("http://a:1", MaintenanceOutput.defrag, .jsonl), #"{"endpoint":"http://a:1","defragmented":true}"# + "\n")
    }

    func testMoveLeader() throws {
        let m = LeaderMove(leader: 0xf5ff_1ae9_f0b2_62fd, target: 0x04e6_2c1a_ea4b_f058, response: HeaderOnlyResponse())
        let o = MaintenanceOutput.moveLeader
        XCTAssertEqual(try render(m, o, .simple), "Leadership transferred from f5ff1ae9f0b262fd to 4e62c1aea4bf058\n", "types.ID: hex, unpadded")
        XCTAssertEqual(try render(m, o, .json), "{}\n", "etcd 3.4's reply has no header")
        XCTAssertEqual(try render(m, o, .protobuf), "")
        XCTAssertFalse(o.supports(.fields))
        XCTAssertFalse(o.supports(.table))
        XCTAssertEqual(try render(m, o, .jsonl), #"{"leaderID":"17725916250421486333","targetID":"353018114906779736"}"# + "\n")
    }
}
