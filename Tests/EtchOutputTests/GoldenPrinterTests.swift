import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// Printers against golden files captured from etcdctl 3.4.23: the input is the gateway's JSON for the same
/// request on a server with the same history, the expected output is what etcdctl printed.
final class GoldenPrinterTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func scenarios() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
        return names.filter { $0.hasSuffix(".gateway.json") }.map { String($0.dropLast(".gateway.json".count)) }.sorted()
    }

    func render(_ scenario: String, _ format: OutputFormat) throws -> [UInt8] {
        let input = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(scenario).gateway.json"))
        let printer = makePrinter(format, hex: scenario.contains("hex"), valueOnly: scenario.contains("value_only"))
        let out = OutputBuffer()
        switch scenario.split(separator: "_").first! {
        case "get": printer.get(try RangeResponse(json: JSONParser.parse(input)), to: out)
        case "put": printer.put(try PutResponse(json: JSONParser.parse(input)), to: out)
        case "del": printer.delete(try DeleteRangeResponse(json: JSONParser.parse(input)), to: out)
        case "watch":
            for line in input.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                let response = try WatchResponse(json: XCTUnwrap(JSONParser.parse(line)["result"]))
                if response.created && !response.canceled { continue }
                printer.watch(response, to: out)
            }
        default: XCTFail("unknown scenario kind \(scenario)")
        }
        return out.bytes
    }

    func testEveryGoldenFile() throws {
        var compared = 0
        for scenario in try scenarios() {
            for format in OutputFormat.allCases {
                let expectedURL = Self.fixtures.appendingPathComponent("\(scenario).\(format.rawValue)")
                guard let expected = try? Data(contentsOf: expectedURL) else { continue }
                let actual = try render(scenario, format)
                if actual != Array(expected) {
                    XCTFail("""
                    \(scenario).\(format.rawValue) differs
                    expected: \(String(decoding: expected, as: UTF8.self))
                    actual:   \(String(decoding: actual, as: UTF8.self))
                    """)
                }
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 90, "golden files went missing")
    }

    func testGoQuoteMatchesGo() {
        XCTAssertEqual(GoQuote.quote(Array("a\"b\\c".utf8)), #""a\"b\\c""#)
        XCTAssertEqual(GoQuote.quote([0x07, 0x08, 0x0C, 0x0A, 0x0D, 0x09, 0x0B, 0x00, 0x7F]), #""\a\b\f\n\r\t\v\x00\x7f""#)
        XCTAssertEqual(GoQuote.quote(Array("café 🎉".utf8)), "\"café 🎉\"")
        XCTAssertEqual(GoQuote.quote([0xFF, 0xFE, 0x41]), #""\xff\xfeA""#)
        XCTAssertEqual(GoQuote.quote(Array("\u{00A0}\u{200B}\u{E0001}".utf8)), #""\u00a0\u200b\U000e0001""#)
        XCTAssertEqual(GoQuote.quote([0xED, 0xA0, 0x80]), #""\xed\xa0\x80""#, "a UTF-8 encoded surrogate is invalid")
        XCTAssertEqual(GoQuote.quote([0xC0, 0xAF]), #""\xc0\xaf""#, "an overlong encoding is invalid")
        // U+0899 came with Unicode 14; etcdctl 3.4.23 (Go 1.19, Unicode 13) escapes it (checked with etcdctl).
        XCTAssertEqual(GoQuote.quote(Array("x\u{0899}y".utf8)), #""x\u0899y""#)
    }

    func testUInt64IDsPrintExactly() {
        let r = RangeResponse(header: ResponseHeader(clusterID: UInt64.max, memberID: 10608898954038455804, revision: 1, raftTerm: 2))
        let out = OutputBuffer()
        JSONPrinter().get(r, to: out)
        XCTAssertEqual(String(decoding: out.bytes, as: UTF8.self),
                       "{\"header\":{\"cluster_id\":18446744073709551615,\"member_id\":10608898954038455804,\"revision\":1,\"raft_term\":2}}\n")
    }

    func testKeysOnlyPrintsAnEmptyLineAfterEachKey() {
        let r = RangeResponse(kvs: [KeyValue(key: Array("a".utf8)), KeyValue(key: Array("b".utf8))], count: 2)
        let out = OutputBuffer()
        SimplePrinter(hex: false, valueOnly: false).get(r, to: out)
        XCTAssertEqual(String(decoding: out.bytes, as: UTF8.self), "a\n\nb\n\n")
    }
}
