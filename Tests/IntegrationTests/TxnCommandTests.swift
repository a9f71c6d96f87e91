import Foundation
import Glibc
import XCTest

/// `txn` against a real etcd, side by side with etcdctl 3.4.23 on twin servers (the same ports, cluster token
/// and seed give the same IDs and revisions, so every format compares byte for byte, protobuf included): every
/// grammar case, good and bad, in every format. Then what etch does on purpose where etcdctl corrupts input or
/// crashes, a compare-and-swap loop from four processes that loses no update, and a txn whose outcome is
/// unknown, which is never sent twice.
final class TxnCommandTests: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"

    func requireEtcdctl() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    /// One run of `txn`: its stdin (`{F}` stands for the output format, so each format works on keys of its
    /// own) and its arguments after `txn`.
    struct Case {
        var input: String
        var args: [String]
        init(_ input: String, _ args: [String] = []) {
            self.input = input
            self.args = args
        }
    }

    struct Run: Equatable {
        var status: Int32
        var stdout: [UInt8]
        var error: String?
    }

    static let formats = ["simple", "json", "fields", "protobuf"]

    /// Keys each format's cases start from (one value is not UTF-8).
    static func seed(_ f: String) -> [([String], String?)] {
        [(["put", "\(f)/k", "v"], nil), (["put", "\(f)/old", "o1"], nil), (["put", "\(f)/gone/a", "1"], nil),
         (["put", "\(f)/gone/b", "2"], nil), (["put", "\(f)/bin"], "\u{0}\u{1}\t%d\u{7f}"), (["put", "\(f)/sp", "a b"], nil)]
    }

    /// Transactions that succeed, in the grammar's every form.
    static let good: [Case] = [
        Case("mod(\"{F}/k\") > \"0\"\nval(\"{F}/k\") = \"v\"\n\nget {F}/k\nget {F}/nokey\n\nput {F}/k fail\n\n"),
        Case("ver(\"{F}/k\") = \"1\"\nc(\"{F}/k\") != \"0\"\nm(\"{F}/k\") < \"100000\"\nvalue(\"{F}/k\") > \"a\"\n\nput {F}/old new --prev-kv\ndel {F}/gone/ --prefix --prev-kv\nget {F}/ --prefix --keys-only\n\n\n"),
        Case("version(\"{F}/k\") = \"99\"\ncreate(\"{F}/k\") = \"0\"\n\nput {F}/k never\n\nget {F}/ --prefix --limit=2 --sort-by=key --order=descend\nput {F}/new x --lease=0\ndel {F}/nokey\nget {F}/bin\n\n"),
        Case("val(\"{F}/k\") != \"\\x00\"\n\nput \"{F}/key \\\"with\\\" space\" \"value \\x23\\t\\u00e9\"\nget \"{F}/key \\\"with\\\" space\"\nput {F}/raw ab\"cd\n\n\n"),
        Case("mod(`{F}/k`) > `0`\nval(\"{F}/bin\") = \"\\x00\\x01\\t%d\\x7f\"\n\nget {F}/k --rev=2\nget {F}/bin --consistency=s\nget {F}/a {F}/z\n\n\n"),
        Case("\nge {F}/k\np {F}/p1 v\nd {F}/gone/a --prev-kv\n--prefix=true g {F}/s --keys-only\n\n\n"),
        Case("\n\n\n"),
        Case("  mod(\"{F}/k\")   >   \"0\"  \n \t \r\n  get {F}/k  \n\u{0B}\n\n"),
        Case("val(\"{F}/k\") < \"w\" extra words\n\nput -- {F}/dash -v\nput --ignore-value {F}/old --prev-kv\nput {F}/k v3 --ignore-lease\n\n\n"),
        Case("mod(\"{F}/k\") > \"0\"\n\nget {F}/k\nget {F}/bin\nput {F}/h x --prev-kv\n\n\n", ["--hex"]),
        Case("mod(\"{F}/k\") > \"0\"\n\nget {F}/k\n\nget {F}/old\n\n", ["-i"]),
        Case("val(\"{F}/k\") = \"nope\"\n\nget {F}/k\n\nget {F}/k\n\n", ["--interactive=true"]),
        Case("mod(\"{F}/k\") > \"0\"\n\nget {F}/k\n\n\nleft over\n"),
    ]

    /// Input etcdctl refuses (before sending anything, or the server does), each with its message and code.
    static let bad: [Case] = [
        Case(""), Case("\n"), Case("\n\n"), Case("mod(\"{F}/k\") > \"0\""), Case("mod(\"{F}/k\") > \"0\"\n\nget {F}/k\n\nget {F}/k"),
        Case("\n\n\n", ["extra"]), Case("\n", ["-i"]),
        Case("mod(\"k\")>\"0\"\n"), Case("mod( \"k\" ) > \"0\"\n"), Case("mod(\"k\")\n"), Case("mod(\"k\") =\n"),
        Case("mod(\"k\") = 2\n"), Case("mod(\"k\") =\"2\"\n"), Case("(k) = \"2\"\n"), Case("mod\n"), Case("mod k = 2\n"),
        Case("val(\"k\\q\") = \"v\"\n"), Case("val(\"k\") = \"\\400\"\n"), Case("val(`k) = \"v\"\n"), Case("val(\"k\") = \"v\n"),
        Case("foo(\"k\") = \"2\"\n"), Case("MOD(\"k\") = \"2\"\n"), Case("mod (\"k\") = \"2\"\n"), Case("mod(\"k\") = \"x\"\n"),
        Case("mod(\"k\") = \"\"\n"), Case("ver(\"k\") = \"99999999999999999999\"\n"), Case("c(\"k\") = \"1.5\"\n"),
        Case("mod(\"k\") > \"0\"\n\nfoo\n"), Case("\n\nbad op here\n"), Case("\nput\n"), Case("\nGET k\n"),
        Case("\n--prefix get k\n"), Case("\n-x get k\n"), Case("\nget k -w json\n"), Case("\nget k --rev=x\n"),
        Case("\nput k --lease\n"), Case("\nput \"\\q\" v\n"), Case("\nget --prefix\n"), Case("\nput k\n"),
        Case("\nput --ignore-value k v\n"), Case("\nput --lease=zz k v\n"), Case("\ndel a b c\n"),
        Case("\ndel --prefix --from-key k\n"), Case("\nget k l --prefix\n"), Case("\nget k --consistency=q\n"),
        Case("\nget k --sort-by=x\n"), Case("\nget k --order=x\n"), Case("\nget k\nput k\n"),
        Case("\nput {F}/d 1\ndel {F}/d\n\n\n"), Case("\nget \"\"\n\n\n"), Case("mod(\"\") > \"0\"\n\n\n\n"),
    ]

    /// Runs `cases` (in each format) through `tool` on a fresh one-member server on the given ports.
    func run(tool: String, clientPort: Int, peerPort: Int, cases: [(Case, String)]) throws -> [Run] {
        let dir = NSTemporaryDirectory() + "etch-txn-twin-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = EtcdMember(name: "twin", clientPort: clientPort, peerPort: peerPort, dataDir: dir + "/d", token: "etch-txn-twin")
        try m.start()
        defer { m.kill() }
        for f in Self.formats {
            for (args, stdin) in Self.seed(f) {
                let r = try runProcess(Self.etcdctl, ["--endpoints", m.endpoint] + args, stdin: stdin.map { Data($0.utf8) })
                XCTAssertEqual(r.status, 0, "seed \(args): \(r.stderr)")
            }
        }
        return try cases.map { c, format in
            let input = c.input.replacingOccurrences(of: "{F}", with: format)
            let r = try runProcess(tool, ["--endpoints", m.endpoint, "txn", "-w", format] + c.args, stdin: Data(input.utf8), timeout: 20)
            let error = r.stderr.split(separator: "\n").first { $0.hasPrefix("Error:") || $0.hasPrefix("panic:") }
            return Run(status: r.status, stdout: Array(r.stdout), error: error.map(String.init))
        }
    }

    func testEveryGrammarCaseInEveryFormatIsEtcdctls() throws {
        try requireEtcdctl()
        var cases: [(Case, String)] = []
        for f in Self.formats {
            for c in Self.good + Self.bad { cases.append((c, f)) }
        }
        // Last, as it applies the transaction in etcdctl but not in etch (which refuses the format first).
        cases.append((Case("\nput {F}/t v\n\n\n", ["-w", "table"]), "simple"))
        let client = freePort(), peer = freePort()
        let ref = try run(tool: Self.etcdctl, clientPort: client, peerPort: peer, cases: cases)
        let got = try run(tool: etchBinary, clientPort: client, peerPort: peer, cases: cases)
        var succeeded = 0
        for (i, (c, f)) in cases.enumerated() {
            let label = "txn -w \(f) \(c.args) <<< \(c.input.replacingOccurrences(of: "{F}", with: f).debugDescription)"
            XCTAssertEqual(got[i].status, ref[i].status, "exit code of \(label)\netcdctl: \(ref[i].error ?? "")\netch: \(got[i].error ?? "")")
            XCTAssertEqual(got[i].stdout, ref[i].stdout, """
                stdout of \(label)
                etcdctl: \(String(decoding: ref[i].stdout, as: UTF8.self).debugDescription)
                etch:    \(String(decoding: got[i].stdout, as: UTF8.self).debugDescription)
                """)
            XCTAssertEqual(got[i].error, ref[i].error, "stderr of \(label)")
            if ref[i].status == 0 { succeeded += 1 }
        }
        XCTAssertEqual(succeeded, Self.good.count * Self.formats.count, "every good case succeeded in etcdctl")
        XCTAssertEqual(cases.count, (Self.good.count + Self.bad.count) * Self.formats.count + 1)
    }

    /// Where etcdctl corrupts the input or crashes, etch applies what was written, or says what is wrong.
    func testWhereEtchDiffersFromEtcdctlOnPurpose() throws {
        try requireEtcdctl()
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        func txn(_ tool: String, _ input: String, _ args: [String] = [], timeout: Double = 20) throws -> Outcome {
            try runProcess(tool, ["--endpoints", ep, "txn"] + args, stdin: Data(input.utf8), timeout: timeout)
        }
        func value(_ key: String) throws -> String {
            try etch(["--endpoints", ep, "get", key, "--print-value-only"]).out
        }

        // A single-quoted word: etcdctl keeps the characters from 1 to the number of words minus 1.
        XCTAssertEqual(try txn(Self.etcdctl, "\nput q 'abc def'\n\n\n").status, 0)
        XCTAssertEqual(try value("q"), "a\n", "etcdctl's cut")
        XCTAssertEqual(try txn(etchBinary, "\nput q 'abc def'\nput 'a key' ''\n\n\n").out, "SUCCESS\n\nOK\n\nOK\n")
        XCTAssertEqual(try value("q"), "abc def\n")
        XCTAssertEqual(try etch(["--endpoints", ep, "get", "a key"]).out, "a key\n\n")

        // lease(..): etcdctl panics; etch compares the key's lease (hex, as lease grant prints it).
        let grant = try runProcess(Self.etcdctl, ["--endpoints", ep, "lease", "grant", "600"])
        let id = try XCTUnwrap(grant.out.split(separator: " ").dropFirst().first.map(String.init), grant.out)
        XCTAssertEqual(try runProcess(Self.etcdctl, ["--endpoints", ep, "put", "leased", "v", "--lease=\(id)"]).status, 0)
        let crashed = try txn(Self.etcdctl, "lease(\"leased\") = \"\(id)\"\n\n\n\n")
        XCTAssertEqual(crashed.status, 2, "etcdctl's panic: \(crashed.stderr.prefix(200))")
        XCTAssertEqual(try txn(etchBinary, "lease(\"leased\") = \"\(id)\"\n\nget leased\n\n\n").out, "SUCCESS\n\nleased\nv\n")
        XCTAssertEqual(try txn(etchBinary, "lease(\"leased\") = \"0\"\n\n\n\n").out, "FAILURE\n")
        XCTAssertEqual(try txn(etchBinary, "lease(\"q\") = \"0\"\nlease(\"leased\") != \"0\"\n\n\n\n").out, "SUCCESS\n")
        let badLease = try txn(etchBinary, "lease(\"leased\") = \"xyz\"\n\n\n\n")
        XCTAssertEqual(badLease.status, 3)
        XCTAssertTrue(badLease.stderr.hasPrefix("Error: invalid txn compare request: lease(\"leased\") = \"xyz\" (a lease ID is hexadecimal"), badLease.stderr)

        // >= (and any operator but = != < >): etcdctl panics.
        XCTAssertEqual(try txn(Self.etcdctl, "mod(\"q\") >= \"1\"\n\n\n\n").status, 2)
        let ge = try txn(etchBinary, "mod(\"q\") >= \"1\"\n\n\n\n")
        XCTAssertEqual(ge.status, 3)
        XCTAssertEqual(ge.stderr, "Error: invalid txn compare request: mod(\"q\") >= \"1\" (unknown operator \">=\": etcd compares with =, !=, < or >)\n")

        // help (or cobra's completion) in an operation: etcdctl prints it, then waits forever; etch says the line is
        // invalid.
        for line in ["help put", "put --help", "get -h k", "c k", "completion bash", "__complete get"] {
            let r = try txn(etchBinary, "\n\(line)\n\n\n", timeout: 5)
            XCTAssertEqual(r.status, 3, line)
            XCTAssertEqual(r.stderr, "Error: invalid txn request: \(line)\n")
        }

        // -w table: refused before anything is read or applied (etcdctl applies, then exits 4).
        let table = try txn(etchBinary, "\nput t applied\n\n\n", ["-w", "table"])
        XCTAssertEqual(table.status, 4)
        XCTAssertEqual(table.stderr, "Error: table not supported as output format\n")
        XCTAssertEqual(try value("t"), "", "not applied")

        // put without a value: always etcdctl's 128, even when stdin has more after the transaction (etcdctl
        // would take that as the value).
        let rest = String(repeating: "x", count: 10_000)
        let noValue = try txn(etchBinary, "\nput nv\n\n\n" + rest)
        XCTAssertEqual(noValue.status, 128)
        XCTAssertEqual(noValue.stderr, "Error: put command needs 1 argument and input from stdin or 2 arguments\n")

        // get --count-only (etcd 3.5's etcdctl flag, which etch's get has) works inside a txn.
        XCTAssertEqual(try txn(etchBinary, "\nget q --count-only\n\n\n", ["-w", "fields"]).out.contains("\"Count\" : 1\n"), true)
    }

    /// `-w jsonl`: one object per txn; with -i the prompts go to stderr so stdout stays JSON.
    func testJSONLines() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "k", "v"]).status, 0)
        let r = try etch(["--endpoints", ep, "txn", "-w", "jsonl", "-i"],
                         stdin: Data("mod(\"k\") > \"0\"\n\nget k\nput k w --prev-kv\ndel nokey\nget k --keys-only\n\n\n".utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n")
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.out)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(json["succeeded"] as? Bool, true)
        XCTAssertEqual(json["revision"] as? Int, 3)
        XCTAssertNotNil(json["cluster_id"] as? String, "IDs as strings")
        let ops = try XCTUnwrap(json["responses"] as? [[String: Any]])
        XCTAssertEqual(ops.map { $0["op"] as? String }, ["get", "put", "del", "get"])
        XCTAssertEqual((ops[0]["kvs"] as? [[String: Any]])?.first?["value"] as? String, "v")
        XCTAssertEqual((ops[1]["prev_kv"] as? [String: Any])?["value"] as? String, "v")
        XCTAssertEqual(ops[2]["deleted"] as? Int, 0)
        let keysOnly = try XCTUnwrap((ops[3]["kvs"] as? [[String: Any]])?.first)
        XCTAssertEqual(keysOnly["key"] as? String, "k")
        XCTAssertNil(keysOnly["value"], "no value where get --keys-only asked for none")
    }

    /// A read-modify-write from four processes at once, each retrying its compare-and-swap until it wins: no
    /// increment is lost or applied twice.
    func testCompareAndSwapFromFourProcessesLosesNoUpdate() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "counter", "0"]).status, 0)
        let perWorker = 25
        // Each worker: read the counter, then put counter+1 only if it still holds what was read; on FAILURE
        // read again. It prints each value it wrote.
        let script = """
            n=0
            while [ $n -lt \(perWorker) ]; do
              v=$("$ETCH" --endpoints "$EP" get counter --print-value-only) || exit 1
              out=$(printf 'val("counter") = "%s"\\n\\nput counter %d\\n\\nget counter\\n\\n' "$v" $((v + 1)) | "$ETCH" --endpoints "$EP" txn) || exit 1
              case "$out" in
                SUCCESS*) echo $((v + 1)); n=$((n + 1)) ;;
                FAILURE*) echo retry >&2 ;;
                *) echo "unexpected: $out" >&2; exit 1 ;;
              esac
            done
            """
        /// The workers' outcomes, filled in from their threads.
        final class Outcomes: @unchecked Sendable {
            private let lock = NSLock()
            private var items = [Outcome?](repeating: nil, count: 4)
            func set(_ i: Int, _ o: Outcome?) { lock.lock(); items[i] = o; lock.unlock() }
            var all: [Outcome?] { lock.lock(); defer { lock.unlock() }; return items }
        }
        let outcomes = Outcomes()
        let group = DispatchGroup()
        for w in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                outcomes.set(w, try? runProcess("/bin/sh", ["-c", script], environment: ["ETCH": etchBinary, "EP": ep], timeout: 240))
                group.leave()
            }
        }
        group.wait()
        var written: [Int] = []
        var retries = 0
        for (w, r) in outcomes.all.enumerated() {
            let r = try XCTUnwrap(r, "worker \(w) did not finish")
            XCTAssertEqual(r.status, 0, "worker \(w): \(r.stderr.suffix(500))")
            let values = r.out.split(separator: "\n").compactMap { Int($0) }
            XCTAssertEqual(values.count, perWorker, "worker \(w)")
            XCTAssertEqual(values, values.sorted(), "worker \(w) sees the counter only grow")
            written += values
            retries += r.stderr.components(separatedBy: "retry").count - 1
        }
        XCTAssertEqual(written.sorted(), Array(1...(4 * perWorker)), "each value written exactly once")
        XCTAssertEqual(try etch(["--endpoints", ep, "get", "counter", "--print-value-only"]).out, "\(4 * perWorker)\n")
        print("compare-and-swap: \(4 * perWorker) increments by 4 processes, \(retries) lost races retried")
    }

    /// A txn whose connection breaks after the request went out may have been applied: it is sent once, never
    /// to another endpoint, and the error says its outcome is unknown.
    func testATxnThatMayHaveReachedTheServerIsSentOnce() throws {
        let failures: [(String, String, (FakeConnection) -> Void)] = [
            ("cut mid-body", "broke before the reply was complete", { c in
                c.respond(200, body: Array(#"{"header":{"revision":"#.utf8), contentLength: 200)
            }),
            ("closed without a reply", "closed the connection without a reply", { c in c.close() }),
            ("no reply within --command-timeout", "context deadline exceeded", { c in c.waitForClientToClose(seconds: 10) }),
        ]
        for (name, expect, fail) in failures {
            let first = FakeGateway { _, c in fail(c) }
            let second = FakeGateway { _, c in c.respond(200, #"{"header":\#(fakeHeader()),"succeeded":true}"#) }
            defer { first.stop(); second.stop() }
            let r = try etch(["--endpoints", "\(first.endpoint),\(second.endpoint)", "--command-timeout", "1s", "txn"],
                             stdin: Data("\nput k v\n\n\n".utf8), timeout: 20)
            assertCleanFailure(r, expect: expect, name)
            XCTAssertTrue(r.stderr.contains("the outcome of the txn is unknown"), "\(name): \(r.stderr)")
            XCTAssertEqual(first.requests.map(\.path), ["/v3/kv/txn"], name)
            XCTAssertEqual(first.requests.first.map { String(decoding: $0.body, as: UTF8.self) }, #"{"success":[{"request_put":{"key":"aw==","value":"dg=="}}]}"#)
            XCTAssertEqual(second.requests.count, 0, "\(name): never sent to the second endpoint")
        }
    }

    /// Permission errors come from the server as etcdctl prints them; a txn with no compare works as a user's.
    func testAuthenticatedTxn() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let e = ["--endpoints", cluster.endpoint]
        for args in [["user", "add", "root:rootpw"], ["auth", "enable"], ["--user", "root:rootpw", "user", "add", "u:upw"],
                     ["--user", "root:rootpw", "role", "add", "r"], ["--user", "root:rootpw", "role", "grant-permission", "r", "readwrite", "a"],
                     ["--user", "root:rootpw", "user", "grant-role", "u", "r"]] {
            let r = try etch(e + args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
        }
        let ok = try etch(e + ["--user", "u:upw", "txn"], stdin: Data("\nput a 1\nget a\n\n\n".utf8))
        XCTAssertEqual(ok.out, "SUCCESS\n\nOK\n\na\n1\n", ok.stderr)
        let denied = try etch(e + ["--user", "u:upw", "txn"], stdin: Data("ver(\"b\") = \"0\"\n\nput a 2\n\n\n".utf8))
        XCTAssertEqual(denied.status, 1)
        XCTAssertEqual(denied.stderr, "Error: etcdserver: permission denied\n")
    }
}
