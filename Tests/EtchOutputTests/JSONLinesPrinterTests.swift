import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// `-w jsonl`: one JSON object per line, UTF-8 text as strings, anything else base64, IDs as strings.
final class JSONLinesPrinterTests: XCTestCase {
    func text(_ print: (OutputBuffer) -> Void) -> String {
        let out = OutputBuffer()
        print(out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// Every line parses as a JSON object on its own (what jq needs).
    func objects(_ s: String) throws -> [[String: Any]] {
        try s.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }
    }

    let header = ResponseHeader(clusterID: UInt64.max, memberID: 10_608_898_954_038_455_804, revision: 42, raftTerm: 3)

    func testGetPrintsOneLinePerKeyValueWithTextOrBase64() throws {
        let r = RangeResponse(header: header, kvs: [
            KeyValue(key: Array("a".utf8), createRevision: 2, modRevision: 5, version: 3, value: Array("1".utf8)),
            KeyValue(key: [0xFF, 0x00, 0x41], createRevision: 6, modRevision: 6, version: 1, value: [0xC3, 0x28]),
            KeyValue(key: Array("caf\u{e9} \u{1F389}".utf8), createRevision: 7, modRevision: 7, version: 1,
                     value: Array("q\"uo\\te\n\t\u{1}".utf8), lease: 0x694d_77aa_9e38_260f),
            KeyValue(key: Array("empty".utf8), createRevision: 8, modRevision: 8, version: 1),
        ], count: 4)
        let s = text { JSONLinesPrinter().get(r, to: $0) }
        XCTAssertEqual(s, """
        {"key":"a","value":"1","create_revision":2,"mod_revision":5,"version":3}
        {"key_base64":"/wBB","value_base64":"wyg=","create_revision":6,"mod_revision":6,"version":1}
        {"key":"café 🎉","value":"q\\"uo\\\\te\\n\\t\\u0001","create_revision":7,"mod_revision":7,"version":1,"lease":"694d77aa9e38260f"}
        {"key":"empty","value":"","create_revision":8,"mod_revision":8,"version":1}

        """)
        let parsed = try objects(s)
        XCTAssertEqual(parsed.count, 4)
        XCTAssertEqual(parsed[2]["value"] as? String, "q\"uo\\te\n\t\u{1}", "escapes decode back to the bytes")
        XCTAssertEqual(Base64.decode(parsed[1]["key_base64"] as! String), [0xFF, 0x00, 0x41], "binary keys lose nothing")
        XCTAssertNil(parsed[1]["key"], "a binary key is not also given as text")
    }

    /// The eight-bytes-at-a-time check agrees with the byte-by-byte rule for every byte value at every offset
    /// of a word and of the tail.
    func testPlainASCIICheckFindsEveryByteThatNeedsEscapingAtEveryOffset() {
        func reference(_ b: [UInt8]) -> Bool {
            b.allSatisfy { $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        for length in 1..<26 {
            for at in 0..<length {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[at] = UInt8(value)
                    XCTAssertEqual(JSONLinesPrinter.isPlainASCII(bytes), reference(bytes), "\(value) at \(at) of \(length)")
                }
            }
        }
        XCTAssertTrue(JSONLinesPrinter.isPlainASCII([]))
        XCTAssertTrue(JSONLinesPrinter.isPlainASCII(Array((0x20..<0x80).map { UInt8($0) }.filter { $0 != 0x22 && $0 != 0x5C })))
    }

    func testInvalidUTF8IsNeverPrintedAsText() {
        // Overlong, surrogate, truncated, out of range, stray continuation: each must go to base64.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80], [0x61, 0xFE]] {
            XCTAssertFalse(JSONLinesPrinter.isValidUTF8(bad), "\(bad)")
        }
        for good in ["", "plain", "é", "€", "🎉", "\u{0}"] {
            XCTAssertTrue(JSONLinesPrinter.isValidUTF8(Array(good.utf8)), good)
        }
    }

    func testKeysOnlyOmitsTheValueTheServerDidNotSend() {
        let r = RangeResponse(header: header, kvs: [KeyValue(key: Array("k".utf8), createRevision: 2, modRevision: 2, version: 1)], count: 1)
        XCTAssertEqual(text { JSONLinesPrinter(keysOnly: true).get(r, to: $0) },
                       "{\"key\":\"k\",\"create_revision\":2,\"mod_revision\":2,\"version\":1}\n")
    }

    func testNoKeysPrintNothing() {
        XCTAssertEqual(text { JSONLinesPrinter().get(RangeResponse(header: header), to: $0) }, "")
    }

    func testHugeIDsAreStringsThatKeepEveryDigit() throws {
        let s = text { JSONLinesPrinter().put(PutResponse(header: header), to: $0) }
        XCTAssertEqual(s, "{\"revision\":42,\"cluster_id\":\"18446744073709551615\",\"member_id\":\"10608898954038455804\",\"raft_term\":3}\n")
        let o = try objects(s)[0]
        XCTAssertEqual(o["cluster_id"] as? String, "18446744073709551615")
        XCTAssertEqual(o["revision"] as? Int, 42, "revisions are numbers")
        let lease = KeyValue(key: [0x6B], createRevision: 1, modRevision: 1, version: 1, value: [0x76], lease: Int64.max)
        XCTAssertTrue(text { JSONLinesPrinter().get(RangeResponse(kvs: [lease]), to: $0) }.contains("\"lease\":\"7fffffffffffffff\""))
    }

    func testPutWithPrevKVAndDeleteWithPrevKVs() {
        let prev = KeyValue(key: Array("k".utf8), createRevision: 2, modRevision: 4, version: 2, value: Array("old".utf8))
        XCTAssertEqual(text { JSONLinesPrinter().put(PutResponse(header: header, prevKV: prev), to: $0) },
                       "{\"revision\":42,\"cluster_id\":\"18446744073709551615\",\"member_id\":\"10608898954038455804\",\"raft_term\":3,"
                           + "\"prev_kv\":{\"key\":\"k\",\"value\":\"old\",\"create_revision\":2,\"mod_revision\":4,\"version\":2}}\n")
        let del = DeleteRangeResponse(header: header, deleted: 2, prevKVs: [prev, KeyValue(key: [0xFF], value: [0x61])])
        XCTAssertEqual(text { JSONLinesPrinter().delete(del, to: $0) },
                       "{\"deleted\":2,\"revision\":42,\"cluster_id\":\"18446744073709551615\",\"member_id\":\"10608898954038455804\",\"raft_term\":3,"
                           + "\"prev_kvs\":[{\"key\":\"k\",\"value\":\"old\",\"create_revision\":2,\"mod_revision\":4,\"version\":2},"
                           + "{\"key_base64\":\"/w==\",\"value\":\"a\",\"create_revision\":0,\"mod_revision\":0,\"version\":0}]}\n")
        XCTAssertEqual(text { JSONLinesPrinter().delete(DeleteRangeResponse(header: ResponseHeader(revision: 9)), to: $0) },
                       "{\"deleted\":0,\"revision\":9,\"cluster_id\":\"0\",\"member_id\":\"0\",\"raft_term\":0}\n")
    }

    func testWatchPrintsOneLinePerEventWhateverTheParts() throws {
        let put = Event(type: .put, kv: KeyValue(key: Array("a".utf8), createRevision: 2, modRevision: 3, version: 2, value: Array("x".utf8)),
                        prevKV: KeyValue(key: Array("a".utf8), createRevision: 2, modRevision: 2, version: 1, value: Array("w".utf8)))
        let del = Event(type: .delete, kv: KeyValue(key: Array("a".utf8), modRevision: 4))
        let whole = WatchResponse(header: header, events: [put, del])
        let expected = """
        {"type":"PUT","key":"a","value":"x","create_revision":2,"mod_revision":3,"version":2,"prev_kv":{"key":"a","value":"w","create_revision":2,"mod_revision":2,"version":1}}
        {"type":"DELETE","key":"a","mod_revision":4}

        """
        XCTAssertEqual(text { JSONLinesPrinter().watch(whole, to: $0) }, expected)
        var first = WatchResponse(header: header, events: [put]); first.part = .first
        var last = WatchResponse(header: header, events: [del]); last.part = .last
        XCTAssertEqual(text { JSONLinesPrinter().watch(first, to: $0); JSONLinesPrinter().watch(last, to: $0) }, expected)
        let types = try objects(expected).map { $0["type"] as? String }
        XCTAssertEqual(types, ["PUT", "DELETE"])
        XCTAssertEqual(text { JSONLinesPrinter().progressNotify(revision: 77, to: $0) }, "{\"type\":\"PROGRESS\",\"revision\":77}\n")
        XCTAssertEqual(text { SimplePrinter(hex: false, valueOnly: false).progressNotify(revision: 77, to: $0) }, "progress notify: 77\n",
                       "etcdctl's formats keep etcdctl's line")
    }

    func testPagedGetPrintsWhatOneGetPrints() {
        let kvs = (0..<10).map { KeyValue(key: Array("k\($0)".utf8), createRevision: Int64($0) + 2, modRevision: Int64($0) + 2, version: 1, value: [0xFF, UInt8($0)]) }
        let whole = text { JSONLinesPrinter().get(RangeResponse(header: header, kvs: kvs, count: 10), to: $0) }
        let paged = text { out in
            let p = JSONLinesPrinter()
            p.getBegin(header, to: out)
            p.getPage(Array(kvs[0..<4]), first: true, to: out)
            p.getPage(Array(kvs[4...]), first: false, to: out)
            p.getEnd(more: false, count: 10, anyKVs: true, to: out)
        }
        XCTAssertEqual(paged, whole)
        XCTAssertEqual(whole.split(separator: "\n").count, 10)
    }
}
