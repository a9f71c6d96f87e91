@testable import EtchCLI
import EtchOutput
import XCTest
import EtchTestSupport

/// Arguments are bytes: every byte string survives decoding to a String and back, as argv does for etcdctl.
final class RawArgumentTests: XCTestCase {
    func testValidUTF8IsUnchanged() {
        for text in ["", "k", "/jobs/é", "日本", "emoji 🙂", "\u{10FFFD}", "a\u{7F}b"] {
            XCTAssertEqual(RawArgument.decode(Array(text.utf8)), text)
            XCTAssertEqual(RawArgument.bytes(text), Array(text.utf8))
        }
    }

    func testInvalidBytesRoundTrip() {
        let cases: [[UInt8]] = [
            [0xFF], [0xFE, 0xFF], [0x80], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xF0, 0x9F, 0x99], [0xED, 0xA0, 0x80],
            [0xC0, 0xAF], [0xF5, 0x80, 0x80, 0x80], Array(1...255),
            // The UTF-8 of an escape scalar itself is escaped byte by byte, so it cannot be confused with one.
            [0xF4, 0x8F, 0xBA, 0x80], [0x61, 0xF4, 0x8F, 0xBB, 0xBF, 0x62],
        ]
        for bytes in cases {
            let text = RawArgument.decode(bytes)
            XCTAssertEqual(RawArgument.bytes(text), bytes, "\(bytes)")
        }
        XCTAssertEqual(RawArgument.decode([0x61, 0xFF, 0x62]).unicodeScalars.count, 3, "one scalar per invalid byte")
    }

    func testRandomBytesRoundTrip() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<5000 {
            let n = Int(rng.next() % 40)
            // Mostly high bytes, so invalid and valid multi-byte sequences both occur often.
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 3 == 0 ? rng.next() % 128 : 0x80 | rng.next()) }
            XCTAssertEqual(RawArgument.bytes(RawArgument.decode(bytes)), bytes)
        }
    }

    func testKeysAndValuesFromArgumentsKeepTheirBytes() throws {
        let key = RawArgument.decode([0x6B, 0xFF, 0x00 + 0x01, 0x0A])
        let value = RawArgument.decode([0xC3, 0x28])
        let put = try PutCommand.request(ArgumentParser(flags: PutCommand.spec.flags).parse([key, value]), readStdin: { [] })
        XCTAssertEqual(put.key, [0x6B, 0xFF, 0x01, 0x0A])
        XCTAssertEqual(put.value, [0xC3, 0x28])
        let get = try GetCommand.request(ArgumentParser(flags: GetCommand.spec.flags).parse([key, RawArgument.decode([0xFF, 0xFF])]))
        XCTAssertEqual(get.rangeEnd, [0xFF, 0xFF])
        let del = try DelCommand.request(ArgumentParser(flags: DelCommand.spec.flags).parse(["--prefix", RawArgument.decode([0xFE])]))
        XCTAssertEqual(del.key, [0xFE])
        XCTAssertEqual(del.rangeEnd, [0xFF])
        let watch = try WatchCommand.plan(ArgumentParser(flags: WatchCommand.spec.flags).parse([key]), environment: [:])
        XCTAssertEqual(watch.request.key, [0x6B, 0xFF, 0x01, 0x0A])
    }

    func testMessagesQuoteInvalidBytesAsGoDoes() {
        XCTAssertEqual(goQuote(RawArgument.decode([0x61, 0xFF, 0x0A])), #""a\xff\n""#)
        let out = OutputBuffer(), err = OutputBuffer()
        let code = EtchCommandLine.run(["get", "--rev", RawArgument.decode([0xFF])], environment: [:], stdout: out, stderr: err)
        XCTAssertEqual(code, .error)
        XCTAssertTrue(err.bytes.starts(with: Array(#"Error: invalid argument "\xff" for "--rev" flag"#.utf8)), String(decoding: err.bytes, as: UTF8.self))
        let unknown = OutputBuffer()
        _ = EtchCommandLine.run(["get", "--" + RawArgument.decode([0xFF])], environment: [:], stdout: out, stderr: unknown)
        XCTAssertTrue(unknown.bytes.starts(with: Array("Error: unknown flag: --".utf8) + [0xFF, 0x0A]), "a raw byte comes out as itself, as pflag prints it")
    }
}

/// Durations at the edge of Int64: out of range is an error, never a crash.
final class DurationLimitTests: XCTestCase {
    func testDurationsAtTheLimitOfInt64() {
        XCTAssertNil(GoDuration.parse("9223372036854775808ns"), "2^63 ns does not fit")
        XCTAssertNil(GoDuration.parse("9223372036854775807ns"), "rounds to 2^63 through Double: refused, not a trap")
        XCTAssertNil(GoDuration.parse("-9223372036854775808ns"))
        XCTAssertNil(GoDuration.parse("2562048h"))
        XCTAssertNil(GoDuration.parse("1" + String(repeating: "0", count: 400) + "s"), "infinity as a Double")
        XCTAssertEqual(GoDuration.parse("2562047h"), 2_562_047 * 3_600_000_000_000)
        let near = GoDuration.parse("9223372036854774000ns")
        XCTAssertNotNil(near)
        XCTAssertLessThan(abs((near ?? 0) - 9_223_372_036_854_774_000), 1024, "within a Double's precision")
    }

    func testMillisecondsOfHugeDurationsDoNotOverflow() {
        XCTAssertEqual(GoDuration.milliseconds(Int64.max), Int(Int64.max / 1_000_000) + 1)
        XCTAssertEqual(GoDuration.milliseconds(9_223_372_036_854_775_000), 9_223_372_036_855)
        XCTAssertEqual(GoDuration.milliseconds(1), 1, "a tiny positive timeout stays positive")
        XCTAssertEqual(GoDuration.milliseconds(2_000_000), 2)
        XCTAssertEqual(GoDuration.milliseconds(2_000_001), 3)
        XCTAssertEqual(GoDuration.milliseconds(0), 0)
        XCTAssertEqual(GoDuration.milliseconds(-5), 0)
    }
}
