import Foundation
import Glibc
import XCTest

/// auth, user and role against a real etcd, side by side with etcdctl 3.4.23: each case runs through etcdctl
/// and then through etch against the same server, `{N}` naming the tool's own users and roles (`ctl` for
/// etcdctl, `eth` for etch, the same length), so both meet the same state and their outputs agree byte for
/// byte once etcdctl's names are read as etch's. Auth calls leave the store's revision alone, so headers match
/// unmasked. Then: permissions enforced, passwords from stdin and from a terminal, passwords never printed,
/// dead endpoints, and `auth status` by server version.
final class AuthCommandTests: XCTestCase {
    var cluster: EtcdCluster?
    /// Side-by-side cases where etcdctl succeeded: the comparison is not only of failures.
    var succeeded = 0

    override func tearDown() { cluster?.stop() }

    static let etcdctl = "/usr/bin/etcdctl"

    func requireEtcdctl() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    /// One side-by-side case. `reset` runs (as etcdctl, against the server) after etcdctl's turn, to give etch
    /// the state etcdctl had (auth enable, auth disable).
    struct Case {
        var line: String
        var reset: String?
        init(_ line: String, reset: String? = nil) {
            self.line = line
            self.reset = reset
        }
    }

    /// What one tool did: exit code, stdout bytes, its `Error:` lines.
    struct Result: Equatable {
        var status: Int32
        var stdout: [UInt8]
        var errors: [String]
    }

    func bash(_ line: String, endpoint: String, tool: String) throws -> Outcome {
        try runProcess("/bin/bash", ["-c", line], environment: ["T": "\(tool) --endpoints \(endpoint)", "EP": endpoint], timeout: 20)
    }

    func ctl(_ line: String, _ endpoint: String) throws {
        let o = try runProcess("/bin/bash", ["-c", "\(Self.etcdctl) --endpoints \(endpoint) \(line)"], environment: ["EP": endpoint], timeout: 20)
        XCTAssertEqual(o.status, 0, "set-up \(line): \(o.stderr)")
    }

    static func replacing(_ bytes: [UInt8], _ from: String, _ to: String) -> [UInt8] {
        let f = Array(from.utf8), t = Array(to.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i + f.count <= bytes.count && Array(bytes[i..<i + f.count]) == f {
                out += t
                i += f.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Runs `c` through etcdctl then etch; returns both results, etcdctl's names read as etch's.
    func sideBySide(_ c: Case, endpoint: String) throws -> (ctl: Result, etch: Result) {
        func result(_ o: Outcome) -> Result {
            Result(status: o.status, stdout: Array(o.stdout),
                   errors: o.stderr.split(separator: "\n").filter { $0.hasPrefix("Error") }.map(String.init))
        }
        let mirrored = c.line.contains("{N}")
        let a = try bash(c.line.replacingOccurrences(of: "{N}", with: "ctl"), endpoint: endpoint, tool: Self.etcdctl)
        if let reset = c.reset { try ctl(reset, endpoint) }
        let b = try bash(c.line.replacingOccurrences(of: "{N}", with: "eth"), endpoint: endpoint, tool: etchBinary)
        var r = result(a)
        if mirrored {
            r.stdout = Self.replacing(r.stdout, "ctl", "eth")
            r.errors = r.errors.map { $0.replacingOccurrences(of: "ctl", with: "eth") }
        }
        return (r, result(b))
    }

    /// Compares every case; returns how many were compared.
    @discardableResult
    func compare(_ cases: [Case], endpoint: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        for c in cases {
            let (a, b) = try sideBySide(c, endpoint: endpoint)
            if a.status == 0 { succeeded += 1 }
            XCTAssertEqual(b.status, a.status, "exit code of \(c.line): etcdctl \(a.errors), etch \(b.errors)", file: file, line: line)
            XCTAssertEqual(b.errors, a.errors, "error of \(c.line)", file: file, line: line)
            if b.stdout != a.stdout {
                XCTFail("""
                    stdout of \(c.line)
                    etcdctl: \(String(decoding: a.stdout, as: UTF8.self).debugDescription)
                    etch:    \(String(decoding: b.stdout, as: UTF8.self).debugDescription)
                    """, file: file, line: line)
            }
        }
        return cases.count
    }

    /// The user and role lifecycle in one output format, each step's output compared.
    static func lifecycle(_ format: String) -> [Case] {
        let w = "-w \(format)", u = "u{N}-\(format)", r = "r{N}-\(format)", p = "p{N}-\(format)"
        return [
            "$T user add \(u):pw \(w)", "$T user add \(u):pw \(w)",
            "printf 'pw\\npw\\n' | $T user add \(p) \(w)",
            "printf '  word rest\\n' | $T user add s{N}-\(format) --interactive=false \(w)",
            "$T user add n{N}-\(format) --no-password \(w)",
            "$T user add 'c{N}-\(format):x' --new-user-password pw \(w)",
            "$T role add \(r) \(w)", "$T role add \(r) \(w)",
            "$T role grant-permission \(r) readwrite /p --prefix \(w)",
            "$T role grant-permission \(r) read /a \(w)",
            "$T role grant-permission \(r) Write /b /c \(w)",
            "$T role grant-permission \(r) read /f --from-key \(w)",
            "$T role grant-permission \(r) readwrite '' --prefix \(w)",
            "$T role grant-permission \(r) write '' \(w)",
            "$T role grant-permission \(r) write $'/x\\xff' --prefix \(w)",
            "$T role grant-permission \(r) read $'\\xff' --prefix \(w)",
            "$T role grant-permission \(r) read $'/tab\\there' \(w)",
            "$T role get \(r) \(w)",
            "$T user grant-role \(u) \(r) \(w)", "$T user grant-role \(p) \(r) \(w)",
            "$T user get \(u) \(w)", "$T user get \(u) --detail \(w)", "$T user get \(p) --detail \(w)",
            "$T user get s{N}-\(format) --detail \(w)",
            "$T role revoke-permission \(r) /a \(w)", "$T role revoke-permission \(r) /a \(w)",
            "$T role revoke-permission \(r) /b /c \(w)", "$T role revoke-permission \(r) /f --from-key \(w)",
            "$T role revoke-permission \(r) /p --prefix \(w)", "$T role revoke-permission \(r) '' --prefix \(w)",
            "$T role revoke-permission \(r) '' \(w)",
            "$T role get \(r) \(w)",
            "$T user revoke-role \(u) \(r) \(w)", "$T user revoke-role \(u) \(r) \(w)",
            "printf 'npw\\n' | $T user passwd \(u) --interactive=false \(w)",
            "printf 'pw2\\npw2\\n' | $T user passwd \(u) \(w)",
            "$T user list \(w)", "$T role list \(w)",
            "$T user delete \(u) \(w)", "$T user delete \(u) \(w)", "$T role delete \(r) \(w)", "$T role delete \(r) \(w)",
        ].map { Case($0) }
    }

    /// Bad input: etcdctl's exit code and message, nothing applied.
    static let badInput: [Case] = [
        "$T user add eu{N}:pw", "$T role add er{N}",
        "$T user add", "$T user add a b", "$T user add :pw", "$T user add q{N} </dev/null", "printf 'a\\nb\\n' | $T user add q{N}",
        "printf '\\n\\n' | $T user add q{N}", "$T user get q{N}",
        "$T user delete", "$T user delete nobody", "$T user get", "$T user get nobody", "$T user get a b", "$T user list extra",
        "$T user passwd", "$T user passwd a b", "printf 'x\\n' | $T user passwd nobody --interactive=false",
        "printf 'x\\ny\\n' | $T user passwd eu{N}",
        "$T user grant-role a", "$T user grant-role nobody er{N}", "$T user grant-role eu{N} nobody",
        "$T user revoke-role a", "$T user revoke-role nobody er{N}", "$T user revoke-role eu{N} er{N}",
        "$T role add", "$T role add ''", "$T role add a b", "$T role delete", "$T role delete nobody", "$T role get",
        "$T role get nobody", "$T role list x",
        "$T role grant-permission", "$T role grant-permission er{N} read", "$T role grant-permission er{N} rw /a",
        "$T role grant-permission er{N} read /a /b --prefix", "$T role grant-permission er{N} read /a --prefix --from-key",
        "$T role grant-permission er{N} read '' --prefix --from-key", "$T role grant-permission er{N} read /a /b --from-key",
        "$T role grant-permission nobody read /a",
        "$T role revoke-permission", "$T role revoke-permission er{N}", "$T role revoke-permission er{N} /zz",
        "$T role revoke-permission nobody /a", "$T role revoke-permission er{N} /a /b --prefix",
        "$T role get er{N}",
        "$T auth enable x", "$T auth disable x", "$T auth enable",
        "$T user get eu{N} -w fields", "$T user list -w fields", "$T role get er{N} -w table", "$T user list -w table",
        "$T user ad eu2{N}:pw", "$T role gr er{N} read /a", "$T role grant-p er{N} read /a", "$T us li",
    ].map { Case($0) }

    func testEveryCommandAndFormatSideBySideWithEtcdctl() throws {
        try requireEtcdctl()
        cluster = try EtcdCluster()
        let ep = cluster!.endpoint
        var compared = 0
        for format in ["simple", "json", "fields", "protobuf"] {
            compared += try compare(Self.lifecycle(format), endpoint: ep)
        }
        compared += try compare(Self.badInput, endpoint: ep)

        // etch refuses a format etcdctl lacks before sending anything; etcdctl applies the change, then fails.
        for line in ["$T role add t{N} -w table", "$T user add t{N}:pw -w table", "$T user add t2{N}:pw -w bogus"] {
            let (a, b) = try sideBySide(Case(line), endpoint: ep)
            XCTAssertEqual(b.status, a.status, line)
            XCTAssertEqual(b.errors, a.errors, line)
            XCTAssertEqual(b.stdout, [], line)
        }
        XCTAssertEqual(try bash("$T role get tctl", endpoint: ep, tool: Self.etcdctl).status, 0, "etcdctl added it")
        XCTAssertEqual(try bash("$T role get teth", endpoint: ep, tool: Self.etcdctl).status, 1, "etch did not")
        XCTAssertEqual(try bash("$T user get teth", endpoint: ep, tool: Self.etcdctl).status, 1, "etch did not")
        // user get --detail -w table: etcdctl prints `User: ...` and then fails (or not, for a user without roles).
        let detail = try etch(["--endpoints", ep, "user", "get", "eueth", "--detail", "-w", "table"])
        XCTAssertEqual(detail.status, 4)
        XCTAssertEqual(detail.out, "")

        // With authentication on.
        for line in ["user add root:rootpw", "role add reader", "role grant-permission reader read /pub/ --prefix",
                     "user add reader:readerpw", "user grant-role reader reader"] {
            try ctl(line, ep)
        }
        let root = "--user root:rootpw"
        compared += try compare([
            // root lacks the role root: both add it, grant it, enable.
            Case("$T auth enable", reset: "\(root) auth disable && \(Self.etcdctl) --endpoints $EP user revoke-role root root && \(Self.etcdctl) --endpoints $EP role delete root"),
            Case("$T user list"), Case("$T --user root:wrongpw user list"), Case("$T --user reader:readerpw user list"),
            Case("$T --user reader:readerpw role add x{N}"), Case("$T --user reader:readerpw user passwd reader --interactive=false </dev/null"),
            Case("$T \(root) user list"), Case("$T \(root) user list -w json"), Case("$T \(root) role list -w fields"),
            Case("$T \(root) user get root -w protobuf"), Case("$T \(root) user get reader --detail"),
            Case("$T \(root) role add ar{N}"), Case("$T \(root) user add au{N}:pw -w json"),
            Case("$T \(root) user grant-role au{N} ar{N}"), Case("$T --user au{N}:pw user get au{N}"),
            Case("$T \(root) auth enable"), Case("$T \(root) auth enable -w table"),
            Case("$T \(root) auth disable -w json", reset: "auth enable"),
            Case("$T \(root) auth disable", reset: "auth disable"),
            Case("$T auth enable -w fields", reset: "\(root) auth disable"),
            Case("$T \(root) auth disable -w protobuf", reset: "auth enable"),
        ], endpoint: ep)
        XCTAssertGreaterThan(compared, 240)
        XCTAssertGreaterThan(succeeded, 150)
    }

    /// Sets up users and roles with etch, enables authentication, and checks the server enforces what was
    /// granted: a read-only user cannot write, a prefix covers the prefix and nothing else, a range ends before
    /// its end. Passwords given every way authenticate; a changed password replaces the old one.
    func testPermissionsAreEnforced() throws {
        cluster = try EtcdCluster()
        let e = ["--endpoints", cluster!.endpoint]
        func ok(_ args: [String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
            let o = try etch(e + args, stdin: stdin.map { Data($0.utf8) })
            XCTAssertEqual(o.status, 0, "\(args): \(o.stderr)", file: file, line: line)
        }
        try ok(["user", "add", "root:rootpw"])
        try ok(["role", "add", "reader"])
        try ok(["role", "grant-permission", "reader", "read", "/pub/", "--prefix"])
        try ok(["role", "add", "writer"])
        try ok(["role", "grant-permission", "writer", "readwrite", "/w/a", "/w/m"])
        try ok(["user", "add", "ro", "--interactive=false"], stdin: "  ro-pw extra\n")
        try ok(["user", "add", "rw"], stdin: "rw-pw\nrw-pw\n")
        try ok(["user", "add", "flag:x", "--new-user-password", "flag-pw"])
        try ok(["user", "grant-role", "ro", "reader"])
        try ok(["user", "grant-role", "rw", "writer"])
        try ok(["user", "grant-role", "flag:x", "reader"])
        try ok(["put", "/pub/doc", "hello"])
        try ok(["put", "/pub0", "outside"])
        try ok(["auth", "enable"])

        func run(_ user: String, _ args: [String]) throws -> Outcome { try etch(e + ["--user", user] + args) }
        XCTAssertEqual(try run("ro:ro-pw", ["get", "/pub/doc", "--print-value-only"]).out, "hello\n")
        XCTAssertEqual(try run("ro:ro-pw", ["get", "/pub/", "--prefix", "--keys-only"]).out, "/pub/doc\n\n")
        for (user, args) in [("ro:ro-pw", ["put", "/pub/doc", "changed"]), ("ro:ro-pw", ["get", "/pub0"]),
                             ("ro:ro-pw", ["get", "/pub", "--prefix"]), ("rw:rw-pw", ["put", "/w/m", "x"]),
                             ("rw:rw-pw", ["get", "/pub/doc"]), ("ro:ro-pw", ["user", "list"])] {
            let o = try run(user, args)
            XCTAssertEqual(o.status, 1, "\(user) \(args): \(o.out)")
            XCTAssertTrue(o.stderr.contains("etcdserver: permission denied"), "\(args): \(o.stderr)")
        }
        XCTAssertEqual(try run("rw:rw-pw", ["put", "/w/a", "1"]).out, "OK\n")
        XCTAssertEqual(try run("rw:rw-pw", ["put", "/w/l", "2"]).out, "OK\n")
        // A watch the server refuses to create (created and canceled, watch_id -1) ends at once, as etcdctl's.
        let refused = try etch(e + ["--user", "ro:ro-pw", "watch", "/w/a", "--rev", "1"], timeout: 10)
        XCTAssertEqual(refused.status, 5, refused.stderr)
        XCTAssertEqual(refused.out, "")
        XCTAssertEqual(refused.stderr, "watch was canceled (rpc error: code = PermissionDenied desc = etcdserver: permission denied)\nError: watch is canceled by the server\n")
        XCTAssertLessThan(refused.seconds, 3)
        XCTAssertEqual(try run("rw:rw-pw", ["get", "/w/a", "/w/m", "--keys-only"]).out, "/w/a\n\n/w/l\n\n")
        XCTAssertEqual(try run("flag:x", ["--password", "flag-pw", "get", "/pub/doc", "--print-value-only"]).out, "hello\n",
                       "--new-user-password takes the name whole")
        XCTAssertEqual(try run("root:rootpw", ["get", "/pub/doc", "--print-value-only"]).out, "hello\n")

        // A new password replaces the old one; the user's roles stay.
        XCTAssertEqual(try etch(e + ["--user", "root:rootpw", "user", "passwd", "ro"], stdin: Data("ro-new\nro-new\n".utf8)).status, 0)
        XCTAssertEqual(try run("ro:ro-pw", ["get", "/pub/doc"]).status, 2, "the old password is refused")
        XCTAssertEqual(try run("ro:ro-new", ["get", "/pub/doc", "--print-value-only"]).out, "hello\n")
        // A revoked role takes its permissions with it.
        XCTAssertEqual(try run("root:rootpw", ["user", "revoke-role", "ro", "reader"]).status, 0)
        XCTAssertEqual(try run("ro:ro-new", ["get", "/pub/doc"]).status, 1)
        // Turned off, everything is allowed again; --user still works (no token is needed).
        XCTAssertEqual(try run("root:rootpw", ["auth", "disable"]).out, "Authentication Disabled\n")
        XCTAssertEqual(try etch(e + ["put", "/w/z", "free"]).out, "OK\n")
        XCTAssertEqual(try run("ro:ro-new", ["get", "/w/z", "--print-value-only"]).out, "free\n")
        XCTAssertEqual(try run("root:rootpw", ["auth", "enable"]).out, "Authentication Enabled\n",
                       "--user with authentication off goes on without a token, as etcdctl")
    }

    /// `-w jsonl`, etch's own: one JSON object per line, per user, role or permission, and one per change with
    /// the header's IDs as strings.
    func testJSONLinesForEveryCommand() throws {
        cluster = try EtcdCluster()
        let e = ["--endpoints", cluster!.endpoint, "-w", "jsonl"]
        func lines(_ args: [String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
            let o = try etch(e + args, stdin: stdin.map { Data($0.utf8) })
            XCTAssertEqual(o.status, 0, "\(args): \(o.stderr)", file: file, line: line)
            return try o.out.split(separator: "\n").map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)", file: file, line: line)
            }
        }
        func change(_ args: [String], _ subject: [String: String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
            let all = try lines(args, stdin: stdin, file: file, line: line)
            XCTAssertEqual(all.count, 1, "\(args)", file: file, line: line)
            guard let o = all.first else { return }
            for (k, v) in subject { XCTAssertEqual(o[k] as? String, v, "\(args) \(k)", file: file, line: line) }
            XCTAssertNotNil(o["cluster_id"] as? String, "IDs are strings: \(o)", file: file, line: line)
            XCTAssertNotNil(o["member_id"] as? String, "\(o)", file: file, line: line)
            XCTAssertNotNil(o["revision"] as? Int, "\(o)", file: file, line: line)
        }
        try change(["user", "add", "alice:pw"], ["user": "alice"])
        try change(["user", "add", "bob"], ["user": "bob"], stdin: "pw\npw\n")
        try change(["role", "add", "reader"], ["role": "reader"])
        try change(["role", "grant-permission", "reader", "read", "/pub/", "--prefix"],
                   ["role": "reader", "permType": "READ", "key": "/pub/", "range_end": "/pub0"])
        try change(["role", "grant-permission", "reader", "write", "/w"], ["role": "reader", "permType": "WRITE", "key": "/w", "range_end": ""])
        try change(["user", "grant-role", "alice", "reader"], ["user": "alice", "role": "reader"])
        XCTAssertEqual(try lines(["user", "list"]).map { $0["user"] as? String }, ["alice", "bob"])
        XCTAssertEqual(try lines(["role", "list"]).map { $0["role"] as? String }, ["reader"])
        XCTAssertEqual(try lines(["user", "get", "alice"]).first?["roles"] as? [String], ["reader"])
        let perms = try lines(["role", "get", "reader"])
        XCTAssertEqual(perms.map { $0["key"] as? String }, ["/pub/", "/w"])
        XCTAssertEqual(perms.map { $0["permType"] as? String }, ["READ", "WRITE"])
        let detail = try lines(["user", "get", "alice", "--detail"])
        XCTAssertEqual(detail.count, 1)
        XCTAssertEqual(detail.first?["role"] as? String, "reader")
        XCTAssertEqual((detail.first?["perm"] as? [[String: Any]])?.count, 2)
        try change(["role", "revoke-permission", "reader", "/w"], ["role": "reader", "key": "/w", "range_end": ""])
        try change(["user", "revoke-role", "alice", "reader"], ["user": "alice", "role": "reader"])
        try change(["user", "passwd", "alice", "--interactive=false"], ["user": "alice"], stdin: "new\n")
        try change(["user", "delete", "bob"], ["user": "bob"])
        try change(["role", "delete", "reader"], ["role": "reader"])
        try change(["user", "add", "root:rootpw"], ["user": "root"])
        XCTAssertEqual(try lines(["auth", "enable"]).first?["enabled"] as? Bool, true)
        XCTAssertEqual(try lines(["--user", "root:rootpw", "auth", "disable"]).first?["enabled"] as? Bool, false)
    }

    /// The password prompt on a real terminal (script(1)): etcdctl's prompts, the same transcript byte for
    /// byte, nothing echoed, and the password works.
    func testPasswordPromptOnATerminal() throws {
        try requireEtcdctl()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("script(1) is not installed: run make test, which installs bsdutils")
        }
        cluster = try EtcdCluster()
        let ep = cluster!.endpoint
        var transcripts: [String: String] = [:]
        for (tool, n) in [(Self.etcdctl, "ctl"), (etchBinary, "eth")] {
            // Typed a moment after each prompt is up (typed earlier, the terminal would still echo it).
            let t = try runProcess("/bin/sh", ["-c", "(sleep 1; printf 'tty-pw\\n'; sleep 1; printf 'tty-pw\\n') | /usr/bin/script -qec '\(tool) --endpoints \(ep) user add tty\(n)' /dev/null"], timeout: 20)
            XCTAssertEqual(t.status, 0, t.out + t.stderr)
            XCTAssertFalse(t.out.contains("tty-pw"), "\(tool) echoed the password: \(t.out.debugDescription)")
            transcripts[n] = t.out.replacingOccurrences(of: "tty\(n)", with: "ttyX")
        }
        XCTAssertEqual(transcripts["eth"], "Password of ttyX: \r\nType password of ttyX again for confirmation: \r\nUser ttyX created\r\n")
        XCTAssertEqual(transcripts["eth"], transcripts["ctl"])
        // Different passwords: refused after the second prompt, nothing created.
        let t = try runProcess("/bin/sh", ["-c", "(sleep 1; printf 'one\\n'; sleep 1; printf 'two\\n') | /usr/bin/script -qec '\(etchBinary) --endpoints \(ep) user add tty2' /dev/null"], timeout: 20)
        XCTAssertTrue(t.out.contains("Error: given passwords are different"), t.out)
        XCTAssertFalse(t.out.contains("one") || t.out.contains("two"), t.out)
        XCTAssertEqual(try etch(["--endpoints", ep, "user", "get", "tty2"]).status, 1)
        // The password typed on the terminal authenticates.
        try ctl("user add root:rootpw && \(Self.etcdctl) --endpoints \(ep) auth enable", ep)
        let good = try etch(["--endpoints", ep, "--user", "ttyeth:tty-pw", "get", "k"])
        XCTAssertEqual(good.status, 1, "authenticated; the user has no role")
        XCTAssertTrue(good.stderr.contains("permission denied"), good.stderr)
        XCTAssertEqual(try etch(["--endpoints", ep, "--user", "ttyeth:other", "get", "k"]).status, 2, "a wrong password is refused")
    }

    /// Ctrl-C while the prompt waits ends etch at once, as by the signal.
    func testInterruptWhilePrompting() throws {
        cluster = try EtcdCluster()
        let input = Pipe()
        let p = try StreamingProcess(etchBinary, ["--endpoints", cluster!.endpoint, "user", "add", "waiting"], input: input)
        let deadline = Date().addingTimeInterval(5)
        while p.output.isEmpty && Date() < deadline { usleep(20_000) }
        usleep(200_000)
        let start = Date()
        kill(p.process.processIdentifier, SIGINT)
        p.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(p.process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(p.output, "Password of waiting: \n")
        XCTAssertEqual(try etch(["--endpoints", cluster!.endpoint, "user", "get", "waiting"]).status, 1, "nothing was created")
    }

    /// Passwords never show on stdout, stderr or in --debug output, whichever way they are given and whether
    /// the command succeeds or fails.
    func testPasswordsAreNeverPrinted() throws {
        cluster = try EtcdCluster()
        let e = ["--endpoints", cluster!.endpoint, "--debug"]
        let secrets = ["Secret-One", "Secret-Two", "Secret-Three", "Secret-Four", "Secret-Five", "rootSecret"]
        var outcomes: [([String], Outcome)] = []
        func run(_ args: [String], stdin: String? = nil) throws {
            outcomes.append((args, try etch(e + args, stdin: stdin.map { Data($0.utf8) })))
        }
        try run(["user", "add", "root:rootSecret"])
        try run(["user", "add", "a:Secret-One"])
        try run(["user", "add", "a:Secret-One"])  // fails: exists
        try run(["user", "add", "b", "--new-user-password", "Secret-Two", "-w", "json"])
        try run(["user", "add", "c", "--interactive=false"], stdin: "Secret-Three\n")
        try run(["user", "add", "d", "-w", "jsonl"], stdin: "Secret-Four\nSecret-Four\n")
        try run(["user", "add", "e"], stdin: "Secret-Four\nSecret-Five\n")  // fails: different
        try run(["user", "passwd", "a"], stdin: "Secret-Five\nSecret-Five\n")
        try run(["user", "passwd", "nobody", "--interactive=false"], stdin: "Secret-Five\n")  // fails: unknown
        try run(["auth", "enable"])
        try run(["--user", "root:rootSecret", "user", "list"])
        try run(["--user", "root", "--password", "rootSecret", "user", "get", "a", "-w", "json"])
        try run(["--user", "a:Secret-Five", "user", "list"])  // fails: permission denied
        try run(["--user", "a:Secret-One", "user", "list"])  // fails: old password
        for (args, o) in outcomes {
            for s in secrets {
                XCTAssertFalse(o.out.contains(s), "\(args): stdout shows a password: \(o.out)")
                XCTAssertFalse(o.stderr.contains(s), "\(args): stderr shows a password: \(o.stderr)")
            }
            XCTAssertTrue(o.stderr.contains("etch: POST ") || o.status == 128, "\(args): --debug logged the requests: \(o.stderr)")
            XCTAssertFalse(o.stderr.contains("Authorization"), "\(args): \(o.stderr)")
        }
        XCTAssertEqual(outcomes.map(\.1.status), [0, 0, 1, 0, 0, 0, 128, 0, 1, 0, 0, 0, 1, 2])
        XCTAssertTrue(outcomes[5].1.stderr.hasPrefix("Password of d: \nType password of d again for confirmation: \n"),
                      "with -w jsonl the prompts go to stderr: \(outcomes[5].1.stderr)")
        XCTAssertTrue(outcomes[5].1.out.hasPrefix("{\"user\":\"d\","), outcomes[5].1.out)
    }

    /// etcdctl waits forever for user and role commands on a dead endpoint; etch fails within --dial-timeout
    /// and --command-timeout and names the endpoint: a closed port, and a socket that accepts and never answers.
    func testDeadEndpointsFailInTime() throws {
        let (silent, silentPort) = bindLoopback()
        listen(silent, 16)
        // Bound but not listening: connections are refused, and no other process can take the port meanwhile.
        let (closed, closedPort) = bindLoopback()
        defer {
            close(silent)
            close(closed)
        }
        let commands: [[String]] = [["user", "list"], ["user", "get", "u"], ["user", "add", "u:p"], ["role", "get", "r"],
                                    ["role", "grant-permission", "r", "read", "/a"], ["auth", "enable"], ["auth", "status"],
                                    ["user", "get", "u", "--detail"]]
        for (port, what) in [(closedPort, "cannot connect"), (silentPort, "context deadline exceeded")] {
            for args in commands {
                let o = try etch(["--endpoints", "127.0.0.1:\(port)", "--dial-timeout", "1s", "--command-timeout", "1s"] + args, timeout: 10)
                XCTAssertEqual(o.status, 1, "\(args): \(o.stderr)")
                XCTAssertLessThan(o.seconds, 6, "\(args) on port \(port): \(o.stderr)")
                XCTAssertTrue(o.stderr.contains(what) && o.stderr.contains("127.0.0.1:\(port)"), "\(args): \(o.stderr)")
            }
        }
        if FileManager.default.isExecutableFile(atPath: Self.etcdctl) {
            // The gap etch closes: etcdctl is still waiting after 3 s.
            let o = try runProcess("/usr/bin/timeout", ["3", Self.etcdctl, "--endpoints", "127.0.0.1:\(silentPort)", "user", "list"], timeout: 10)
            XCTAssertEqual(o.status, 124, "etcdctl \(o.stderr)")
        }
    }

    /// `auth status` is etcd 3.5's: on 3.4 a clear error; on 3.5 and later, etcdctl 3.5's output (compared with
    /// etcdctl 3.5 when it is installed).
    func testAuthStatusByServerVersion() throws {
        cluster = try EtcdCluster()
        let ep = cluster!.endpoint
        let version = serverVersion(cluster!.members[0].clientPort)
        let o = try etch(["--endpoints", ep, "auth", "status"])
        if version.hasPrefix("3.4") {
            XCTAssertEqual(o.status, 1)
            XCTAssertEqual(o.out, "")
            XCTAssertEqual(o.stderr, "Error: auth status needs etcd 3.5 or later: http://\(ep) has no /v3/auth/status (HTTP 404)\n")
            return
        }
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.out.hasPrefix("Authentication Status: false\nAuthRevision: "), o.out)
        let ctl35 = "/usr/local/lib/etch/etcd-3.5.1/bin/etcdctl"
        guard FileManager.default.isExecutableFile(atPath: ctl35) else { return }
        for format in ["simple", "json", "protobuf", "fields", "table"] {
            let ref = try runProcess(ctl35, ["--endpoints", ep, "auth", "status", "-w", format])
            let got = try etch(["--endpoints", ep, "auth", "status", "-w", format])
            XCTAssertEqual(got.status, ref.status, format)
            XCTAssertEqual(got.stdout, ref.stdout, format)
        }
    }

    /// The server's version from GET /version (`3.4.23`), to branch where 3.5 differs.
    func serverVersion(_ port: Int) -> String {
        guard let reply = httpGet(port: port, path: "/version"),
              let r = reply.range(of: "\"etcdserver\":\"") else { return "" }
        return String(reply[r.upperBound...].prefix { $0 != "\"" })
    }
}
