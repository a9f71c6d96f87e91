@testable import EtchGateway
import EtchTransport
import Glibc
import XCTest

/// The lease messages' gateway JSON and the keeper's rules that need no server: which failures end it at once,
/// the renewal interval, and the stop signal another thread sends.
final class LeaseKeeperTests: XCTestCase {
    func testRequestsAsTheGatewayReadsThem() {
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseKeepAliveRequest(ID: 4097)).gatewayJSON(), as: UTF8.self), #"{"ID":"4097"}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseGrantRequest(TTL: 60)).gatewayJSON(), as: UTF8.self), #"{"TTL":"60"}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseTimeToLiveRequest(ID: 1, keys: true)).gatewayJSON(), as: UTF8.self), #"{"ID":"1","keys":true}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseTimeToLiveRequest(ID: 1, keys: false)).gatewayJSON(), as: UTF8.self), #"{"ID":"1"}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseRevokeRequest(ID: -1)).gatewayJSON(), as: UTF8.self), #"{"ID":"-1"}"#)
        XCTAssertEqual(String(decoding: EncodedValue.of(LeaseLeasesRequest()).gatewayJSON(), as: UTF8.self), "{}")
    }

    func testTimeToLiveKeysAreBytes() throws {
        let json = try JSONParser.parse(Array(#"{"ID":"4099","TTL":"-1","keys":["cSIJeCDDqQ==","/w=="]}"#.utf8))
        let r = try MessageDecoder.decode(LeaseTimeToLiveResponse.self, from: json)
        XCTAssertEqual(r.keys, [Array("q\"\tx é".utf8), [0xFF]])
        XCTAssertEqual(r.TTL, -1)
        XCTAssertEqual(r.grantedTTL, 0)
    }

    /// Only what retrying cannot mend ends the keeper at once; a lease the server does not know is gone.
    func testWhichFailuresEndTheKeeperAtOnce() {
        let ep = "http://127.0.0.1:1"
        XCTAssertEqual(LeaseKeeper.final(.server(code: 5, message: "etcdserver: requested lease not found", httpStatus: 404), endpoint: ep),
                       .expired(endpoint: ep))
        for code in [3, 7, 9, 11, 12, 16] {
            let e = GatewayError.server(code: code, message: "m", httpStatus: 400)
            XCTAssertEqual(LeaseKeeper.final(e, endpoint: ep), .failed(e), "code \(code)")
        }
        for code in [1, 2, 4, 8, 10, 13, 14] {
            XCTAssertNil(LeaseKeeper.final(.server(code: code, message: "etcdserver: no leader", httpStatus: 503), endpoint: ep), "code \(code)")
        }
        XCTAssertNil(LeaseKeeper.final(.emptyReply(endpoint: ep), endpoint: ep))
        XCTAssertNil(LeaseKeeper.final(.malformedReply("x"), endpoint: ep))
        XCTAssertNil(LeaseKeeper.final(.http(status: 502, endpoint: ep, snippet: ""), endpoint: ep))
        XCTAssertNil(LeaseKeeper.final(.unreachable([]), endpoint: ep))
    }

    func testRenewalIntervalIsAThirdOfTheTTL() {
        XCTAssertEqual(LeaseKeeper.renewalInterval(6), 2_000_000_000)
        XCTAssertEqual(LeaseKeeper.renewalInterval(10), 3_333_333_333)
        XCTAssertEqual(LeaseKeeper.renewalInterval(0), 333_333_333, "never a busy loop")
    }

    func testStopSignalCutsAWaitShort() {
        let signal = StopSignal()
        XCTAssertFalse(signal.wait(milliseconds: 30), "times out")
        let start = monotonicNanoseconds()
        let stopper = BackgroundWork {
            usleep(50_000)
            signal.stop()
        }
        XCTAssertTrue(signal.wait(milliseconds: 10_000))
        XCTAssertLessThan(monotonicNanoseconds() - start, 2_000_000_000)
        stopper.join()
        XCTAssertTrue(signal.isStopped)
        XCTAssertTrue(signal.wait(milliseconds: 10_000), "once stopped, at once")
    }
}
