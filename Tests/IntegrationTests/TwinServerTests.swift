import Foundation
import XCTest

/// Two runs of the same history on the same ports with the same cluster token give the same cluster and member
/// IDs, revisions and raft terms: etcdctl runs every case against the first server, etch against the second,
/// and stdout (protobuf included, which no text masking could compare), stderr's first line and the exit code
/// must match byte for byte.
final class TwinServerTests: XCTestCase {
    func compare(seed: [String], cases: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        try TwinServers.compare(seed: seed, cases: cases, file: file, line: line)
    }

    static let kvSeed = [
        "$CTL put a 1", "$CTL put b 2", "$CTL put k v1", "$CTL put k v2", "printf '\\000\\377%%d' | $CTL put bin",
        "$CTL put pct '%d %s 100%'",
    ]

    func testProtobufOfGetPutDelIsEtcdctls() throws {
        try compare(seed: Self.kvSeed, cases: [
            "$CTL get k -w protobuf", "$CTL get '' --prefix -w protobuf", "$CTL get nokey -w protobuf",
            "$CTL get '' --prefix --keys-only --limit 2 -w protobuf", "$CTL get bin -w protobuf", "$CTL get pct -w protobuf",
            "$CTL get k --rev 3 -w protobuf",
            "$CTL put k v3 -w protobuf", "$CTL put k v4 --prev-kv -w protobuf", "$CTL put new x --prev-kv -w protobuf",
            "$CTL del a -w protobuf", "$CTL del nokey --prev-kv -w protobuf", "$CTL del '' --prefix --prev-kv -w protobuf",
            "timeout 2 $CTL watch --rev 1 --prefix '' -w protobuf", "timeout 2 $CTL watch --rev 2 k --prev-kv -w protobuf",
            // Last: etcdctl applies these before refusing the format (etch refuses first), so the histories part.
            "$CTL get k -w table", "$CTL put k v -w table", "$CTL del k -w table",
        ])
    }

    func testCompactionAndMemberListAreEtcdctls() throws {
        try compare(seed: Self.kvSeed, cases: [
            "$CTL compaction 3", "$CTL compaction 3", "$CTL compaction 2", "$CTL compaction 99", "$CTL compaction x",
            "$CTL compaction", "$CTL compaction 1 2", "$CTL compaction 4 --physical -w json", "$CTL compaction 5 -w fields",
            "$CTL compaction 6 -w protobuf", "$CTL compaction 7 -w table", "$CTL compaction -- -1", "$CTL compaction 99999999999999999999",
            "$CTL member list", "$CTL member list -w json", "$CTL member list -w fields", "$CTL member list -w table",
            "$CTL member list -w protobuf", "$CTL member list extra", "$CTL mem li", "$CTL member >/dev/null", "$CTL member bogus >/dev/null",
            "$CTL member remove", "$CTL member remove zz", "$CTL member remove 12345", "$CTL member remove 12345 extra",
            "$CTL member remove 10000000000000000", "$CTL member update 12345", "$CTL member update 12345 --peer-urls=http://127.0.0.1:1",
            "$CTL member promote 12345", "$CTL member add", "$CTL member add n2", "$CTL member add n2 http://127.0.0.1:1",
            "$CTL member add n2 --peer-urls=", "$CTL member remove -- -1",
        ])
    }
}

/// The twin-server comparison, for any test class: etcdctl on the first server, etch on its twin.
enum TwinServers {
    struct Run { var status: Int32; var out: Data; var err: String }

    /// Starts a one-member cluster on fixed ports, runs `seed` then `cases` through `tool`, and stops it. The
    /// shell lines see `$CTL` (the tool with `--endpoints`), `$EP`, `$BIN` and `$GW` (the gateway's
    /// `http://<endpoint>/v3`, for curl).
    static func run(tool: String, clientPort: Int, peerPort: Int, seed: [String], cases: [String]) throws -> [Run] {
        let dir = NSTemporaryDirectory() + "etch-twin-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = EtcdMember(name: "twin", clientPort: clientPort, peerPort: peerPort, dataDir: dir + "/d", token: "etch-twin")
        try m.start()
        defer { m.kill() }
        let env = ["CTL": "\(tool) --endpoints \(m.endpoint)", "EP": m.endpoint, "BIN": tool, "GW": "http://\(m.endpoint)/v3"]
        for line in seed {
            let r = try runProcess("/bin/sh", ["-c", line], environment: env)
            XCTAssertEqual(r.status, 0, "\(line): \(r.stderr)")
        }
        return try cases.map { line in
            let r = try runProcess("/bin/sh", ["-c", line], environment: env, timeout: 20)
            return Run(status: r.status, out: r.stdout, err: r.stderr)
        }
    }

    /// Runs `seed` and `cases` with etcdctl on one server and with etch on its twin; each case's stdout (after
    /// `normalise`, given the case and its output), exit code and first `Error:` line must match. Returns
    /// etch's runs, for checks of what they printed.
    @discardableResult
    static func compare(seed: [String], cases: [String], normalise: (String, Data) -> Data = { $1 },
                        file: StaticString = #filePath, line: UInt = #line) throws -> [Run] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") else { throw XCTSkip("etcdctl is not installed") }
        let client = freePort(), peer = freePort()
        let ref = try run(tool: "/usr/bin/etcdctl", clientPort: client, peerPort: peer, seed: seed, cases: cases)
        let got = try run(tool: etchBinary, clientPort: client, peerPort: peer, seed: seed, cases: cases)
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(got[i].status, ref[i].status, "exit code of \(c)\netcdctl: \(ref[i].err)\netch: \(got[i].err)", file: file, line: line)
            let refOut = normalise(c, ref[i].out), gotOut = normalise(c, got[i].out)
            XCTAssertEqual(gotOut, refOut, "stdout of \(c):\netcdctl: \(String(decoding: refOut, as: UTF8.self))\netch:    \(String(decoding: gotOut, as: UTF8.self))", file: file, line: line)
            // etcdctl's client logs JSON warnings on stderr before its error; compare the Error line.
            let refError = ref[i].err.split(separator: "\n").first { $0.hasPrefix("Error:") }
            let gotError = got[i].err.split(separator: "\n").first { $0.hasPrefix("Error:") }
            if ref[i].status != 0, refError != nil, !ref[i].err.contains("unknown flag") {
                XCTAssertEqual(gotError, refError, "stderr of \(c)", file: file, line: line)
            }
        }
        return got
    }
}
