@testable import EtchGateway
import XCTest

/// SHA-256 against FIPS 180-4's examples and Python's hashlib at the padding boundaries, fed whole and in
/// pieces of every size.
final class SHA256Tests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    func testKnownVectors() {
        XCTAssertEqual(hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Messages of 55, 56, 63, 64, 65, 119, 120 and 1000 bytes (byte i = i % 251), from hashlib.
    static let boundaries: [(Int, String)] = [
        (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
        (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
        (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
        (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
        (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
        (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
        (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
        (1000, "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d"),
    ]

    func testPaddingBoundariesWholeAndInPieces() {
        for (n, digest) in SHA256Tests.boundaries {
            let message = (0..<n).map { UInt8($0 % 251) }
            XCTAssertEqual(hex(SHA256.hash(message)), digest, "\(n) bytes whole")
            for piece in [1, 3, 31, 64, 65] {
                var h = SHA256()
                var i = 0
                while i < n { h.update(Array(message[i..<min(n, i + piece)])); i += piece }
                XCTAssertEqual(hex(h.finish()), digest, "\(n) bytes in pieces of \(piece)")
            }
        }
    }
}

/// The snapshot stream decoder on streams built here as etcd's gateway sends them.
final class SnapshotStreamDecoderTests: XCTestCase {
    /// A database of `size` bytes cut into blobs of `blob` bytes, with its digest as a last message.
    func stream(size: Int, blob: Int = 32 * 1024, digest: [UInt8]? = nil, remainingFirst: Bool = true) -> (db: [UInt8], body: [UInt8]) {
        let db = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        var body: [UInt8] = []
        func message(_ part: ArraySlice<UInt8>, remaining: Int) {
            let b64 = Base64.encode(part)
            let rem = remaining > 0 ? "\"remaining_bytes\":\"\(remaining)\"" : ""
            let fields = remainingFirst ? [rem, "\"blob\":\"\(b64)\""] : ["\"blob\":\"\(b64)\"", rem]
            body += Array("{\"result\":{\(fields.filter { !$0.isEmpty }.joined(separator: ","))}}\n".utf8)
        }
        var sent = 0
        while sent < size {
            let n = min(blob, size - sent)
            message(db[sent..<(sent + n)], remaining: size - sent - n)
            sent += n
        }
        message(ArraySlice(digest ?? SHA256.hash(db)), remaining: 0)
        return (db, body)
    }

    /// Feeds `body` in chunks of `chunk` bytes; returns the bytes sunk and the outcome.
    func decode(_ body: [UInt8], chunk: Int) -> ([UInt8], Result<SnapshotSummary, SnapshotError>) {
        var decoder = SnapshotStreamDecoder()
        var out: [UInt8] = []
        let sink: SnapshotByteSink = { out.append(contentsOf: $0) }
        var i = 0
        do throws(SnapshotError) {
            while i < body.count {
                let end = min(body.count, i + chunk)
                try Array(body[i..<end]).withUnsafeBytes { b in
                    Result { () throws(SnapshotError) in try decoder.feed(b, sink: sink) }
                }.get()
                i = end
            }
            return (out, .success(try decoder.finish(sink: sink)))
        } catch {
            return (out, .failure(error))
        }
    }

    func testDeliversEveryByteInOrderAndVerifies() throws {
        for (size, chunk) in [(100_000, 16 * 1024), (32 * 1024, 7), (1, 1000), (0, 5), (65 * 1024 + 3, 100_000)] {
            let (db, body) = stream(size: size)
            let (out, result) = decode(body, chunk: chunk)
            XCTAssertEqual(out, db + SHA256.hash(db), "\(size) bytes in chunks of \(chunk)")
            XCTAssertEqual(try result.get(), SnapshotSummary(size: Int64(size + 32), digest: SHA256.hash(db)))
        }
    }

    func testFieldOrderAndSmallBlobsDoNotMatter() throws {
        let (db, body) = stream(size: 5000, blob: 10, remainingFirst: false)
        let (out, result) = decode(body, chunk: 999)
        XCTAssertEqual(out, db + SHA256.hash(db))
        XCTAssertEqual(try result.get().size, 5032)
    }

    func testBadDigestIsAnError() {
        var wrong = SHA256.hash([1, 2, 3])
        wrong[0] ^= 1
        let (_, body) = stream(size: 70_000, digest: wrong)
        let (_, result) = decode(body, chunk: 4096)
        guard case .failure(.digestMismatch(let expected, _)) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(expected, wrong)
        XCTAssertTrue(SnapshotError.digestMismatch(expected: wrong, computed: wrong).message.contains("corrupt"))
    }

    func testFlippedDataBitIsAnError() {
        var (_, body) = stream(size: 70_000)
        // Change one base64 character inside the first blob ("A" <-> "B" changes one bit of the data).
        let at = body.firstIndex(of: UInt8(ascii: "A"))!
        body[at] = UInt8(ascii: "B")
        guard case .failure(.digestMismatch) = decode(body, chunk: 4096).1 else { return XCTFail("a flipped bit passed") }
    }

    func testCutStreamIsTruncated() {
        let (_, body) = stream(size: 100_000)
        // Cut after the second line.
        var newlines = 0
        let cut = body.firstIndex { $0 == 0x0A && { newlines += 1; return newlines == 2 }() }! + 1
        guard case .failure(.truncated(let received, let expected)) = decode(Array(body[..<cut]), chunk: 8192).1 else {
            return XCTFail("a cut stream passed")
        }
        XCTAssertEqual(received, 64 * 1024)
        XCTAssertEqual(expected, 100_032)
        guard case .failure(.tooShort) = decode([], chunk: 1).1 else { return XCTFail("an empty stream passed") }
    }

    func testInBandAndHTTPErrorsAreGatewayErrors() {
        let v1 = Array(#"{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}"#.utf8)
        let (_, first) = stream(size: 40_000)
        let firstLine = Array(first[...first.firstIndex(of: 0x0A)!])
        guard case .failure(.gateway(.server(14, "transport is closing", _))) = decode(firstLine + v1, chunk: 1000).1 else {
            return XCTFail("in-band error not reported")
        }
        let unary = Array(#"{"error":"etcdserver: user name is empty","code":3,"message":"etcdserver: user name is empty"}"#.utf8)
        guard case .failure(.gateway(.server(3, "etcdserver: user name is empty", _))) = decode(unary, chunk: 10).1 else {
            return XCTFail("error body not reported")
        }
    }

    func testMalformedMessages() {
        for bad in [#"{"result":{"blob":"!!!!"}}"#, "not json", #"{"result":{"remaining_bytes":"x1","blob":"AAAA"}}"#, #"[1]"#] {
            guard case .failure(.malformed) = decode(Array((bad + "\n").utf8), chunk: 3).1 else { return XCTFail(bad) }
        }
        // More bytes than the first message announced.
        let line = #"{"result":{"remaining_bytes":"1","blob":"AAAA"}}"# + "\n"
        guard case .failure(.malformed) = decode(Array(String(repeating: line, count: 20).utf8), chunk: 50).1 else { return XCTFail("overrun passed") }
    }

    func testSinkErrorStopsTheStream() {
        let (_, body) = stream(size: 100_000)
        var decoder = SnapshotStreamDecoder()
        var calls = 0
        let result = body.withUnsafeBytes { b in
            Result { () throws(SnapshotError) in
                try decoder.feed(b) { (_: UnsafeRawBufferPointer) throws(SnapshotError) in
                    calls += 1
                    throw .sink("disk full")
                }
            }
        }
        guard case .failure(.sink("disk full")) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(calls, 1)
    }
}
