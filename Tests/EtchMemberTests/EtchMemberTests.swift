import Foundation
import XCTest
@testable import EtchMember

/// The parts of a restored member's data directory that need no file: IDs, URL checks, WAL framing and the
/// raft messages' encoding, against values etcd 3.4.23 computed (its restore of the same flags).
final class EtchMemberTests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    func testSHA1KnownAnswers() {
        XCTAssertEqual(hex(SHA1.hash([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        // Two blocks: the padding does not fit in the first.
        XCTAssertEqual(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    /// etcdctl's defaults give member 8e9e05c52164694d in cluster cdf818194e3a8c32 (its log says so).
    func testDefaultMemberAndClusterIDs() throws {
        let c = try BootstrapCluster(name: "default", initialCluster: "default=http://localhost:2380",
                                     token: "etcd-cluster", advertisedPeerURLs: "http://localhost:2380")
        XCTAssertEqual(c.local.hexID, "8e9e05c52164694d")
        XCTAssertEqual(String(c.clusterID, radix: 16), "cdf818194e3a8c32")
        XCTAssertEqual(String(decoding: c.local.json, as: UTF8.self),
                       #"{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}"#)
    }

    func testClusterChecksAsEtcd() {
        func error(_ name: String, _ cluster: String, _ peer: String) -> String? {
            do {
                _ = try BootstrapCluster(name: name, initialCluster: cluster, token: "t", advertisedPeerURLs: peer)
                return nil
            } catch { return error.message }
        }
        XCTAssertEqual(error("x", "a=http://h:1", "http://h:1"), #"couldn't find local name "x" in the initial cluster configuration"#)
        XCTAssertEqual(error("a", "a=h:1", "http://h:1"), "URL scheme must be http, https, unix, or unixs: h:1")
        XCTAssertEqual(error("a", "a=http://h", "http://h"), #"URL address does not have the form "host:port": http://h"#)
        XCTAssertEqual(error("a", "a=http://h:1/p", "http://h:1"), "URL must not contain a path: http://h:1/p")
        XCTAssertEqual(error("a", "a=http://h:1,b=http://h:1", "http://h:1"), "initial cluster a=http://h:1,b=http://h:1 has duplicate url")
        XCTAssertEqual(error("a", "a=http://h:1", "http://h:2"),
                       #"--initial-cluster has a=http://h:1 but missing from --initial-advertise-peer-urls=http://h:2 (resolved urls: "http://h:2" != "http://h:1")"#)
        XCTAssertNil(error("a", "a=http://h:1,b=https://[::1]:2", " http://h:1 "))
    }

    /// Record framing: a 4-byte record padded to 8 marks its length 0x84...; the CRC record comes first with
    /// CRC 0 and no data, as in etcdctl's WAL.
    func testWALFraming() {
        var w = WALEncoder()
        w.append(.crc, nil)
        XCTAssertEqual(w.bytes, [0x04, 0, 0, 0, 0, 0, 0, 0x84, 0x08, 0x04, 0x10, 0x00, 0, 0, 0, 0])
        w.append(.snapshot, WALSnapshot(index: 0, term: 0).marshal())
        XCTAssertEqual(w.bytes.count % 8, 0)
        XCTAssertEqual(Array(w.bytes[16..<24]), [0x0e, 0, 0, 0, 0, 0, 0, 0x82])
        // The zero index and term are written: proto2, not nullable.
        XCTAssertEqual(Array(w.bytes.suffix(8).prefix(6)), [0x1a, 0x04, 0x08, 0x00, 0x10, 0x00])
    }

    func testConfStateWritesEachVoterAndAutoLeave() {
        XCTAssertEqual(ConfState(voters: [1, 300]).marshal(), [0x08, 0x01, 0x08, 0xac, 0x02, 0x28, 0x00])
    }

    func testV2StoreRingAndOrder() {
        let members = [Member(name: "a", peerURLs: ["http://h:1"], token: "t"), Member(name: "b", peerURLs: ["http://h:2"], token: "t")]
            .sorted { $0.id < $1.id }
        let json = String(decoding: V2Store.json(members), as: UTF8.self)
        XCTAssertTrue(json.contains(#""Size":2,"Front":0,"Back":2,"Capacity":1000},"StartIndex":1,"LastIndex":2}"#), json)
        XCTAssertEqual(json.components(separatedBy: "null").count - 1, 998 + 2)  // 998 empty slots, 2 leaf Children
        XCTAssertTrue(json.hasSuffix(#""createSuccess":2,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0},"CurrentVersion":2}"#))
    }
}
