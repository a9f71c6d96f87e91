@testable import EtchBolt
import Foundation
import XCTest
import EtchTestSupport

/// The bbolt reader against files real bbolt and real etcd wrote (Fixtures/gen/main.go made nested.db and its
/// dump; etcd-3.4.23.snap is `etcdctl snapshot save` of a small server), and against those files mutated.
final class BoltReaderTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func testCRC32CVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        // Split updates equal one update, whatever the split (slicing-by-8 vs bytewise tails).
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        // Long inputs (the three-stream loop) agree with the tables, whole and in pieces.
        let long = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ $0 >> 9) }
        long.withUnsafeBytes { p in
            var c = CRC32C(0xDEAD_BEEF)
            c.update(p)
            XCTAssertEqual(c.value, CRC32C.tableUpdate(0xDEAD_BEEF, p))
        }
        // The CPU's instruction and the tables agree, at every length and alignment.
        for start in 0..<9 {
            for end in [start, start + 1, start + 7, start + 8, start + 17, 1000] {
                data[start..<end].withUnsafeBytes { p in
                    XCTAssertEqual(CRC32C.tableUpdate(0x1234_5678, p), {
                        var c = CRC32C(0x1234_5678)
                        c.update(p)
                        return c.value
                    }())
                }
            }
        }
        for cut in [0, 1, 7, 8, 9, 500, 999] {
            var c = CRC32C()
            c.update(data[..<cut])
            c.update(data[cut...])
            XCTAssertEqual(c.value, CRC32C.checksum(data))
        }
    }

    /// Every bucket, nested bucket (inline ones too) and entry, in order, as bbolt's own cursor printed them.
    func testWalkEqualsBboltDump() throws {
        let expected = try String(contentsOfFile: Self.fixture("nested.dump"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let db = try BoltDB(path: Self.fixture("nested.db"))
        var lines = ["size \(db.size) check 0"]
        func walk(_ bucket: BoltBucket, _ depth: Int) throws {
            var c = try db.cursor(bucket)
            while let e = try c.next() {
                let k = e.key.map { String(format: "%02x", $0) }.joined()
                if e.isBucket {
                    lines.append("\(depth) \(k) B")
                    try walk(try e.bucket(), depth + 1)
                } else {
                    lines.append("\(depth) \(k) \(e.value.map { String(format: "%02x", $0) }.joined())")
                }
            }
        }
        try walk(db.root, 0)
        XCTAssertEqual(lines.count, expected.count)
        XCTAssertEqual(lines, expected)
        XCTAssertNotNil(try db.bucket(Array("small".utf8)))
        XCTAssertNil(try db.bucket(Array("nope".utf8)))
    }

    /// The numbers etcdctl 3.4.23's `snapshot status -w json` printed for the same files.
    func testStatusEqualsEtcdctl() throws {
        XCTAssertEqual(try SnapshotStatus.of(path: Self.fixture("etcd-3.4.23.snap")),
                       SnapshotStatus(hash: 2_200_148_317, revision: 43, totalKey: 49, totalSize: 36864))
        XCTAssertEqual(try SnapshotStatus.of(path: Self.fixture("nested.db")),
                       SnapshotStatus(hash: 1_059_299_570, revision: 0, totalKey: 2505, totalSize: 339_968))
    }

    func testErrorsNameTheProblem() throws {
        XCTAssertEqual(status("/nonexistent/x.db"), "stat /nonexistent/x.db: no such file or directory")
        XCTAssertEqual(status("/tmp"), "open /tmp: is a directory")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = dir.appendingPathComponent("small").path
        try Data("hi\n".utf8).write(to: URL(fileURLWithPath: small))
        XCTAssertEqual(status(small), "invalid database")
        let snap = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("etcd-3.4.23.snap")))
        let cut = dir.appendingPathComponent("cut").path
        try snap.prefix(20000).write(to: URL(fileURLWithPath: cut))
        XCTAssertEqual(status(cut), "truncated database: \(cut) is 20000 bytes, its meta page (txid 18) says 36864")
    }

    func status(_ path: String) -> String {
        do {
            _ = try SnapshotStatus.of(path: path)
            return "ok"
        } catch {
            return error.message
        }
    }

    /// A branch page that points at itself, and one whose two children are the same page: a clean error, no hang.
    func testCyclesAndSharedPages() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("nested.db"))))
        let pageSize = 4096
        let branch = (2..<(bytes.count / pageSize)).first { id in
            bytes[id * pageSize + 8] == 0x01 && bytes[id * pageSize + 10] >= 2
        }!
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-cycle-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = bytes
        // Child 0 := the branch itself.
        writeU64(&bytes, branch * pageSize + 16 + 8, UInt64(branch))
        try Data(bytes).write(to: dir.appendingPathComponent("cycle"))
        XCTAssertTrue(status(dir.appendingPathComponent("cycle").path).contains("corrupt"), status(dir.appendingPathComponent("cycle").path))
        // Child 1 := child 0.
        bytes = original
        let child0 = readU64(bytes, branch * pageSize + 16 + 8)
        writeU64(&bytes, branch * pageSize + 32 + 8, child0)
        try Data(bytes).write(to: dir.appendingPathComponent("shared"))
        let message = status(dir.appendingPathComponent("shared").path)
        XCTAssertTrue(message.contains("multiple references") || message.contains("out of order"), message)
    }

    /// Many mutations of both fixtures: truncations, bit flips, overwritten words and pages. Each read ends in a
    /// result or a `BoltError`, quickly; truncations below the database's size are always refused.
    func testFuzzedFilesGiveResultOrCleanError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bolt-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 12)
        var outcomes: [String: Int] = [:]
        for name in ["etcd-3.4.23.snap", "nested.db"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture(name))))
            let dbSize = Int(try BoltDB(path: Self.fixture(name)).size)
            let path = dir.appendingPathComponent(name).path
            for round in 0..<200 {
                var bytes = original
                var mustFail = false
                switch round % 5 {
                case 0:
                    let n = Int(rng.next() % UInt64(dbSize))
                    bytes = Array(bytes.prefix(n))
                    mustFail = true
                case 1:
                    for _ in 0..<(1 + Int(rng.next() % 8)) {
                        let i = Int(rng.next() % UInt64(bytes.count))
                        bytes[i] ^= UInt8(1 << (rng.next() % 8))
                    }
                case 2:
                    // A word of a page header or an element table: ids, counts, offsets, sizes.
                    let page = Int(rng.next() % UInt64(bytes.count / 4096))
                    let at = page * 4096 + Int(rng.next() % 200) & ~3
                    writeU32(&bytes, at, UInt32(truncatingIfNeeded: rng.next()))
                case 3:
                    let page = 2 + Int(rng.next() % UInt64(bytes.count / 4096 - 2))
                    for i in 0..<4096 { bytes[page * 4096 + i] = UInt8(truncatingIfNeeded: rng.next()) }
                default:
                    // A page id in a branch or bucket reference pointed elsewhere.
                    let page = 2 + Int(rng.next() % UInt64(bytes.count / 4096 - 2))
                    let at = page * 4096 + 16 + Int(rng.next() % 16) * 16 + 8
                    writeU64(&bytes, at, rng.next() % 100)
                }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    _ = try SnapshotStatus.of(path: path)
                    XCTAssertFalse(mustFail, "\(name) round \(round): a truncated file was read")
                    outcomes["ok", default: 0] += 1
                } catch {
                    outcomes["\(error.kind)", default: 0] += 1
                    XCTAssertFalse(error.message.isEmpty)
                }
                XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - started, 2_000_000_000, "\(name) round \(round)")
            }
        }
        // The mutations reach every kind of refusal, and some files stay readable.
        XCTAssertGreaterThan(outcomes["ok"] ?? 0, 0, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["corrupt"] ?? 0, 25, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["truncated"] ?? 0, 25, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["invalid"] ?? 0, 0, "\(outcomes)")
    }
}

func writeU64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}

func writeU32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

func readU64(_ b: [UInt8], _ at: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
}
