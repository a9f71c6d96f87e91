@testable import EtchGateway
@testable import EtchTransport
import XCTest

/// Replies no etcd sends, decoded the same way whether a reply is read whole or as it arrives: an error, never
/// a trap and never a silent success.
final class HostileReplyTests: XCTestCase {
    func parse(_ text: String) throws -> JSON { try JSONParser.parse(Array(text.utf8)) }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let e as GatewayError { return e.message } catch { return "\(error)" }
        return "no error"
    }

    func testRevisionsMustLeaveRoomForTheNextOne() throws {
        // A watch resumes at the last revision + 1: Int64.max would trap there, a negative one is nonsense.
        for (text, expect) in [(#""9223372036854775807""#, "out of range (9223372036854775807)"), (#""-1""#, "out of range (-1)"),
                               ("-7", "out of range (-7)"), ("1e30", "not a 64-bit integer"), (#""18446744073709551616""#, "not a 64-bit integer")] {
            XCTAssertTrue(message { _ = try RangeResponse(json: parse(#"{"header":{"revision":\#(text)}}"#)) }.contains("header.revision is \(expect)"), text)
            XCTAssertTrue(message { _ = try KeyValue(json: parse(#"{"mod_revision":\#(text)}"#)) }.contains("kv.mod_revision is \(expect)"), text)
            XCTAssertTrue(message { _ = try KeyValue(json: parse(#"{"create_revision":\#(text)}"#)) }.contains("kv.create_revision is \(expect)"), text)
            XCTAssertTrue(message { _ = try WatchResponse(json: parse(#"{"compact_revision":\#(text)}"#)) }.contains("watch response.compact_revision is \(expect)"), text)
        }
        XCTAssertEqual(try KeyValue(json: parse(#"{"mod_revision":"9223372036854775806"}"#)).modRevision, Int64.max - 1)
        XCTAssertTrue(message { _ = try RangeResponse(json: parse(#"{"count":"-1"}"#)) }.contains("range response.count is out of range"))
        XCTAssertTrue(message { _ = try DeleteRangeResponse(json: parse(#"{"deleted":-2}"#)) }.contains("delete response.deleted is out of range"))
        XCTAssertTrue(message { _ = try KeyValue(json: parse(#"{"version":"-1"}"#)) }.contains("kv.version is out of range"))
        XCTAssertEqual(try KeyValue(json: parse(#"{"lease":"-5"}"#)).lease, -5, "a lease ID is any int64")
    }

    func testResumePointAtTheLargestRevisionDoesNotTrap() throws {
        var point = ResumePoint(startRevision: 0)
        point.observe(try WatchResponse(json: parse(#"{"header":{"revision":"9223372036854775806"},"created":true}"#)))
        XCTAssertEqual(point.nextRevision, Int64.max)
    }

    /// Feeds `body` to the range stream decoder in chunks of `size` and returns the error, if any.
    func streamed(_ body: String, size: Int) -> String {
        var d = RangeStreamDecoder()
        var shown = 0
        return message {
            let bytes = Array(body.utf8)
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + size)
                try Array(bytes[i..<end]).withUnsafeBytes { try d.feed($0, onHeader: { _ in }, onKVs: { shown += $0.count }) }
                i = end
            }
            _ = try d.finish()
        }
    }

    func testStreamedRangeRepliesAreCheckedLikeWholeOnes() {
        let head = #"{"header":{"revision":"9"},"kvs":["#
        let kv = #"{"key":"YQ==","mod_revision":"2"}"#
        let cases = [
            (head + "1]}", "kv is not a JSON object"),
            (head + #""YQ=="]}"#, "kv is not a JSON object"),
            (head + kv + ",[" + kv + "]]}", "kv is not a JSON object"),
            (head + kv + ",null]}", "kv is not a JSON object"),
            (head + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "]}", "kv is not a JSON object"),
            (head + kv + #"],"count":"lots"}"#, "range response.count is not a 64-bit integer"),
            (head + kv + #"],"count":"-1"}"#, "range response.count is out of range"),
            (head + kv + #"],"more":"yes"}"#, "range response.more is not a boolean"),
            (head + kv + #"],"count":1e30}"#, "range response.count is not a 64-bit integer"),
        ]
        for (body, expect) in cases {
            for size in [1, 7, 4096] {
                XCTAssertTrue(streamed(body, size: size).contains(expect), "\(body.prefix(80)) in chunks of \(size): \(streamed(body, size: size))")
            }
            // Read whole, the same reply is refused too.
            XCTAssertNotEqual(message { _ = try RangeResponse(json: GatewayClient.decodeReply(Array(body.utf8), status: 200, endpoint: "e")) }, "no error", body)
        }
        XCTAssertEqual(streamed(head + kv + "," + kv + #"],"more":true,"count":"2"}"#, size: 3), "no error", "a good reply still decodes")
    }

    func testWatchEventsMustBeObjects() {
        var d = WatchStreamDecoder()
        let head = #"{"result":{"header":{"revision":"9"},"events":["#
        let line = head + String(repeating: #"{"kv":{"key":"YQ==","mod_revision":"3"}},"#, count: 8000) + "42]}}\n"
        let bytes = Array(line.utf8)
        for start in stride(from: 0, to: bytes.count, by: 16_384) {
            Array(bytes[start..<min(bytes.count, start + 16_384)]).withUnsafeBytes { d.feed($0) { _ in } }
        }
        XCTAssertEqual(d.error, .malformedReply("event is not a JSON object"), "a large message read as it arrives")
        XCTAssertNil(salvageEvents(Array((head + #"{"kv":{"key":"YQ==","mod_revision":"3"}},"x","#).utf8)), "nothing is salvaged from a garbled message")
        XCTAssertEqual(salvageEvents(Array((head + #"{"kv":{"key":"YQ==","mod_revision":"3"}},{"kv":"#).utf8))?.1.count, 1)
    }

    func testServerMessagesArePrintedOnOneSafeLine() {
        let e = GatewayError.server(code: 2, message: "bad\nline\r\u{1B}[2J\u{7}\u{85}\u{2028}é end", httpStatus: 400)
        XCTAssertEqual(e.message, #"bad\nline\r\x1b[2J\x07\u0085\u2028é end"#)
        let long = GatewayError.server(code: 2, message: String(repeating: "x", count: 100_000), httpStatus: 400).message
        XCTAssertEqual(long.count, 1003)
        XCTAssertTrue(long.hasSuffix("..."))
        XCTAssertEqual(GatewayError.server(code: 11, message: "etcdserver: mvcc: required revision has been compacted", httpStatus: 400).message,
                       "etcdserver: mvcc: required revision has been compacted", "etcd's own messages are unchanged")
    }

    func testWhichFailuresLeaveAWriteUncertain() {
        func transport(_ kind: TransportError.Kind, reached: Bool) -> GatewayError {
            .transport(TransportError(kind: kind, url: "http://e:1/v3/kv/put", detail: "x", curlCode: 0, mayHaveReachedServer: reached))
        }
        XCTAssertTrue(transport(.broken, reached: true).writeOutcomeUnknown)
        XCTAssertTrue(transport(.timeout, reached: true).writeOutcomeUnknown)
        XCTAssertTrue(GatewayError.emptyReply(endpoint: "e").writeOutcomeUnknown)
        XCTAssertTrue(GatewayError.malformedReply("x").writeOutcomeUnknown)
        XCTAssertTrue(GatewayError.http(status: 502, endpoint: "e", snippet: "").writeOutcomeUnknown)
        XCTAssertFalse(transport(.connect, reached: false).writeOutcomeUnknown)
        XCTAssertFalse(transport(.aborted, reached: true).writeOutcomeUnknown, "Ctrl-C ends the process by the signal instead")
        XCTAssertFalse(GatewayError.server(code: 3, message: "etcdserver: key is not provided", httpStatus: 400).writeOutcomeUnknown)
        XCTAssertFalse(GatewayError.unreachable([]).writeOutcomeUnknown)
    }
}
