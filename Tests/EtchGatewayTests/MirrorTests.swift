@testable import EtchGateway
import EtchTransport
import XCTest

/// make-mirror's engine without a network: key mapping, the checkpoint's value, and the transactions that
/// keep a retried write from applying twice.
final class MirrorTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testDestinationKeysAndRange() {
        let p = MirrorPlan(prefix: bytes("o_"), destinationPrefix: bytes("d_"))
        XCTAssertEqual(p.destinationKey(bytes("o_key1")), bytes("d_key1"))
        XCTAssertEqual(p.sourceRange.key, bytes("o_"))
        XCTAssertEqual(p.sourceRange.rangeEnd, bytes("o`"))
        // No prefix: every key from \0; a destination prefix is put in front (etcdctl's strings.Replace of "").
        let all = MirrorPlan(prefix: [], destinationPrefix: bytes("x/"))
        XCTAssertEqual(all.sourceRange.key, [0])
        XCTAssertEqual(all.sourceRange.rangeEnd, [0])
        XCTAssertEqual(all.destinationKey(bytes("k")), bytes("x/k"))
        var cp = MirrorPlan(prefix: bytes("a/"), destinationPrefix: bytes("a/"))
        cp.checkpointKey = bytes("a/cp")
        XCTAssertTrue(cp.checkpointInsideMirror)
        cp.checkpointKey = bytes("mirror/a")
        XCTAssertFalse(cp.checkpointInsideMirror)
    }

    func testCheckpointValueRoundTrips() {
        let v = Mirror.checkpointValue(revision: 1234, cluster: 0xcdf818194e3a8c32)
        XCTAssertEqual(String(decoding: v, as: UTF8.self), #"{"revision":1234,"cluster_id":"cdf818194e3a8c32"}"#)
        XCTAssertEqual(Mirror.parseCheckpoint(v)?.revision, 1234)
        XCTAssertEqual(Mirror.parseCheckpoint(v)?.cluster, 0xcdf818194e3a8c32)
        XCTAssertNil(Mirror.parseCheckpoint(bytes("17")))
        XCTAssertNil(Mirror.parseCheckpoint(bytes(#"{"revision":0,"cluster_id":"1"}"#)))
    }

    func mirror(_ plan: MirrorPlan) -> Mirror {
        let client = GatewayClient(endpoints: [Endpoint("127.0.0.1:1", tlsByDefault: false)!],
                                   transport: HTTPTransport(options: TransportOptions()), commandTimeoutMilliseconds: 1000)
        return Mirror(source: client, destination: client, plan: plan, timing: WatchTiming(createMilliseconds: 1000))
    }

    func testFirstAttemptAppliesARetryOnlyUnlessAlreadyApplied() {
        let m = mirror(MirrorPlan(prefix: bytes("a/"), destinationPrefix: bytes("b/")))
        let ops: [([UInt8], [UInt8]?)] = [(bytes("b/1"), bytes("v")), (bytes("b/2"), nil)]
        let first = m.transaction(ops, checkpoint: nil, retry: false)
        XCTAssertTrue(first.compare.isEmpty)
        XCTAssertEqual(first.success, [.put(PutRequest(key: bytes("b/1"), value: bytes("v"))), .deleteRange(DeleteRangeRequest(key: bytes("b/2")))])
        // The retry: when every key already has its final state (put value there, deleted key absent), nothing.
        let retry = m.transaction(ops, checkpoint: nil, retry: true)
        XCTAssertEqual(retry.compare, [Compare(key: bytes("b/1"), result: .equal, target: .value(bytes("v"))),
                                       Compare(key: bytes("b/2"), result: .equal, target: .version(0))])
        XCTAssertTrue(retry.success.isEmpty)
        XCTAssertEqual(retry.failure, first.success)
    }

    func testCheckpointGuardsEveryAttempt() {
        var plan = MirrorPlan(prefix: bytes("a/"), destinationPrefix: bytes("b/"))
        plan.checkpointKey = bytes("cp")
        let m = mirror(plan)
        let value = Mirror.checkpointValue(revision: 9, cluster: 1)
        let t = m.transaction([(bytes("b/1"), bytes("v"))], checkpoint: value, retry: false)
        // No checkpoint yet: it must not exist; the writes move it; otherwise it is read back.
        XCTAssertEqual(t.compare, [Compare(key: bytes("cp"), result: .equal, target: .version(0))])
        XCTAssertEqual(t.success.last, .put(PutRequest(key: bytes("cp"), value: value)))
        XCTAssertEqual(t.failure, [.range(RangeRequest(key: bytes("cp")))])
        XCTAssertEqual(m.transaction([(bytes("b/1"), bytes("v"))], checkpoint: value, retry: true), t)
    }
}
