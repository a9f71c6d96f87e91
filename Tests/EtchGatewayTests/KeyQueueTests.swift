@testable import EtchGateway
import EtchTransport
import XCTest

/// `KeyQueue`'s requests and decisions that need no server: etcdctl's key layout, the holder and predecessor
/// ranges, the enqueue txn, what its reply means, and what a waiter makes of a watch response.
final class KeyQueueTests: XCTestCase {
    func queue(_ name: String, lease: Int64) -> KeyQueue {
        let client = GatewayClient(endpoints: [Endpoint("127.0.0.1:1", tlsByDefault: false)!],
                                   transport: HTTPTransport(options: TransportOptions()), commandTimeoutMilliseconds: 1000)
        return KeyQueue(client: client, name: Array(name.utf8), lease: lease)
    }

    func json(_ request: RangeRequest) -> String { String(decoding: request.body(), as: UTF8.self) }
    func json(_ request: TxnRequest) -> String { String(decoding: request.body(), as: UTF8.self) }

    func b64(_ s: String) -> String { Base64.encode(Array(s.utf8)) }

    /// `<name>/<lease in Go's %x>`: lowercase, no padding, as etcdctl's Mutex and Election name their keys.
    func testKeyIsTheNameAndTheLeaseInHex() {
        XCTAssertEqual(String(decoding: queue("locks/a", lease: 0x2df6a2321d138d35).key, as: UTF8.self), "locks/a/2df6a2321d138d35")
        XCTAssertEqual(String(decoding: queue("x", lease: 0x1f).key, as: UTF8.self), "x/1f")
        XCTAssertEqual(String(decoding: queue("x", lease: 0x1f).prefix, as: UTF8.self), "x/")
    }

    /// The holder: the first-created key under the prefix; the predecessor: the last created before ours.
    func testOwnerAndPredecessorRanges() {
        let q = queue("el", lease: 1)
        let end = b64("el0")  // "el/" + 1
        XCTAssertEqual(json(q.ownerRequest()),
                       #"{"key":"\#(b64("el/"))","range_end":"\#(end)","limit":"1","sort_order":"ASCEND","sort_target":"CREATE"}"#)
        XCTAssertEqual(json(q.ownerRequest(lastBefore: 41)),
                       #"{"key":"\#(b64("el/"))","range_end":"\#(end)","limit":"1","sort_order":"DESCEND","sort_target":"CREATE","max_create_revision":"41"}"#)
    }

    /// One txn: put our key with our lease unless it exists (else read it), and read the holder either way.
    func testEnqueueTxn() {
        let q = queue("el", lease: 0x10)
        let owner = json(q.ownerRequest())
        XCTAssertEqual(json(q.enqueueRequest(value: Array("p".utf8))),
                       #"{"compare":[{"result":"EQUAL","target":"CREATE","key":"\#(b64("el/10"))","create_revision":"0"}],"success":[{"request_put":{"key":"\#(b64("el/10"))","value":"\#(b64("p"))","lease":"16"}},{"request_range":\#(owner)}],"failure":[{"request_range":{"key":"\#(b64("el/10"))"}},{"request_range":\#(owner)}]}"#)
    }

    func header(_ revision: Int64) -> ResponseHeader {
        var h = ResponseHeader()
        h.revision = revision
        return h
    }

    func owner(_ createRevision: Int64?) -> ResponseOp {
        .range(RangeResponse(kvs: createRevision.map { [KeyValue(key: Array("el/1".utf8), createRevision: $0)] } ?? []))
    }

    /// Put by the txn: our create revision is the txn's; we hold it when the first-created key is ours.
    /// Found (a resumed session): our create revision is the key's own, and its old value is returned.
    func testWhatTheEnqueueReplySays() throws {
        let put = ResponseOp.put(PutResponse())
        var q = try KeyQueue.queued(by: TxnResponse(header: header(7), succeeded: true, responses: [put, owner(7)]))
        XCTAssertTrue(q.holds)
        XCTAssertEqual(q.createRevision, 7)
        XCTAssertNil(q.existing)
        q = try KeyQueue.queued(by: TxnResponse(header: header(7), succeeded: true, responses: [put, owner(5)]))
        XCTAssertFalse(q.holds, "an earlier key holds it")
        XCTAssertEqual(q.createRevision, 7)

        let mine = KeyValue(key: Array("el/10".utf8), createRevision: 4, value: Array("old".utf8))
        q = try KeyQueue.queued(by: TxnResponse(header: header(9), succeeded: false, responses: [.range(RangeResponse(kvs: [mine])), owner(4)]))
        XCTAssertTrue(q.holds)
        XCTAssertEqual(q.createRevision, 4)
        XCTAssertEqual(q.existing, mine)
        q = try KeyQueue.queued(by: TxnResponse(header: header(9), succeeded: false, responses: [.range(RangeResponse(kvs: [mine])), owner(2)]))
        XCTAssertFalse(q.holds)
        XCTAssertEqual(q.createRevision, 4)

        XCTAssertThrowsError(try KeyQueue.queued(by: TxnResponse(header: header(7), succeeded: true, responses: [put]))) {
            XCTAssertEqual(($0 as? GatewayError)?.message, "unexpected reply from the server: txn reply without the holder's range")
        }
        XCTAssertThrowsError(try KeyQueue.queued(by: TxnResponse(header: header(7), succeeded: true, responses: [put, put])))
    }

    /// A waiter stops at the predecessor's DELETE (to look again) or its own (lost, even when the
    /// predecessor's comes first in the same response); puts and other keys' deletes are not its business.
    func testWaiterVerdictOnWatchEvents() {
        let own = Array("el/10".utf8), before = Array("el/f".utf8), other = Array("el/e".utf8)
        func response(_ events: [(Event.Kind, [UInt8])]) -> WatchResponse {
            WatchResponse(events: events.map { Event(type: $0.0, kv: KeyValue(key: $0.1)) })
        }
        XCTAssertNil(KeyQueue.verdict(response([]), own: own, predecessor: before))
        XCTAssertNil(KeyQueue.verdict(response([(.put, before), (.put, own), (.delete, other)]), own: own, predecessor: before))
        XCTAssertEqual(KeyQueue.verdict(response([(.put, other), (.delete, before)]), own: own, predecessor: before), .acquired)
        XCTAssertEqual(KeyQueue.verdict(response([(.delete, own)]), own: own, predecessor: before), .lost)
        XCTAssertEqual(KeyQueue.verdict(response([(.delete, before), (.delete, own)]), own: own, predecessor: before), .lost)
    }

    /// An idempotent call (revoke, the enqueue txn, reads) whose outcome is unknown is sent again on another
    /// endpoint; one that no endpoint accepted, that etch stopped, or that a server refused for good is not.
    func testWhichFailuresAnIdempotentCallRetriesElsewhere() {
        XCTAssertTrue(GatewayError.emptyReply(endpoint: "http://127.0.0.1:1").worthRetryingElsewhere)
        XCTAssertTrue(GatewayError.timedOut(endpoint: "http://127.0.0.1:1", limitMilliseconds: 5000).worthRetryingElsewhere)
        XCTAssertTrue(GatewayError.server(code: 14, message: "etcdserver: no leader", httpStatus: 503).worthRetryingElsewhere)
        XCTAssertTrue(GatewayError.server(code: 2, message: "etcdserver: request timed out", httpStatus: 503).worthRetryingElsewhere)
        XCTAssertFalse(GatewayError.unreachable([]).worthRetryingElsewhere)
        XCTAssertFalse(GatewayError.server(code: 7, message: "etcdserver: permission denied", httpStatus: 403).worthRetryingElsewhere)
        XCTAssertFalse(GatewayError.server(code: 5, message: "etcdserver: requested lease not found", httpStatus: 404).worthRetryingElsewhere)
    }

    /// A client of three loopback endpoints that no call in these tests reaches (the calls fail as told).
    func threeEndpointClient() -> GatewayClient {
        GatewayClient(endpoints: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"].map { Endpoint($0, tlsByDefault: false)! },
                      transport: HTTPTransport(options: TransportOptions()), commandTimeoutMilliseconds: 1000)
    }

    /// The retry loop itself, with calls that fail as told: once more on each other endpoint, moving the client
    /// on each time, and no more.
    func testIdempotentCallsMoveOnAtMostOncePerEndpoint() throws {
        let client = threeEndpointClient()
        var calls = 0
        let value = try client.idempotent { () throws(GatewayError) -> Int in
            calls += 1
            if calls < 3 { throw .emptyReply(endpoint: "x") }
            return 42
        }
        XCTAssertEqual(value, 42)
        XCTAssertEqual(calls, 3)
        XCTAssertEqual(client.current, 2)
        calls = 0
        XCTAssertThrowsError(try client.idempotent { () throws(GatewayError) -> Int in calls += 1; throw .emptyReply(endpoint: "x") })
        XCTAssertEqual(calls, 3, "each endpoint once")
        calls = 0
        XCTAssertThrowsError(try client.idempotent { () throws(GatewayError) -> Int in calls += 1; throw .unreachable([]) })
        XCTAssertEqual(calls, 1, "send tried every endpoint already")
    }

    /// `persistently` (elect -l's lookups) goes on past every endpoint, and past none answering at all, moving on
    /// each time; a refusal that retrying cannot mend ends it at once.
    func testPersistentReadsOutlastEveryEndpointFailing() throws {
        let client = threeEndpointClient()
        var calls = 0
        let value = try client.persistently { () throws(GatewayError) -> Int in
            calls += 1
            if calls < 4 { throw .emptyReply(endpoint: "x") }
            if calls < 6 { throw .unreachable([]) }
            return 7
        }
        XCTAssertEqual(value, 7)
        XCTAssertEqual(calls, 6, "three endpoints failing, then none reachable twice, then a reply")
        XCTAssertEqual(client.current, 5 % 3)
        calls = 0
        XCTAssertThrowsError(try client.persistently { () throws(GatewayError) -> Int in
            calls += 1
            throw .server(code: 7, message: "etcdserver: permission denied", httpStatus: 403)
        })
        XCTAssertEqual(calls, 1)
    }
}
