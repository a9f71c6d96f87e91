@testable import EtchCLI
import EtchGateway
import EtchOutput
@testable import EtchTransport
import XCTest

/// How endpoint health judges an answer, and what a `--wait` that ran out says and exits with.
final class EndpointHealthTests: XCTestCase {
    func testVerdicts() {
        XCTAssertEqual(EndpointHealthCommand.verdict(.success(RangeResponse(header: ResponseHeader(clusterID: 1, memberID: 2, revision: 3, raftTerm: 4), kvs: [], count: 0))).0, .healthy)
        let denied = GatewayError.server(code: 7, message: "etcdserver: permission denied", httpStatus: 403)
        XCTAssertEqual(EndpointHealthCommand.verdict(.failure(denied)).0, .healthy, "denied, but the read went through consensus")
        let empty = GatewayError.server(code: 3, message: "etcdserver: user name is empty", httpStatus: 400)
        XCTAssertEqual(EndpointHealthCommand.verdict(.failure(empty)).0, .unhealthy)
        XCTAssertEqual(EndpointHealthCommand.verdict(.failure(empty)).1, "etcdserver: user name is empty")
        let refused = GatewayError.unreachable([TransportError(kind: .connect, url: "http://127.0.0.1:1/v3/kv/range", detail: "refused", curlCode: 7, mayHaveReachedServer: false)])
        XCTAssertEqual(EndpointHealthCommand.verdict(.failure(refused)).0, .unreachable)
        XCTAssertEqual(EndpointHealthCommand.verdict(.failure(.timedOut(endpoint: "http://a:1", limitMilliseconds: 5))).0, .unhealthy,
                       "it took the connection: reachable")
    }

    func testWaitFailureTellsUnreachableFromUnhealthy() {
        func h(_ ep: String) -> EndpointHealth { EndpointHealth(endpoint: ep, health: false, took: "1s", error: "x") }
        let mixed = EndpointHealthCommand.waitFailure([(h("a:1"), .unhealthy), (h("b:2"), .unreachable), (h("c:3"), .healthy)],
                                                      listFailure: nil, waited: "30s")
        XCTAssertEqual(mixed, CLIError(.timedOut, "unhealthy cluster after waiting 30s: no answer from b:2"))
        let sick = EndpointHealthCommand.waitFailure([(h("a:1"), .unhealthy), (h("c:3"), .healthy)], listFailure: nil, waited: "5s")
        XCTAssertEqual(sick, CLIError(.unhealthy, "unhealthy cluster after waiting 5s: a:1 reachable but not healthy"))
        let noList = EndpointHealthCommand.waitFailure([], listFailure: (.unreachable, "failed to fetch endpoints"), waited: "1s")
        XCTAssertEqual(noList.code, .timedOut)
        XCTAssertEqual(ExitCode.unhealthy.rawValue, 7)
    }
}
