import EtchGateway
@testable import EtchOutput
import Foundation
import XCTest

/// The golden watch streams again, but read the way a large catch-up is: through `WatchStreamDecoder` with a
/// threshold so small that every message with events is decoded event by event as its bytes arrive, cut into
/// two chunks at every byte (and fed a byte at a time), each part printed as it comes. The output must be
/// etcdctl's, byte for byte, wherever the chunks split.
final class StreamedGoldenTests: XCTestCase {
    /// Parts handed on by the decoder: the streamed path was taken.
    var partsSeen = 0

    /// Feeds `input` in the given chunks and prints every piece as `etch watch` would.
    func render(_ input: [UInt8], chunks: [Range<Int>], printer: Printer, threshold: Int) throws -> [UInt8] {
        var decoder = WatchStreamDecoder(streamThreshold: threshold)
        let out = OutputBuffer()
        var failure: Error?
        func route(_ piece: WatchStreamDecoder.Piece) {
            switch piece {
            case let .line(line):
                do {
                    let response = try WatchResponse(json: XCTUnwrap(JSONParser.parse(line)["result"]))
                    if response.created && !response.canceled { return }
                    printer.watch(response, to: out)
                } catch { failure = error }
            case let .part(response):
                partsSeen += 1
                printer.watch(response, to: out)
            }
        }
        for r in chunks { Array(input[r]).withUnsafeBytes { decoder.feed($0, route) } }
        decoder.finish(route)
        if let failure { throw failure }
        XCTAssertNil(decoder.error)
        return out.bytes
    }

    func watchScenarios() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: GoldenPrinterTests.fixtures.path)
            .filter { $0.hasPrefix("watch") && $0.hasSuffix(".gateway.json") }.map { String($0.dropLast(".gateway.json".count)) }.sorted()
    }

    func testEverySplitOfEveryWatchStreamPrintsTheGoldenBytes() throws {
        let fixtures = GoldenPrinterTests.fixtures
        var compared = 0
        for scenario in try watchScenarios() {
            let input = Array(try Data(contentsOf: fixtures.appendingPathComponent("\(scenario).gateway.json")))
            for format in [OutputFormat.simple, .json, .fields, .protobuf] {
                guard let expected = try? Data(contentsOf: fixtures.appendingPathComponent("\(scenario).\(format.rawValue)")) else { continue }
                let printer = makePrinter(format, hex: scenario.contains("hex"), valueOnly: false)
                // 150 bytes: just above the longest header before "events":[, so messages with events stream.
                // Every split for json (the bytes of a part's edges: brackets and commas); every 50th for the
                // others, to keep the test quick; and a byte at a time for all.
                // (The _hex scenarios have the same input as their plain twins: only --hex output differs.)
                let step = format == .json && !scenario.hasSuffix("_hex") ? 1 : 50
                var splits = stride(from: 0, through: input.count, by: step).map { [0..<$0, $0..<input.count] }
                splits.append((0..<input.count).map { $0..<($0 + 1) })
                for chunks in splits {
                    let got = try render(input, chunks: chunks, printer: printer, threshold: 150)
                    if got != Array(expected) {
                        XCTFail("\(scenario).\(format.rawValue), chunks \(chunks.prefix(2)): \(String(decoding: got, as: UTF8.self))")
                        break
                    }
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 7_000, "fixtures went missing")
        XCTAssertGreaterThan(partsSeen, compared, "messages were streamed in parts")
    }

    /// jsonl has no etcdctl golden file: a message streamed in parts prints what the whole message prints.
    func testJSONLinesOfStreamedPartsEqualTheWholeMessage() throws {
        var lines = 0
        for scenario in try watchScenarios() {
            let input = Array(try Data(contentsOf: GoldenPrinterTests.fixtures.appendingPathComponent("\(scenario).gateway.json")))
            let printer = makePrinter(.jsonl, hex: false, valueOnly: false)
            let whole = try render(input, chunks: [0..<input.count], printer: printer, threshold: 1 << 30)
            lines += whole.filter { $0 == 0x0A }.count
            for k in stride(from: 0, through: input.count, by: 10) {
                XCTAssertEqual(try render(input, chunks: [0..<k, k..<input.count], printer: printer, threshold: 150), whole, "\(scenario) split at \(k)")
            }
        }
        XCTAssertGreaterThan(lines, 40, "fixtures went missing")
    }
}
