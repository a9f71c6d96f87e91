import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// txn's output against golden files captured from etcdctl 3.4.23 (Fixtures/txn/capture.py): for each scenario
/// the gateway's JSON reply to a transaction and etcdctl's output for the same transaction at the same revision
/// on a twin server, in simple, json, fields and protobuf.
final class TxnOutputTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("txn")

    func fixture(_ name: String) throws -> Data { try Data(contentsOf: Self.fixtures.appendingPathComponent(name)) }

    func reply(_ scenario: String) throws -> TxnResponse {
        try TxnResponse(json: JSONParser.parse(fixture("\(scenario).gateway.json")))
    }

    func render(_ value: TxnResponse, _ output: Output<TxnResponse>, _ format: OutputFormat) throws -> [UInt8] {
        let out = OutputBuffer()
        try output.write(value, as: format, to: out)
        return out.bytes
    }

    func testEveryFormatAsEtcdctlPrintsIt() throws {
        var compared = 0
        for scenario in ["txn_success", "txn_failure", "txn_empty"] {
            let r = try reply(scenario)
            let output = TxnOutput.output(for: TxnRequest(), hex: false)
            for format in [OutputFormat.simple, .json, .fields, .protobuf] {
                let expected = Array(try fixture("\(scenario).\(format.rawValue)"))
                let actual = try render(r, output, format)
                XCTAssertEqual(actual, expected, """
                    \(scenario).\(format.rawValue) differs
                    expected: \(String(decoding: expected, as: UTF8.self).debugDescription)
                    actual:   \(String(decoding: actual, as: UTF8.self).debugDescription)
                    """)
                compared += 1
            }
            XCTAssertFalse(output.supports(.table), "etcdctl has no table for txn")
        }
        XCTAssertEqual(compared, 12)
    }

    func testRepliesDecodeEveryOperation() throws {
        let r = try reply("txn_success")
        XCTAssertTrue(r.succeeded)
        XCTAssertEqual(r.header.revision, 6)
        guard r.responses.count == 4, case let .range(g) = r.responses[0], case let .put(p) = r.responses[1],
              case let .deleteRange(d) = r.responses[2], case let .range(missing) = r.responses[3] else {
            return XCTFail("\(r.responses)")
        }
        XCTAssertEqual(g.kvs.map(\.value), [Array("v".utf8)])
        XCTAssertEqual(p.prevKV?.value, Array("o1".utf8))
        XCTAssertEqual(d.deleted, 2)
        XCTAssertEqual(d.prevKVs.count, 2)
        XCTAssertEqual(missing.header.revision, 6)
        XCTAssertTrue(missing.kvs.isEmpty)
        XCTAssertFalse(try reply("txn_failure").succeeded, "succeeded is left out when false")
    }

    func testAReplyOpWithNoKnownResponseIsMalformed() {
        XCTAssertThrowsError(try TxnResponse(json: JSONParser.parse(Array(#"{"responses":[{"response_txn":{}}]}"#.utf8))))
        XCTAssertThrowsError(try TxnResponse(json: JSONParser.parse(Array(#"{"responses":[{}]}"#.utf8))))
        XCTAssertThrowsError(try TxnResponse(json: JSONParser.parse(Array(#"{"responses":[{"response_put":[]}]}"#.utf8))))
        XCTAssertThrowsError(try TxnResponse(json: JSONParser.parse(Array(#"{"succeeded":"yes"}"#.utf8))))
    }

    func testHexAppliesToEachOperationsKeysAndValues() throws {
        let r = try reply("txn_success")
        let out = String(decoding: try render(r, TxnOutput.output(for: TxnRequest(), hex: true), .simple), as: UTF8.self)
        XCTAssertTrue(out.hasPrefix("SUCCESS\n\n\\x6b\n\\x76\n\nOK\n\\x6f\\x6c\\x64\n\\x6f\\x31\n\n2\n"), out)
    }

    /// etch's JSON line: one object per txn, the operations in order, keys and values as text (or base64),
    /// IDs as strings, no value where `get --keys-only` asked for none.
    func testJSONLinesIsOneObjectWithItsOperations() throws {
        let failure: [RequestOp] = [.range(RangeRequest(key: Array("a\n\"b".utf8))),
                                    .range({ var g = RangeRequest(key: Array("k".utf8)); g.keysOnly = true; return g }()),
                                    .put(PutRequest(key: Array("n1".utf8), value: Array("v1".utf8))),
                                    .deleteRange(DeleteRangeRequest(key: Array("nokey".utf8)))]
        let output = TxnOutput.output(for: TxnRequest(failure: failure), hex: false)
        let line = String(decoding: try render(reply("txn_failure"), output, .jsonl), as: UTF8.self)
        XCTAssertEqual(line, #"{"succeeded":false,"revision":4,"cluster_id":"9121908945416876401","member_id":"9365128145193132932","raft_term":2,"responses":[{"op":"get","count":1,"more":false,"kvs":[{"key":"a\n\"b","value":"x\ty","create_revision":3,"mod_revision":3,"version":1}]},{"op":"get","count":1,"more":false,"kvs":[{"key":"k","create_revision":2,"mod_revision":2,"version":1}]},{"op":"put"},{"op":"del","deleted":0}]}"# + "\n")
        let success = String(decoding: try render(reply("txn_success"), TxnOutput.output(for: TxnRequest(), hex: false), .jsonl), as: UTF8.self)
        XCTAssertTrue(success.contains(#"{"op":"put","prev_kv":{"key":"old","value":"o1","create_revision":3,"mod_revision":3,"version":1}}"#), success)
        XCTAssertTrue(success.contains(#"{"op":"del","deleted":2,"prev_kvs":[{"key":"gone/a","value":"1","#), success)
        let binary = TxnResponse(succeeded: true, responses: [.range(RangeResponse(kvs: [KeyValue(key: [0xFF], value: [0xC3, 0x28], lease: 0x694d77aa9e38260f)], count: 1))])
        let b = String(decoding: try render(binary, output, .jsonl), as: UTF8.self)
        XCTAssertTrue(b.contains(#"{"key_base64":"/w==","value_base64":"wyg=","create_revision":0,"mod_revision":0,"version":0,"lease":"694d77aa9e38260f"}"#), b)
    }
}
