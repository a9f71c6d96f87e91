@testable import EtchOutput
import XCTest

/// The output buffer copies short byte runs inline (in overlapping words) and long ones with memcpy: every length
/// lands whole, after whatever is already buffered, across growth.
final class OutputBufferTests: XCTestCase {
    func testEveryLengthIsAppendedWholeAfterWhatIsThere() {
        for prefix in 0..<9 {
            for length in 0..<80 {
                let out = OutputBuffer()
                let head = (0..<prefix).map { UInt8(truncatingIfNeeded: 200 + $0) }
                let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
                out.append(head)
                bytes.withUnsafeBufferPointer { out.append($0) }
                out.append(UInt8(ascii: "!"))
                XCTAssertEqual(out.bytes, head + bytes + [UInt8(ascii: "!")], "\(length) bytes after \(prefix)")
            }
        }
        // Many short appends through several growths of the buffer (it starts at 256 bytes).
        let out = OutputBuffer()
        var expected: [UInt8] = []
        for k in 0..<2000 {
            let piece = (0..<(k % 35)).map { UInt8(truncatingIfNeeded: k &+ $0) }
            piece.withUnsafeBufferPointer { out.append($0) }
            expected += piece
        }
        XCTAssertEqual(out.bytes, expected)
    }
}
