@testable import EtchGateway
import XCTest

/// The byte-level decoder of events and key-values must give what the general path (`JSONParser` and the models'
/// `init(json:)`) gives for every input: the same value, or the same error, by falling back to it.
final class FastDecodeTests: XCTestCase {
    let plain = [
        #"{"kv":{"key":"L2JlbmNoLzAwMDAwMDA=","create_revision":"2","mod_revision":"2","version":"1","value":"dmFsdWU="}}"#,
        #"{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"9223372036854775806"}}"#,
        #"{"kv":{"key":"YQ==","create_revision":"2","mod_revision":"3","version":"2","value":"djI=","lease":"7587868170424176386"},"prev_kv":{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"djE="}}"#,
        #"{"type":"PUT","kv":{"key":"YQ","create_revision":5,"mod_revision":5,"version":1,"value":"-_8"}}"#,
        #" { "kv" : { "key" : "YQ==" , "lease" : "-5" } } "#,
        #"{}"#, #"{"kv":{}}"#, #"{"kv":{"key":"","value":""}}"#,
    ]
    /// Shapes the fast path leaves to the general one (some decode there, some are refused there).
    let others = [
        #"{"kv":{"key":"YQ==","mod_revision":"007"}}"#, #"{"kv":{"key":"YQ==","mod_revision":"+7"}}"#,
        #"{"kv":{"key":"YQ==","mod_revision":"-7"}}"#, #"{"kv":{"key":"YQ==","mod_revision":"9223372036854775807"}}"#,
        #"{"kv":{"key":"YQ==","mod_revision":"99999999999999999999"}}"#, #"{"kv":{"key":"YQ==","version":"-1"}}"#,
        #"{"kv":{"key":"YQ==","mod_revision":1e3}}"#, #"{"kv":{"key":"YQ==","mod_revision":1.0}}"#,
        #"{"kv":{"key":"YQ==","mod_revision":null}}"#, #"{"kv":null}"#, #"{"kv":{"key":null}}"#,
        #"{"kv":{"key":"Y\u0051=="}}"#, #"{"kv":{"key":"YQ=","value":"!!!!"}}"#, #"{"kv":{"key":7}}"#,
        #"{"kv":{"key":"YQ==","key":"Yg=="}}"#, #"{"kv":{"key":"YQ=="},"kv":{"key":"Yg=="}}"#,
        #"{"type":"DELETE","type":"PUT","kv":{}}"#, #"{"type":1,"kv":{}}"#, #"{"type":0}"#, #"{"type":"delete"}"#,
        #"{"kv":{"key":"YQ==","extra":[1,{"a":"\"}"}]}}"#, #"{"future":true,"kv":{"key":"YQ=="}}"#,
        #"{"kv":{"key":"YQ==""#, #"{"kv":{"key":"YQ=="}}}"#, #"{"kv":{"key":"YQ==",}}"#, #"{"kv":["YQ=="]}"#,
#"{"kv":{"key"value":"YQ=="}}"#, #"{"type"kv":{}}"#, #"{"kv":{"keys":"YQ=="}}"#, #"{"kv":{"ke":"YQ=="}}"#,
                "{\"kv\":{\"key\":\"Y\u{1}Q==\"}}", #"{"kv":{"key":"YQ==","mod_revision":"5 "}}"#, #"{"kv":{"kéy":"YQ=="}}"#,
    ]

    enum Outcome: Equatable {
        case success(Event)
        case failure(String)
    }

    func general(_ text: String) -> Outcome {
        do { return .success(try Event(json: JSONParser.parse(Array(text.utf8)))) } catch { return .failure("\(error)") }
    }

    func decoded(_ text: String) -> Outcome {
        do { return .success(try Array(text.utf8).withUnsafeBufferPointer { try Event.decode($0) }) } catch { return .failure("\(error)") }
    }

    func testPlainShapesTakeTheFastPathAndAgree() throws {
        for text in plain {
            let fast = Array(text.utf8).withUnsafeBufferPointer { FastDecode.event($0) }
            XCTAssertNotNil(fast, text)
            XCTAssertEqual(fast.map { Outcome.success($0) }, general(text), text)
            if let kvText = text.range(of: #"{"key""#).map({ String(text[$0.lowerBound...].prefix { $0 != "}" }) + "}" }) {
                let kv = Array(kvText.utf8).withUnsafeBufferPointer { FastDecode.keyValue($0) }
                XCTAssertEqual(kv, try KeyValue(json: JSONParser.parse(Array(kvText.utf8))), kvText)
            }
        }
    }

    func testEveryOtherShapeDecodesOrFailsAsTheGeneralPathDoes() {
        for text in others + plain {
            XCTAssertEqual(decoded(text), general(text), text)
        }
        for text in others where text != #"{"type":0}"# && text != #"{"kv":null}"# {
            XCTAssertNil(Array(text.utf8).withUnsafeBufferPointer { FastDecode.event($0) }, "left to the general path: \(text)")
        }
    }

    /// The scanner that finds event objects as bytes arrive, fed a stream cut at every byte: the same objects.
    func testScannerFindsTheSameObjectsWhereverTheBytesSplit() {
        let array = #"{"kv":{"key":"YQ=="}} ,{"a":"x\"}{\\","b":{"c":"}"}},{"d":"\\\\"}]"#
        let bytes = Array(array.utf8)
        func objects(_ cuts: [Int]) -> [String] {
            var found: [String] = []
            var scanner = JSONArrayScanner()
            var buffer: [UInt8] = []
            for (a, b) in zip([0] + cuts, cuts + [bytes.count]) {
                buffer += bytes[a..<b]
                buffer.withUnsafeBufferPointer { scanner.scan($0) { found.append(String(decoding: $0, as: UTF8.self)); return true } }
            }
            XCTAssertTrue(scanner.ended)
            XCTAssertFalse(scanner.foundNonObject)
            return found
        }
        let whole = objects([])
        XCTAssertEqual(whole, [#"{"kv":{"key":"YQ=="}}"#, #"{"a":"x\"}{\\","b":{"c":"}"}}"#, #"{"d":"\\\\"}"#])
        for k in 0...bytes.count { XCTAssertEqual(objects([k]), whole, "cut at \(k)") }
        XCTAssertEqual(objects(Array(1..<bytes.count)), whole, "a byte at a time")
        var s = JSONArrayScanner()
        Array(#"{"a":1},"x"]"#.utf8).withUnsafeBufferPointer { s.scan($0) { _ in true } }
        XCTAssertTrue(s.foundNonObject)
    }

    func testBase64EncodesIntoMemoryAsRFC4648() {
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                                 ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            let src = Array(plain.utf8)
            var dst = [UInt8](repeating: 0, count: Base64.encodedCount(src.count))
            let n = src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { Base64.encode(s, to: $0.baseAddress!) } }
            XCTAssertEqual(String(decoding: dst[..<n], as: UTF8.self), encoded)
            XCTAssertEqual(Base64.encode(src), encoded)
            XCTAssertEqual(Base64.decode(encoded), src)
        }
        let all = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        XCTAssertEqual(Base64.decode(Base64.encode(all)), all)
    }
}

/// Strings the fast path does not take (a quote, backslash or control character at any offset) are left to the
/// general path.
final class FastDecodeStringTests: XCTestCase {
    func testSpecialBytesAreFoundAtEveryOffset() {
        for length in 0..<40 {
            for (special, name) in [("\\\"", "escaped quote"), ("\\\\", "escaped backslash"), ("\\u0041", "unicode escape"), ("\u{1}", "control")] {
                for at in 0...length {
                    var key = String(repeating: "Q", count: length)
                    key.insert(contentsOf: special, at: key.index(key.startIndex, offsetBy: at))
                    let text = #"{"kv":{"key":""# + key + #"","mod_revision":"3"}}"#
                    XCTAssertNil(Array(text.utf8).withUnsafeBufferPointer { FastDecode.event($0) }, "\(name) at \(at) of \(length)")
                }
            }
            let plain = #"{"kv":{"key":""# + String(repeating: "QUFB", count: length) + #"","mod_revision":"3"}}"#
            let e = Array(plain.utf8).withUnsafeBufferPointer { FastDecode.event($0) }
            XCTAssertEqual(e?.kv.key.count, length * 3)
            XCTAssertEqual(e?.kv.modRevision, 3)
            // An escape that stands for a base64 character ("\u0051" is "Q", "\/" is "/") is valid JSON: the
            // general path reads it and decodes what it stands for.
            for at in 0...length {
                for (escape, character) in [("\\u0051", "Q"), ("\\/", "/")] {
                    let groups = String(repeating: "QUFB", count: length + 1)
                    let position = groups.index(groups.startIndex, offsetBy: at * 4)
                    var plainKey = groups, escapedKey = groups
                    plainKey.replaceSubrange(position...position, with: character)
                    escapedKey.replaceSubrange(position...position, with: escape)
                    let bytes = Array((#"{"kv":{"key":""# + escapedKey + #"","mod_revision":"3"}}"#).utf8)
                    XCTAssertNil(bytes.withUnsafeBufferPointer { FastDecode.event($0) }, escapedKey)
                    XCTAssertEqual(try bytes.withUnsafeBufferPointer { try Event.decode($0) }.kv.key, Base64.decode(plainKey), escapedKey)
                }
            }
        }
    }
}
