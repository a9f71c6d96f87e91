@testable import EtchBolt
import Foundation
import XCTest
import EtchTestSupport

/// The writer's files read back by the reader (whose walk equals bbolt's own on real files): same entries in
/// the same order, a clean integrity check, and etcd's snapshot rewritten with the same status hash.
final class BoltWriterTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "bolt-writer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Copies every top-level bucket of `source` into a new file with the writer.
    static func rewrite(_ source: String, to target: String, fillPercent: Double = 0.9) throws {
        let db = try BoltDB(path: source)
        let w = try BoltWriter(path: target, fillPercent: fillPercent)
        for (name, bucket) in try db.buckets() {
            try w.beginBucket(name, sequence: bucket.sequence)
            var c = try db.cursor(bucket)
            while try c.next({ (k, v, _, _) throws(BoltError) in try w.put(k, v) }) != nil {}
        }
        try w.finish()
    }

    func testEtcdSnapshotRewrittenKeepsItsStatus() throws {
        let source = BoltReaderTests.fixture("etcd-3.4.23.snap")
        let target = dir + "/db"
        try Self.rewrite(source, to: target)
        let before = try SnapshotStatus.of(path: source), after = try SnapshotStatus.of(path: target)
        XCTAssertEqual(after.hash, before.hash)
        XCTAssertEqual(after.revision, before.revision)
        XCTAssertEqual(after.totalKey, before.totalKey)
        XCTAssertLessThanOrEqual(after.totalSize, before.totalSize)
        // Rewriting the rewrite changes nothing: the layout is a function of the entries.
        try Self.rewrite(target, to: dir + "/db2")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/db2")), try Data(contentsOf: URL(fileURLWithPath: target)))
    }

    /// Buckets empty, inline, one leaf, several branch levels, with values spanning overflow pages: read back
    /// entry for entry.
    func testManyShapesReadBack() throws {
        var rng = SplitMix64(seed: 7)
        let target = dir + "/shapes"
        var expected: [[UInt8]: [([UInt8], [UInt8])]] = [:]
        let names = ["a-empty", "b-inline", "c-leaf", "d-deep", "e-overflow"].map { Array($0.utf8) }
        let counts = [0, 3, 40, 60_000, 30]
        let w = try BoltWriter(path: target)
        for (name, count) in zip(names, counts) {
            try w.beginBucket(name, sequence: UInt64(count))
            var entries: [([UInt8], [UInt8])] = []
            for i in 0..<count {
                var key = Array("k\(String(i + 100_000))".utf8)
                key += (0..<Int(rng.next() % 6)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let size = name.last == UInt8(ascii: "w") ? Int(rng.next() % 30_000) : Int(rng.next() % 120)
                let value = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                entries.append((key, value))
                try w.put(key, value)
            }
            expected[name] = entries
        }
        try w.finish()
        let db = try BoltDB(path: target)
        XCTAssertEqual(db.size, w.size)
        let buckets = try db.buckets()
        XCTAssertEqual(buckets.map(\.name), names)
        XCTAssertNotNil(buckets[1].bucket.inlinePage, "a small bucket is inline")
        XCTAssertNil(buckets[3].bucket.inlinePage)
        for (name, bucket) in buckets {
            XCTAssertEqual(bucket.sequence, UInt64(expected[name]!.count))
            var c = try db.cursor(bucket)
            var got: [([UInt8], [UInt8])] = []
            while let e = try c.next() { got.append((e.key, e.value)) }
            XCTAssertEqual(got.count, expected[name]!.count, String(decoding: name, as: UTF8.self))
            XCTAssertTrue(zip(got, expected[name]!).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        }
        // The integrity check: every page reached once, none free, none lost.
        XCTAssertNoThrow(try SnapshotStatus.of(path: target))
        // Leaves are filled to about 90%: 60,000 entries of ~80 bytes need about 1,450 pages, not 2,900.
        XCTAssertLessThan(db.meta.pageCount, 3000 + 30 * 8)
    }

    func testContractViolationsAreErrors() throws {
        let w = try BoltWriter(path: dir + "/bad")
        XCTAssertThrowsError(try w.put([1], [2]))
        try w.beginBucket(Array("b".utf8))
        try w.put([1], [2])
        XCTAssertThrowsError(try w.put([1], [3])) { XCTAssertEqual(($0 as? BoltError)?.kind, .usage) }
        XCTAssertThrowsError(try w.put([], [3]))
        XCTAssertThrowsError(try w.beginBucket(Array("a".utf8)))
        XCTAssertThrowsError(try BoltWriter(path: dir + "/no/such/dir/db")) { XCTAssertEqual(($0 as? BoltError)?.kind, .io) }
    }
}
