import Foundation
import Glibc
import XCTest
import EtchTestSupport

/// Values up to etcd's request limit and keys made of any bytes, against a real etcd, side by side with
/// etcdctl: argv carries keys byte for byte (every byte but NUL), stdin carries values byte for byte, and
/// keys with NUL (written through the gateway) print as etcdctl prints them.
final class LargeValueAndBinaryKeyTests: XCTestCase {
    var cluster: EtcdCluster!

    override func setUpWithError() throws { cluster = try EtcdCluster() }
    override func tearDown() { cluster?.stop() }

    /// Runs etch (or etcdctl) with raw argv bytes against the test cluster.
    func run(_ tool: String, _ args: [[UInt8]], stdin: [UInt8]? = nil) -> RawOutcome {
        let argv = [Array(tool.utf8), Array("--endpoints=\(cluster.endpoint)".utf8)] + args
        return runRaw(tool, argv: argv, environment: rawEnvironment(), stdin: stdin, timeout: 60)
    }
    func etchRaw(_ args: [[UInt8]], stdin: [UInt8]? = nil) -> RawOutcome { run(etchBinary, args, stdin: stdin) }
    func etcdctl(_ args: [[UInt8]], stdin: [UInt8]? = nil) -> RawOutcome { run("/usr/bin/etcdctl", args, stdin: stdin) }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Arbitrary bytes, every value 0...255 included, from a fixed seed.
    func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            var word = rng.next()
            for _ in 0..<8 where i < count {
                out[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        return out
    }

    func testValueJustUnderTheRequestLimitRoundTrips() throws {
        // etcd's default --max-request-bytes is 1.5 MiB; 1.4 MiB of value leaves room for the rest of the request.
        let value = randomBytes(1_468_006, seed: 14)
        XCTAssertEqual(Set(value).count, 256, "every byte value occurs")
        let put = etchRaw([bytes("put"), bytes("big")], stdin: value)
        XCTAssertEqual(put.exitStatus, 0, put.stderrText)
        XCTAssertEqual(put.stdoutText, "OK\n")
        let got = etchRaw([bytes("get"), bytes("big"), bytes("--print-value-only")])
        XCTAssertEqual(got.exitStatus, 0, got.stderrText)
        XCTAssertEqual(got.stdout.count, value.count + 1)
        XCTAssertTrue(got.stdout == value + [0x0A], "the value comes back byte for byte")
        let reference = etcdctl([bytes("get"), bytes("big"), bytes("--print-value-only")])
        XCTAssertTrue(reference.stdout == got.stdout, "etcdctl reads the same bytes")
        let json = etchRaw([bytes("get"), bytes("big"), bytes("-w"), bytes("json")])
        let reply = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any]
        let kv = (reply?["kvs"] as? [[String: Any]])?.first
        XCTAssertEqual(Data(base64Encoded: kv?["value"] as? String ?? "").map(Array.init), value, "and through -w json")
    }

    func testValueJustOverTheRequestLimitIsAClearError() throws {
        XCTAssertEqual(etchRaw([bytes("put"), bytes("big"), bytes("before")]).exitStatus, 0)
        let value = randomBytes(1_572_864 + 1, seed: 15)
        let put = etchRaw([bytes("put"), bytes("big")], stdin: value)
        let reference = etcdctl([bytes("put"), bytes("big")], stdin: value)
        XCTAssertEqual(put.exitStatus, 1, put.stderrText)
        XCTAssertEqual(put.stdoutText, "")
        XCTAssertEqual(put.stderrText, "Error: etcdserver: request is too large\n")
        // etcdctl logs a retry warning first; its last line is the error.
        XCTAssertEqual(put.stderrText, (reference.stderrText.split(separator: "\n").last ?? "") + "\n", "the message etcdctl prints")
        XCTAssertEqual(reference.exitStatus, 1)
        // Beyond the server's gRPC limit (max request + 512 KiB) the gateway refuses it before etcd sees it.
        let huge = etchRaw([bytes("put"), bytes("big")], stdin: randomBytes(2_200_000, seed: 16))
        XCTAssertEqual(huge.exitStatus, 1)
        XCTAssertTrue(huge.stderrText.hasPrefix("Error: grpc: received message larger than max") && huge.stderrText.filter { $0 == "\n" }.count == 1, huge.stderrText)
        XCTAssertEqual(etchRaw([bytes("get"), bytes("big"), bytes("--print-value-only")]).stdoutText, "before\n", "nothing was written")
    }

    /// Keys from argv with bytes 0x01...0xFF: invalid UTF-8, newlines, U+FFFD itself, and the UTF-8 of the
    /// private-use scalar etch uses internally to carry invalid bytes.
    let argvKeys: [[UInt8]] = [
        Array(1...255),
        [0xFF], [0xFE, 0xFF], [0x80], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80],
        [0x62, 0x0A, 0x61], [0x0A], [0x0D, 0x0A], [0x09, 0x1B, 0x5B, 0x32, 0x4A],
        [0xEF, 0xBF, 0xBD], [0xF4, 0x8F, 0xBA, 0x80], [0x6B, 0xF4, 0x8F, 0xBB, 0xBF],
        Array("ключ/日本/🙂".utf8),
    ]

    func testBinaryKeysAndValuesFromArgvRoundTrip() throws {
        for (i, key) in argvKeys.enumerated() {
            let value: [UInt8] = [0xFE, 0x01, 0x0A] + key.reversed()
            let put = etchRaw([bytes("put"), key, value])
            XCTAssertEqual(put.exitStatus, 0, "key \(i): \(put.stderrText)")
            // etcdctl reads back exactly the bytes given: as a key in argv and as base64 in JSON.
            let json = etcdctl([bytes("get"), key, bytes("-w"), bytes("json")])
            let reply = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any]
            let kv = (reply?["kvs"] as? [[String: Any]])?.first
            XCTAssertEqual(Data(base64Encoded: kv?["key"] as? String ?? "").map(Array.init), key, "key \(i) as written by etch")
            XCTAssertEqual(Data(base64Encoded: kv?["value"] as? String ?? "").map(Array.init), value, "value \(i) as written by etch")
            // And etch prints it as etcdctl does, in every format.
            for format in [[], [bytes("-w"), bytes("json")], [bytes("-w"), bytes("fields")], [bytes("--hex")], [bytes("--print-value-only")]] {
                let mine = etchRaw([bytes("get"), key] + format)
                let theirs = etcdctl([bytes("get"), key] + format)
                XCTAssertEqual(mine.exitStatus, 0, "key \(i) \(format.map { String(decoding: $0, as: UTF8.self) }): \(mine.stderrText)")
                XCTAssertFalse(mine.stdout.isEmpty, "key \(i) found")
                XCTAssertTrue(mine.stdout == theirs.stdout, "key \(i) \(format.map { String(decoding: $0, as: UTF8.self) }): etch \(mine.stdoutText.debugDescription) etcdctl \(theirs.stdoutText.debugDescription)")
            }
            // A key etcdctl wrote, read and deleted by etch.
            let other = key + [0xFF]
            XCTAssertEqual(etcdctl([bytes("put"), other, value]).exitStatus, 0)
            XCTAssertTrue(etchRaw([bytes("get"), other, bytes("--print-value-only")]).stdout == value + [0x0A], "key \(i) + 0xFF written by etcdctl")
            XCTAssertEqual(etchRaw([bytes("del"), other]).stdoutText, "1\n", "key \(i) + 0xFF deleted by etch")
        }
        // The whole set through --prefix and range ends given as raw bytes.
        let all = etchRaw([bytes("get"), [0x01], [0xFF, 0xFF], bytes("-w"), bytes("json")])
        let reference = etcdctl([bytes("get"), [0x01], [0xFF, 0xFF], bytes("-w"), bytes("json")])
        XCTAssertTrue(all.stdout == reference.stdout, "\(all.stdoutText.prefix(200)) vs \(reference.stdoutText.prefix(200))")
        let reply = try JSONSerialization.jsonObject(with: Data(all.stdout)) as? [String: Any]
        XCTAssertEqual((reply?["kvs"] as? [Any])?.count, argvKeys.count)
    }

    /// Keys with NUL cannot come from argv; written through the gateway, they print as etcdctl prints them.
    func testKeysWithNULPrintAsEtcdctlPrintsThem() throws {
        let keys: [[UInt8]] = [[0x6E, 0x00], [0x6E, 0x00, 0xFF, 0x0A, 0x00], [0x6E, 0x00, 0x00], [0x6E, 0xFF, 0x00, 0x01]]
        for key in keys {
            let body = #"{"key":"\#(Data(key).base64EncodedString())","value":"\#(Data([0x00] + key).base64EncodedString())"}"#
            let r = try runProcess("/usr/bin/curl", ["-sf", "-XPOST", "http://\(cluster.endpoint)/v3/kv/put", "-d", body])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        for format in [[], [bytes("-w"), bytes("json")], [bytes("-w"), bytes("fields")], [bytes("--hex")], [bytes("--keys-only")]] {
            let mine = etchRaw([bytes("get"), bytes("--prefix"), bytes("n")] + format)
            let theirs = etcdctl([bytes("get"), bytes("--prefix"), bytes("n")] + format)
            XCTAssertEqual(mine.exitStatus, 0, mine.stderrText)
            XCTAssertTrue(mine.stdout == theirs.stdout, "\(format.map { String(decoding: $0, as: UTF8.self) }): etch \(mine.stdoutText.debugDescription) etcdctl \(theirs.stdoutText.debugDescription)")
        }
        let json = etchRaw([bytes("get"), bytes("--prefix"), bytes("n"), bytes("-w"), bytes("json")])
        let reply = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any]
        let got = (reply?["kvs"] as? [[String: Any]] ?? []).compactMap { Data(base64Encoded: $0["key"] as? String ?? "").map(Array.init) }
        XCTAssertEqual(got, keys.sorted { $0.lexicographicallyPrecedes($1) })
        let hex = etchRaw([bytes("get"), bytes("--prefix"), bytes("n"), bytes("--hex"), bytes("--keys-only")]).stdoutText
        XCTAssertTrue(hex.hasPrefix("\\x6e\\x00\n\n"), hex)
        // A watch sees NUL keys as it sees any other.
        let watch = etchRaw([bytes("watch"), bytes("--prefix"), bytes("n"), bytes("--rev"), bytes("1"), bytes("--max-events"), bytes("4"), bytes("--hex"), bytes("--timeout"), bytes("10s")])
        XCTAssertEqual(watch.exitStatus, 0, watch.stderrText)
        XCTAssertTrue(watch.stdoutText.hasPrefix("PUT\n\\x6e\\x00\n\\x00\\x6e\\x00\n"), watch.stdoutText)
    }
}
