import Foundation
import XCTest

/// Which etcd the integration tests run against ($ETCH_TEST_ETCD), checked on a real server: `make test` names
/// the version it expects in $ETCH_TEST_ETCD_VERSION, so a run meant for 3.5.1 cannot pass on another server.
final class ServerVersionTests: XCTestCase {
    func testServerUnderTestIsTheOneAskedFor() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let reply = try XCTUnwrap(httpGet(port: cluster.members[0].clientPort, path: "/version"), "no reply to GET /version")
        let body = try XCTUnwrap(reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String], body)
        let server = try XCTUnwrap(json["etcdserver"], body)
        print("integration tests: server \(etcdBinary), etcd \(server)")
        XCTAssertEqual("\(etcdVersion.major).\(etcdVersion.minor)", server.split(separator: ".").prefix(2).joined(separator: "."))
        if let expected = ProcessInfo.processInfo.environment["ETCH_TEST_ETCD_VERSION"], !expected.isEmpty {
            XCTAssertEqual(server, expected, "ETCH_TEST_ETCD=\(etcdBinary) is not etcd \(expected)")
        }
    }
}
