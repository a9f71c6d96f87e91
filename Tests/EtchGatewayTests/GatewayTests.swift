@testable import EtchGateway
import EtchTransport
import Foundation
import XCTest

/// Stream framing: lines split across chunks, blank lines, a last line without a newline.
final class LineFramerTests: XCTestCase {
    func frame(_ chunks: [String]) -> [String] {
        var framer = LineFramer()
        var lines: [String] = []
        for c in chunks {
            Array(c.utf8).withUnsafeBytes { framer.feed($0) { lines.append(String(decoding: $0, as: UTF8.self)) } }
        }
        framer.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        return lines
    }

    func testSplitsAcrossChunks() {
        XCTAssertEqual(frame(["{\"a\":", "1}\n{\"b\"", ":2}\n"]), ["{\"a\":1}", "{\"b\":2}"])
        XCTAssertEqual(frame(["{\"a\":1}\n\n\r\n  \n{\"b\":2}\n"]), ["{\"a\":1}", "{\"b\":2}"], "blank lines are skipped")
        XCTAssertEqual(frame(["{\"a\":1}\n{\"error\":", "{}}"]), ["{\"a\":1}", "{\"error\":{}}"], "the last line needs no newline")
        XCTAssertEqual(frame(["x", "y", "z"]), ["xyz"])
        XCTAssertEqual(frame(["\n", "\n"]), [])
    }

    func testEveryChunkBoundary() {
        let text = "{\"result\":{\"k\":\"v\\n\"}}\n\n{\"result\":{}}\n{\"x\":1}"
        for cut in 0...text.utf8.count {
            let bytes = Array(text.utf8)
            let parts = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            XCTAssertEqual(frame(parts), ["{\"result\":{\"k\":\"v\\n\"}}", "{\"result\":{}}", "{\"x\":1}"], "cut at \(cut)")
        }
    }
}

final class JSONTests: XCTestCase {
    func testParsesExactIntegersAndEscapes() throws {
        let j = try JSONParser.parse(Array(#"{"id":"18446744073709551615","n":-5,"s":"a\"\\\/\n\u00e9\ud83c\udf89","b":true,"z":null,"a":[1,2]}"#.utf8))
        XCTAssertEqual(j["id"]?.uint64Value, UInt64.max)
        XCTAssertEqual(j["n"]?.int64Value, -5)
        XCTAssertEqual(j["s"]?.stringValue, "a\"\\/\né🎉")
        XCTAssertEqual(j["b"], .bool(true))
        XCTAssertEqual(j["z"], .null)
        XCTAssertEqual(j["a"]?.arrayValue?.count, 2)
    }

    func testRejectsBadInput() {
        for bad in ["", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "\"\u{01}\"", "tru", "01", "{'a':1}", "1.", "-"] {
            XCTAssertThrowsError(try JSONParser.parse(Array(bad.utf8)), bad)
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(Array(deep.utf8)), "deep nesting fails cleanly, not by stack overflow")
    }

    func testBase64() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("foo".utf8)), "Zm9v")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(Base64.encode(Array("f".utf8)), "Zg==")
        XCTAssertEqual(Base64.encode("foobar".utf8.lazy.map { $0 }), "Zm9vYmFy", "a non-contiguous collection")
        var out = Array("x".utf8)
        Base64.encode([UInt8](repeating: 0xFF, count: 4), into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "x/////w==", "appends after what is there")
        XCTAssertNil(Base64.decode("Zm9v!"))
        XCTAssertNil(Base64.decode("Zm9=v"))
        XCTAssertNil(Base64.decode("Z"))
    }

    /// Long inputs go through the AVX2 encoder and decoder (where the CPU has them) and their scalar tails:
    /// every length up to 400 bytes and every byte value encode and decode as Foundation does; a bad character anywhere (in a vector
    /// block or the tail) is refused; URL-safe characters in a block hand the rest to the scalar decoder,
    /// which reads them.
    func testLongBase64MatchesFoundationAndRefusesBadCharacters() {
        var rng = SystemRandomNumberGenerator()
        for n in 0...400 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Data(bytes).base64EncodedString()
            XCTAssertEqual(Base64.encode(bytes), text, "encode, \(n) bytes")
            XCTAssertEqual(Base64.decode(text), bytes, "decode, \(n) bytes (AVX2: \(Base64.avx2))")
            let unpadded = String(text.reversed().drop { $0 == "=" }.reversed())
            XCTAssertEqual(Base64.decode(unpadded), bytes, "unpadded, \(n) bytes")
        }
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 5) }
        let text = Array(Data(bytes).base64EncodedString().utf8)
        for bad: UInt8 in [0, UInt8(ascii: " "), UInt8(ascii: "!"), UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "`"),
                           UInt8(ascii: "{"), UInt8(ascii: ":"), UInt8(ascii: "."), 0x80, 0xFF, UInt8(ascii: "=")] {
            for at in stride(from: 0, to: text.count - 4, by: 7) {
                var t = text
                t[at] = bad
                XCTAssertNil(t.withUnsafeBufferPointer { Base64.decode($0) }, "\(bad) at \(at)")
            }
        }
        // The portable loops alone (what a CPU without AVX2 runs) give the same, for every length.
        for n in 0...200 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Array(Data(bytes).base64EncodedString().utf8)
            var encoded = [UInt8](repeating: 0, count: Base64.encodedCount(n))
            let written = bytes.withUnsafeBufferPointer { src in
                encoded.withUnsafeMutableBufferPointer { Base64.encode(src, to: $0.baseAddress!, vector: false) }
            }
            XCTAssertEqual(Array(encoded[..<written]), text, "portable encode, \(n) bytes")
            var decoded = [UInt8](repeating: 0, count: Base64.decodedCapacity(text.count))
            let count = text.withUnsafeBufferPointer { src in
                decoded.withUnsafeMutableBufferPointer { Base64.decode(src, into: $0, vector: false) }
            }
            XCTAssertEqual(count.map { Array(decoded[..<$0]) }, bytes, "portable decode, \(n) bytes")
        }
        // The URL-safe alphabet ('-' for '+', '_' for '/') is read too, in a vector block or after it.
        let url = text.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
        XCTAssertTrue(url.contains(UInt8(ascii: "-")) || url.contains(UInt8(ascii: "_")))
        XCTAssertEqual(url.withUnsafeBufferPointer { Base64.decode($0) }, bytes)
    }
}

final class GatewayErrorTests: XCTestCase {
    func testUnaryErrorShapes() {
        let v34 = Array(#"{"error":"etcdserver: mvcc: required revision has been compacted","code":11,"message":"etcdserver: mvcc: required revision has been compacted"}"#.utf8)
        XCTAssertEqual(GatewayError.parseErrorBody(v34, httpStatus: 400), .server(code: 11, message: "etcdserver: mvcc: required revision has been compacted", httpStatus: 400))
        let v36 = Array(#"{"code":5,"message":"etcdserver: requested lease not found"}"#.utf8)
        XCTAssertEqual(GatewayError.parseErrorBody(v36, httpStatus: 404), .server(code: 5, message: "etcdserver: requested lease not found", httpStatus: 404))
        XCTAssertNil(GatewayError.parseErrorBody(Array("<html>502 Bad Gateway</html>".utf8), httpStatus: 502))
    }

    func testDecodeReplyNeverTurnsGarbageIntoSuccess() {
        XCTAssertThrowsError(try GatewayClient.decodeReply([], status: 200, endpoint: "http://e:1")) {
            XCTAssertEqual($0 as? GatewayError, .emptyReply(endpoint: "http://e:1"))
        }
        XCTAssertThrowsError(try GatewayClient.decodeReply(Array("<html>".utf8), status: 200, endpoint: "e"))
        XCTAssertThrowsError(try GatewayClient.decodeReply(Array("[1]".utf8), status: 200, endpoint: "e"))
        XCTAssertThrowsError(try GatewayClient.decodeReply(Array("<html>".utf8), status: 502, endpoint: "e")) {
            guard case .http(502, _, _) = $0 as? GatewayError else { return XCTFail("\($0)") }
        }
    }

    func testStreamErrorShapes() throws {
        let v1 = try JSONParser.parse(Array(#"{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}"#.utf8))
        XCTAssertEqual(GatewayError.parseStreamError(v1), .server(code: 14, message: "transport is closing", httpStatus: 503))
        let v2 = try JSONParser.parse(Array(#"{"error":{"code":14,"message":"error reading from server: EOF"}}"#.utf8))
        XCTAssertEqual(GatewayError.parseStreamError(v2), .server(code: 14, message: "error reading from server: EOF", httpStatus: 200))
    }

    func testWrongTypesAreMalformedReplies() {
        for body in [#"{"kvs":[{"key":5}]}"#, #"{"kvs":[{"key":"!!"}]}"#, #"{"count":"x"}"#, #"{"header":{"revision":"99999999999999999999"}}"#, #"{"kvs":{}}"#] {
            XCTAssertThrowsError(try RangeResponse(json: JSONParser.parse(Array(body.utf8))), body)
        }
    }
}

/// The resume-point rules, including the catch-up header trap and fragments.
final class ResumePointTests: XCTestCase {
    func event(_ rev: Int64) -> Event { Event(kv: KeyValue(key: [1], modRevision: rev)) }

    func testCatchUpHeaderIsNotTheResumePoint() {
        var p = ResumePoint(startRevision: 5)
        p.observe(WatchResponse(header: ResponseHeader(revision: 100), created: true))
        XCTAssertEqual(p.nextRevision, 5, "a watch from --rev keeps its start until events arrive")
        p.observe(WatchResponse(header: ResponseHeader(revision: 100), events: [event(5), event(7)]))
        XCTAssertEqual(p.nextRevision, 8, "last event + 1, not the header's 100")
    }

    func testWatchFromNowAndProgress() {
        var p = ResumePoint(startRevision: 0)
        p.observe(WatchResponse(header: ResponseHeader(revision: 41), created: true))
        XCTAssertEqual(p.nextRevision, 42)
        p.observe(WatchResponse(header: ResponseHeader(revision: 60)))
        XCTAssertEqual(p.nextRevision, 61, "a progress notification moves it to header + 1")
        p.observe(WatchResponse(header: ResponseHeader(revision: 50)))
        XCTAssertEqual(p.nextRevision, 61, "never backwards")
    }

    func testFragmentsJoin() {
        var j = FragmentJoiner()
        XCTAssertNil(j.add(WatchResponse(header: ResponseHeader(revision: 9), fragment: true, events: [event(1)])))
        XCTAssertNil(j.add(WatchResponse(header: ResponseHeader(revision: 9), fragment: true, events: [event(2)])))
        let whole = j.add(WatchResponse(header: ResponseHeader(revision: 9), events: [event(3)]))
        XCTAssertEqual(whole?.events.map(\.kv.modRevision), [1, 2, 3])
        XCTAssertEqual(whole?.fragment, false)
        XCTAssertEqual(j.add(WatchResponse(events: [event(4)]))?.events.count, 1)
    }

    func testRequestBodies() {
        var w = WatchCreateRequest(key: Array("a".utf8))
        w.rangeEnd = Array("b".utf8); w.startRevision = 7; w.prevKV = true
        XCTAssertEqual(String(decoding: w.body(), as: UTF8.self), #"{"create_request":{"key":"YQ==","range_end":"Yg==","start_revision":"7","prev_kv":true}}"#)
        var r = RangeRequest(key: [0]); r.rangeEnd = [0]; r.sortOrder = .descend; r.sortTarget = .mod
        XCTAssertEqual(String(decoding: r.body(), as: UTF8.self), #"{"key":"AA==","range_end":"AA==","sort_order":"DESCEND","sort_target":"MOD"}"#)
    }
}

/// Salvaging the whole events of a message cut mid-line, and resuming without loss or repetition.
final class SalvageTests: XCTestCase {
    let message = #"{"result":{"header":{"cluster_id":"1","member_id":"2","revision":"90","raft_term":"3"},"events":[{"kv":{"key":"YQ==","mod_revision":"5","value":"eA=="}},{"kv":{"key":"Yg==","mod_revision":"6"}},{"type":"DELETE","kv":{"key":"Yw==","mod_revision":"6"}},{"kv":{"key":"ZA==","mod_revision":"7"}}]}}"#

    func testEveryCutPointSalvagesOnlyWholeEvents() {
        let bytes = Array(message.utf8)
        var counts: [Int] = []
        for cut in 0..<bytes.count {
            let (_, events) = salvageEvents(Array(bytes[..<cut])) ?? (ResponseHeader(), [])
            counts.append(events.count)
            for (i, e) in events.enumerated() { XCTAssertEqual(e.kv.modRevision, [5, 6, 6, 7][i]) }
        }
        XCTAssertEqual(counts.max(), 4)
        XCTAssertEqual(counts, counts.sorted(), "more bytes never salvage fewer events")
        XCTAssertEqual(salvageEvents(Array(bytes.prefix(150)))?.0.revision, 90)
    }

    func testResumeAfterATransactionCutInHalf() {
        var p = ResumePoint(startRevision: 5)
        let all = salvageEvents(Array(message.utf8))!.1
        p.observePartial(Array(all.prefix(2)))  // delivered rev 5 and the first event of rev 6
        XCTAssertEqual(p.nextRevision, 6)
        XCTAssertEqual(p.deliveredAtNext, 1)
        var again = Array(all.dropFirst())    // the server replays from revision 6
        p.beginConnection()
        p.dropRedelivered(&again)
        XCTAssertEqual(again.map(\.type), [.delete, .put], "the first event of rev 6 is not printed twice, the second is not lost")
        XCTAssertEqual(p.deliveredAtNext, 1, "still counted until the message completes")
        var later = Array(all.suffix(2))
        p.dropRedelivered(&later)
        XCTAssertEqual(later.count, 2, "within one connection nothing is dropped")
    }

    func testPartsOfOneHugeRevisionAreNeverDroppedOnTheSameConnection() {
        var p = ResumePoint(startRevision: 9)
        p.beginConnection()
        let part = (0..<5).map { _ in Event(kv: KeyValue(key: [1], modRevision: 9)) }
        for _ in 0..<3 {
            var events = part
            p.dropRedelivered(&events)
            XCTAssertEqual(events.count, 5)
            p.observePartial(events)
        }
        XCTAssertEqual(p.deliveredAtNext, 15)
        p.beginConnection()
        var replay = (0..<20).map { _ in Event(kv: KeyValue(key: [1], modRevision: 9)) }
        p.dropRedelivered(&replay)
        XCTAssertEqual(replay.count, 5, "after a reconnect the 15 already printed are dropped, the other 5 kept")
        p.messageComplete()
        XCTAssertEqual(p.nextRevision, 10)
    }
}

/// Large watch messages decoded event by event as the bytes arrive.
final class WatchStreamDecoderTests: XCTestCase {
    func bigMessage(events n: Int, revision: Int64 = 7) -> String {
        let events = (0..<n).map { i -> String in
            let key = Base64.encode(Array("key/\(i)".utf8))
            return "{\"type\":\"DELETE\",\"kv\":{\"key\":\"\(key)\",\"mod_revision\":\"\(revision)\"}}"
        }
        let head = "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"\(revision)\",\"raft_term\":\"3\"},\"events\":["
        return head + events.joined(separator: ",") + "]}}\n"
    }

    func decode(_ text: String, chunk: Int) -> [WatchStreamDecoder.Piece] {
        var d = WatchStreamDecoder()
        var pieces: [(kind: String, response: WatchResponse?)] = []
        var out: [WatchStreamDecoder.Piece] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            Array(bytes[i..<end]).withUnsafeBytes { raw in
                d.feed(raw) { piece in
                    if case let .part(r) = piece { pieces.append(("part", r)); out.append(.part(r)) } else { pieces.append(("line", nil)) }
                }
            }
            i = end
        }
        d.finish { _ in }
        return out
    }

    func testLargeMessageIsHandedOnInPartsWithEveryEventOnce() {
        let text = bigMessage(events: 20_000)
        XCTAssertGreaterThan(text.utf8.count, WatchStreamDecoder.streamThreshold)
        for chunk in [1_000, 16_384, 100_003] {
            let parts = decode(text, chunk: chunk).compactMap { piece -> WatchResponse? in
                if case let .part(r) = piece { return r }
                return nil
            }
            XCTAssertEqual(parts.first?.part, .first)
            XCTAssertEqual(parts.last?.part, .last)
            XCTAssertTrue(parts.dropFirst().dropLast().allSatisfy { $0.part == .middle && !$0.events.isEmpty })
            let keys = parts.flatMap(\.events).map { String(decoding: $0.kv.key, as: UTF8.self) }
            XCTAssertEqual(keys, (0..<20_000).map { "key/\($0)" }, "chunk \(chunk)")
            XCTAssertEqual(parts.first?.header.revision, 7)
        }
    }

    func testSmallMessagesStayWholeLines() {
        var d = WatchStreamDecoder()
        var lines = 0
        Array((bigMessage(events: 3) + bigMessage(events: 2)).utf8).withUnsafeBytes { raw in
            d.feed(raw) { if case .line = $0 { lines += 1 } }
        }
        XCTAssertEqual(lines, 2)
    }
}

/// Range replies decoded as they arrive, whatever the chunking.
final class RangeStreamDecoderTests: XCTestCase {
    let reply = #"{"header":{"cluster_id":"1","member_id":"2","revision":"9","raft_term":"3"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"eyJ9XSI="},{"key":"Yg==","create_revision":"3","mod_revision":"4","version":"2","value":"MQ=="}],"more":true,"count":"5"}"#

    func testEveryChunkSizeGivesTheSameResult() throws {
        let bytes = Array(reply.utf8)
        for size in 1...bytes.count {
            var d = RangeStreamDecoder()
            var headers: [ResponseHeader] = []
            var kvs: [KeyValue] = []
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + size)
                try Array(bytes[i..<end]).withUnsafeBytes { raw in
                    try d.feed(raw, onHeader: { headers.append($0) }, onKVs: { kvs += $0 })
                }
                i = end
            }
            let tail = try XCTUnwrap(d.finish(), "size \(size)")
            XCTAssertEqual(headers.map(\.revision), [9])
            XCTAssertEqual(kvs.map { String(decoding: $0.key, as: UTF8.self) }, ["a", "b"])
            XCTAssertEqual(kvs.first?.value, Array("{\"}]\"".utf8), "brackets and quotes inside values do not confuse the scanner")
            XCTAssertTrue(tail.more)
            XCTAssertEqual(tail.count, 5)
        }
    }

    func testRepliesWithoutKeyValuesAndErrorsAreLeftWhole() throws {
        for body in [#"{"header":{"revision":"9"}}"#, #"{"error":"etcdserver: mvcc: required revision is a future revision","code":11}"#] {
            var d = RangeStreamDecoder()
            try Array(body.utf8).withUnsafeBytes { try d.feed($0, onHeader: { _ in XCTFail("no header streamed") }, onKVs: { _ in XCTFail() }) }
            XCTAssertNil(try d.finish())
            XCTAssertEqual(d.wholeBody, Array(body.utf8))
        }
    }
}

final class TLSExplanationTests: XCTestCase {
    func testTLSFailuresAreNamed() {
        let cases: [(String, String)] = [
            ("SSL certificate problem: unable to get local issuer certificate", "not signed by a CA"),
            ("SSL certificate problem: self-signed certificate", "not signed by a CA"),
            ("SSL: no alternative certificate subject name matches target host name '127.0.0.1'", "does not name this host"),
            ("SSL certificate problem: certificate has expired", "has expired"),
            ("OpenSSL SSL_read: OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 alert bad certificate, errno 0", "client certificate"),
            ("OpenSSL/3.0.19: error:0A00045C:SSL routines::tlsv13 alert certificate required", "requires a client certificate"),
            ("unable to set private key file: 'k.pem' type PEM", "client key"),
            ("error:0A00010B:SSL routines::wrong version number", "does not speak TLS"),
        ]
        for (detail, meaning) in cases {
            let why = TransportError.explainTLS(detail)
            XCTAssertNotNil(why, detail)
            XCTAssertTrue(why?.contains(meaning) ?? false, "\(detail) -> \(why ?? "nil")")
        }
        XCTAssertNil(TransportError.explainTLS("Failed to connect to 127.0.0.1 port 1: Connection refused"))
        // make-mirror's destination has its own flags, and the messages name them.
        XCTAssertEqual(TransportError.explainTLS("sslv3 alert bad certificate", flagPrefix: "dest-"),
                       "TLS: the server rejected the client certificate, or requires one (give --dest-cert and --dest-key signed by a CA it trusts)")
        XCTAssertEqual(TransportError.explainTLS("unable to get local issuer certificate", flagPrefix: "dest-"),
                       "TLS: the server's certificate is not signed by a CA etch trusts (give its CA with --dest-cacert)")
    }
}

final class AuthErrorClassTests: XCTestCase {
    /// Which server messages renew a token, which end a watch, and which are only a busy cluster.
    func testAuthErrorsAreSortedByWhatHelps() {
        for stale in ["etcdserver: invalid auth token", "etcdserver: revision of auth store is old", "etcdserver: user name is empty",
                      "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"] {
            XCTAssertTrue(GatewayClient.isStaleToken(stale), stale)
        }
        for refused in ["etcdserver: authentication failed, invalid user ID or password", "etcdserver: permission denied"] {
            XCTAssertTrue(GatewayClient.isRefusedCredentials(refused), refused)
            XCTAssertFalse(GatewayClient.isStaleToken(refused), refused)
        }
        for busy in ["etcdserver: no leader", "etcdserver: leader changed", "etcdserver: request timed out"] {
            XCTAssertFalse(GatewayClient.isRefusedCredentials(busy), busy)
            XCTAssertFalse(GatewayClient.isStaleToken(busy), busy)
        }
    }
}

final class KeySplitterTests: XCTestCase {
    /// A sorted key set stands in for the server: count(k) is the number of keys in [start, k).
    func split(_ keys: [[UInt8]], start: [UInt8], end: [UInt8], want: Int64, sample: [[UInt8]] = [],
               guess: Double? = nil) -> (key: [UInt8], keys: Int64, probes: Int)? {
        let splitter = KeySplitter(start: start, end: end, sample: sample)
        let inRange = keys.filter { !$0.lexicographicallyPrecedes(start) && (end == [0] || $0.lexicographicallyPrecedes(end)) }
        var probes = 0
        guard let r = splitter.split(want: want, total: Int64(inRange.count), guess: guess, count: { k in
            probes += 1
            return Int64(inRange.filter { $0.lexicographicallyPrecedes(k) }.count)
        }) else { return nil }
        return (r.key, r.keys, probes)
    }

    func testSequentialKeysSplitNearTheWantedCount() throws {
        let keys = (0..<20_000).map { Array("bulk/\(String(repeating: "0", count: 6 - String($0).count))\($0)".utf8) }
        let start = Array("bulk/005000".utf8) + [0]
        // As get uses it: the first page's keys teach the splitter which bytes keys use.
        let sample = Array(keys.prefix(5000))
        for want: Int64 in [1000, 5000, 7000] {
            let r = try XCTUnwrap(split(keys, start: start, end: Array("bulk0".utf8), want: want, sample: sample), "want \(want)")
            XCTAssertTrue(r.keys * 2 >= want && r.keys <= want * 2, "want \(want), got \(r.keys)")
            XCTAssertLessThanOrEqual(r.probes, 2, "digits spread evenly: interpolation lands at once")
            // The count the caller is told is the truth.
            XCTAssertEqual(Int64(keys.filter { !$0.lexicographicallyPrecedes(start) && $0.lexicographicallyPrecedes(r.key) }.count), r.keys)
        }
    }

    func testAllKeysRangeAndBinaryKeys() throws {
        var rng = SystemRandomNumberGenerator()
        let keys = (0..<5000).map { _ in (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) } }.sorted { $0.lexicographicallyPrecedes($1) }
        let r = try XCTUnwrap(split(keys, start: [0], end: [0], want: 1000))
        XCTAssertTrue(r.keys >= 500 && r.keys <= 2000, "\(r.keys)")
    }

    func testNoUsableBoundaryIsNil() {
        // Every key equal up to the last byte range: no boundary strictly inside a two-key range.
        let keys: [[UInt8]] = [Array("a".utf8), Array("a\u{0}".utf8)]
        XCTAssertNil(split(keys, start: Array("a".utf8), end: Array("a\u{0}\u{0}".utf8), want: 1))
    }
}
