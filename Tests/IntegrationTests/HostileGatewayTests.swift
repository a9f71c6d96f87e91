import Foundation
import Glibc
import XCTest

/// The real binary against a fake gateway that answers badly on purpose: truncated and non-JSON bodies, proxy
/// error pages, etcd's error shapes, wrong types, bad base64, numbers out of range, 10,000 levels of nesting,
/// empty and cut replies. Every one must end in one clear `Error: ...` line and exit 1, with nothing on stdout,
/// never a crash, a hang or a silent success.
final class HostileGatewayTests: XCTestCase {
    /// The request shapes each bad reply is tried against.
    enum Kind { case range, put, delete }

    /// One bad reply: what the fake writes and a fragment the error message must contain.
    struct Reply {
        var name: String
        var kinds: Set<Kind> = [.range, .put, .delete]
        var expect: String
        var answer: (FakeConnection) -> Void
    }

    static let kv = #"{"key":"\#(b64("k"))","create_revision":"2","mod_revision":"7","version":"1","value":"\#(b64("v"))"}"#
    static let goodBodies: [Kind: String] = [
        .range: #"{"header":\#(fakeHeader()),"kvs":[\#(kv)],"count":"1"}"#,
        .put: #"{"header":\#(fakeHeader())}"#,
        .delete: #"{"header":\#(fakeHeader()),"deleted":"1"}"#,
    ]
    static let nested = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)

    /// A 200 reply with a JSON body.
    static func ok(_ body: String) -> (FakeConnection) -> Void { { $0.respond(200, body) } }

    func replies(redirectPort: Int) -> [Reply] {
        let h = fakeHeader()
        let kv = Self.kv
        return [
            // Bodies that are not the gateway's JSON.
            Reply(name: "truncated JSON", expect: "unexpected reply from the server") { c in
                // A good body cut short, with a Content-Length that matches the cut: a proxy's doing.
                c.respond(200, body: Array(Self.goodBodies[.range]!.utf8.prefix(90)))
            },
            Reply(name: "truncated put JSON", expect: "unexpected reply from the server") { c in
                c.respond(200, body: Array(Self.goodBodies[.put]!.utf8.dropLast(3)))
            },
            Reply(name: "not JSON", expect: "unexpected reply from the server: not JSON") { c in
                c.respond(200, body: Array("OK\n".utf8), contentType: "text/plain")
            },
            Reply(name: "HTML 502", expect: "answered HTTP 502") { c in
                c.respond(502, body: Array("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".utf8), contentType: "text/html")
            },
            Reply(name: "HTML 503", expect: "answered HTTP 503") { c in
                c.respond(503, body: Array("<!DOCTYPE html><html><body><h1>Service Unavailable</h1><p>upstream connect error or disconnect/reset before headers</p></body></html>".utf8), contentType: "text/html")
            },
            Reply(name: "JSON that is not an object", expect: "not a JSON object") { c in c.respond(200, "[1,2,3]") },
            Reply(name: "a bare string", expect: "not a JSON object") { c in c.respond(200, #""header""#) },
            // etcd's own error shapes.
            Reply(name: "3.4 error shape", expect: "Error: etcdserver: too many requests\n") { c in
                c.respond(429, #"{"error":"etcdserver: too many requests","code":8,"message":"etcdserver: too many requests"}"#)
            },
            Reply(name: "3.6 error shape", expect: "Error: etcdserver: request timed out\n") { c in
                c.respond(503, #"{"code":14,"message":"etcdserver: request timed out"}"#)
            },
            Reply(name: "3.6 error shape with status 200", expect: "Error: etcdserver: leader changed\n") { c in
                c.respond(200, #"{"code":14,"message":"etcdserver: leader changed"}"#)
            },
            Reply(name: "control characters in the server's message", expect: "Error: bad") { c in
                c.respond(400, #"{"error":"x","code":2,"message":"bad\nline\r\u001b[2J\u001b]0;owned\u0007 end"}"#)
            },
            Reply(name: "a 100 KB message", expect: "Error: xxxxxxxx") { c in
                c.respond(400, #"{"code":2,"message":"\#(String(repeating: "x", count: 100_000))"}"#)
            },
            // Wrong types and values out of range.
            Reply(name: "a string where a number goes", expect: "header.revision is not a 64-bit integer", answer: Self.ok(#"{"header":\#(fakeHeader(revision: #""seven""#)),"kvs":[\#(kv)],"count":"1","deleted":"1"}"#)),
            Reply(name: "an object where a number goes", expect: "header.revision is not a 64-bit integer", answer: Self.ok(#"{"header":\#(fakeHeader(revision: "{}")),"deleted":"1"}"#)),
            Reply(name: "revision 1e30", expect: "header.revision is not a 64-bit integer", answer: Self.ok(#"{"header":\#(fakeHeader(revision: "1e30"))}"#)),
            Reply(name: "revision 2^64", expect: "header.revision is not a 64-bit integer", answer: Self.ok(#"{"header":\#(fakeHeader(revision: #""18446744073709551616""#))}"#)),
            Reply(name: "negative revision", expect: "header.revision is out of range", answer: Self.ok(#"{"header":\#(fakeHeader(revision: #""-5""#))}"#)),
            Reply(name: "revision Int64.max", expect: "header.revision is out of range", answer: Self.ok(#"{"header":\#(fakeHeader(revision: #""9223372036854775807""#))}"#)),
            Reply(name: "cluster_id 2^64", expect: "header.cluster_id is not an unsigned 64-bit integer",
                  answer: Self.ok(#"{"header":{"cluster_id":"18446744073709551616","revision":"7"}}"#)),
            Reply(name: "header is an array", expect: "header is not a JSON object", answer: Self.ok(#"{"header":[1]}"#)),
            Reply(name: "10,000 levels of nesting", expect: "nested too deeply", answer: Self.ok(#"{"header":\#(h),"x":\#(Self.nested)}"#)),
            Reply(name: "10,000 levels of nesting, whole body", expect: "unexpected reply from the server", answer: Self.ok(Self.nested)),
            // Range replies.
            Reply(name: "an object where the kvs array goes", kinds: [.range], expect: "range response.kvs is not an array", answer: Self.ok(#"{"header":\#(h),"kvs":\#(kv),"count":"1"}"#)),
            Reply(name: "a number where a kv goes", kinds: [.range], expect: "kv is not a JSON object", answer: Self.ok(#"{"header":\#(h),"kvs":[1,2],"count":"2"}"#)),
            Reply(name: "a string where a kv goes", kinds: [.range], expect: "kv is not a JSON object", answer: Self.ok(#"{"header":\#(h),"kvs":["\#(b64("k"))"],"count":"1"}"#)),
            Reply(name: "kvs nested 10,000 levels", kinds: [.range], expect: "unexpected reply from the server", answer: Self.ok(#"{"header":\#(h),"kvs":\#(Self.nested),"count":"1"}"#)),
            Reply(name: "bad base64 key", kinds: [.range], expect: "kv.key is not valid base64", answer: Self.ok(#"{"header":\#(h),"kvs":[{"key":"!!!!","mod_revision":"7","value":"dg=="}],"count":"1"}"#)),
            Reply(name: "bad base64 value", kinds: [.range], expect: "kv.value is not valid base64", answer: Self.ok(#"{"header":\#(h),"kvs":[{"key":"aw==","mod_revision":"7","value":"d"}],"count":"1"}"#)),
            Reply(name: "a number where the key goes", kinds: [.range], expect: "kv.key is not a string", answer: Self.ok(#"{"header":\#(h),"kvs":[{"key":5}],"count":"1"}"#)),
            Reply(name: "mod_revision 2^64", kinds: [.range], expect: "kv.mod_revision is not a 64-bit integer", answer: Self.ok(#"{"header":\#(h),"kvs":[{"key":"aw==","mod_revision":"18446744073709551616"}],"count":"1"}"#)),
            Reply(name: "negative mod_revision", kinds: [.range], expect: "kv.mod_revision is out of range", answer: Self.ok(#"{"header":\#(h),"kvs":[{"key":"aw==","mod_revision":-1}],"count":"1"}"#)),
            Reply(name: "count is a word", kinds: [.range], expect: "range response.count is not a 64-bit integer", answer: Self.ok(#"{"header":\#(h),"kvs":[\#(kv)],"count":"lots"}"#)),
            Reply(name: "negative count", kinds: [.range], expect: "range response.count is out of range", answer: Self.ok(#"{"header":\#(h),"kvs":[\#(kv)],"count":"-1"}"#)),
            Reply(name: "more is a string", kinds: [.range], expect: "range response.more is not a boolean", answer: Self.ok(#"{"header":\#(h),"kvs":[\#(kv)],"more":"yes","count":"1"}"#)),
            // Put and delete replies.
            Reply(name: "an array where prev_kv goes", kinds: [.put], expect: "kv is not a JSON object", answer: Self.ok(#"{"header":\#(h),"prev_kv":[\#(kv)]}"#)),
            Reply(name: "bad base64 in prev_kv", kinds: [.put], expect: "kv.value is not valid base64", answer: Self.ok(#"{"header":\#(h),"prev_kv":{"key":"aw==","value":"@@@@"}}"#)),
            Reply(name: "deleted is a word", kinds: [.delete], expect: "delete response.deleted is not a 64-bit integer", answer: Self.ok(#"{"header":\#(h),"deleted":"all"}"#)),
            Reply(name: "negative deleted", kinds: [.delete], expect: "delete response.deleted is out of range", answer: Self.ok(#"{"header":\#(h),"deleted":"-3"}"#)),
            Reply(name: "an object where prev_kvs goes", kinds: [.delete], expect: "delete response.prev_kvs is not an array", answer: Self.ok(#"{"header":\#(h),"deleted":"1","prev_kvs":\#(kv)}"#)),
            // Broken exchanges.
            Reply(name: "empty body with 200", expect: "without a reply") { c in c.respond(200, body: []) },
            Reply(name: "Content-Length larger than the body", expect: "broke before the reply was complete") { c in
                c.respond(200, body: Array(Self.goodBodies[.range]!.utf8), contentLength: Self.goodBodies[.range]!.utf8.count + 100)
            },
            Reply(name: "connection closed mid-body", expect: "broke before the reply was complete") { c in
                c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                c.chunk(String(Self.goodBodies[.range]!.prefix(50)))
                c.close()
            },
            Reply(name: "closed without a reply", expect: "closed the connection without a reply") { c in c.close() },
            Reply(name: "not HTTP at all", expect: "127.0.0.1:") { c in c.write("SSH-2.0-OpenSSH_9.2p1\r\n") },
            Reply(name: "bad chunked encoding", expect: "127.0.0.1:") { c in
                c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n")
            },
            Reply(name: "redirect to another server", expect: "answered HTTP 302") { c in
                c.write("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:\(redirectPort)/v3/kv/range\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            },
        ]
    }

    func testEveryBadReplyIsOneClearError() throws {
        let bystander = FakeGateway { _, c in c.respond(200, Self.goodBodies[.range]!) }
        defer { bystander.stop() }
        var current: Reply?
        let lock = NSLock()
        let fake = FakeGateway { _, c in
            lock.lock(); let reply = current!; lock.unlock()
            reply.answer(c)
        }
        defer { fake.stop() }
        // A get over a range is printed page by page as it arrives (bounded memory): a fault after the
        // key-values (in `count` or `more`, or a cut) comes after they were printed, so there the whole
        // key-values before it may be on stdout; never a broken one.
        let commands: [(Kind, [String], partial: [String])] = [
            (.range, ["get", "k"], []),
            (.range, ["get", "--prefix", "k"], ["k\nv\n"]),
            (.put, ["put", "k", "v"], []),
            (.delete, ["del", "k", "--prev-kv"], []),
        ]
        var runs = 0
        for reply in replies(redirectPort: bystander.port) {
            lock.lock(); current = reply; lock.unlock()
            for (kind, args, partial) in commands where reply.kinds.contains(kind) {
                let r = try etch(["--endpoints", fake.endpoint, "--command-timeout", "3s"] + args, timeout: 20)
                assertCleanFailure(r, expect: reply.expect, partial: partial, "\(reply.name) / \(args.joined(separator: " "))")
                runs += 1
            }
        }
        XCTAssertEqual(bystander.requests.count, 0, "a redirect is never followed")
        XCTAssertEqual(fake.requests.count, runs, "one request per run: a bad reply is not retried")
    }

    /// A range that says `more` forever while repeating the same key: paging must not loop (or print the key
    /// again and again); a page must continue after the previous one.
    func testARangeThatNeverEndsIsRefused() throws {
        let fake = FakeGateway { request, c in
            if request.path == "/v3/kv/range" {
                c.respond(200, #"{"header":\#(fakeHeader()),"kvs":[\#(Self.kv)],"more":true,"count":"2"}"#)
            } else {
                c.respond(404, body: [])
            }
        }
        defer { fake.stop() }
        let get = try etch(["--endpoints", fake.endpoint, "get", "--prefix", "k"], timeout: 15)
        assertCleanFailure(get, expect: "does not continue after the previous page", partial: ["k\nv\n"], "paged get")
        XCTAssertEqual(fake.requests.count, 2, "the second page gives it away")
        let list = try etch(["--endpoints", fake.endpoint, "watch", "--prefix", "k", "--list", "--timeout", "5s"], timeout: 15)
        assertCleanFailure(list, expect: "does not continue after the previous page", partial: ["PUT\nk\nv\n"], "watch --list")
    }

    /// The fake itself: a good reply prints the result, so the failures above are the replies' doing.
    func testGoodRepliesSucceed() throws {
        let fake = FakeGateway { request, c in
            switch request.path {
            case "/v3/kv/range": c.respond(200, Self.goodBodies[.range]!)
            case "/v3/kv/put": c.respond(200, Self.goodBodies[.put]!)
            default: c.respond(200, Self.goodBodies[.delete]!)
            }
        }
        defer { fake.stop() }
        XCTAssertEqual(try etch(["--endpoints", fake.endpoint, "get", "k"]).out, "k\nv\n")
        XCTAssertEqual(try etch(["--endpoints", fake.endpoint, "get", "--prefix", "k"]).out, "k\nv\n")
        XCTAssertEqual(try etch(["--endpoints", fake.endpoint, "put", "k", "v"]).out, "OK\n")
        XCTAssertEqual(try etch(["--endpoints", fake.endpoint, "del", "k"]).out, "1\n")
        XCTAssertEqual(String(decoding: Data(base64Encoded: (fake.requests[2].json?["value"] as? String) ?? "") ?? Data(), as: UTF8.self), "v")
    }
}

/// A write whose connection breaks after the request went out may have been applied: it is never sent again,
/// not even to another endpoint, and the error says its outcome is unknown.
final class WriteUncertaintyTests: XCTestCase {
    /// How the first endpoint fails after it has read the request, and what the message then says.
    let failures: [(String, String, (FakeConnection) -> Void)] = [
        ("cut mid-body", "broke before the reply was complete", { c in
            c.respond(200, body: Array(#"{"header":{"revision":"#.utf8), contentLength: 200)
        }),
        ("closed without a reply", "closed the connection without a reply", { c in c.close() }),
        ("no reply within --command-timeout", "context deadline exceeded", { c in c.waitForClientToClose(seconds: 10) }),
        ("a proxy's 502 page", "answered HTTP 502", { c in c.respond(502, body: Array("<html>bad gateway</html>".utf8), contentType: "text/html") }),
        ("garbage with 200", "unexpected reply from the server", { c in c.respond(200, "{\"header\":") }),
    ]

    func testAWriteThatMayHaveReachedTheServerIsSentOnce() throws {
        for (name, expect, fail) in failures {
            for (args, path, what) in [(["put", "k", "v"], "/v3/kv/put", "put"), (["del", "k"], "/v3/kv/deleterange", "delete")] {
                let first = FakeGateway { _, c in fail(c) }
                let second = FakeGateway { _, c in c.respond(200, #"{"header":\#(fakeHeader()),"deleted":"1"}"#) }
                defer { first.stop(); second.stop() }
                let r = try etch(["--endpoints", "\(first.endpoint),\(second.endpoint)", "--command-timeout", "1s"] + args, timeout: 20)
                let label = "\(name) / \(what)"
                assertCleanFailure(r, expect: expect, label)
                XCTAssertTrue(r.stderr.contains("the outcome of the \(what) is unknown"), "\(label): \(r.stderr)")
                XCTAssertEqual(first.requests.map(\.path), [path], "\(label): sent once to the first endpoint")
                XCTAssertEqual(second.requests.count, 0, "\(label): never sent to the second endpoint")
            }
        }
    }

    /// A first endpoint that authenticates on a kept-alive connection and then never answers the next request
    /// on it, and a second endpoint that would answer anything.
    func reusedConnectionGateways() -> (FakeGateway, FakeGateway) {
        let first = FakeGateway(keepAlive: true) { request, c in
            if request.path == "/v3/auth/authenticate" {
                c.respondKeepingAlive(200, #"{"header":\#(fakeHeader()),"token":"tok.1"}"#)
            } else {
                c.waitForClientToClose(seconds: 10)
            }
        }
        return (first, FakeGateway { _, c in c.respond(200, #"{"header":\#(fakeHeader())}"#) })
    }

    /// The same on a connection kept alive from an earlier request (here the authentication), where curl
    /// reports no connect time: the request went out, so it is not sent to the second endpoint.
    func testAWriteOnAReusedConnectionIsSentOnce() throws {
        let (first, second) = reusedConnectionGateways()
        defer { first.stop(); second.stop() }
        let r = try etch(["--endpoints", "\(first.endpoint),\(second.endpoint)", "--user", "u:p",
                          "--command-timeout", "1s", "put", "k", "v"], timeout: 20)
        assertCleanFailure(r, expect: "context deadline exceeded", "reused connection")
        XCTAssertTrue(r.stderr.contains("the outcome of the put is unknown"), r.stderr)
        XCTAssertEqual(first.requests.map(\.path), ["/v3/auth/authenticate", "/v3/kv/put"])
        XCTAssertEqual(first.requests[1].headers["authorization"], "tok.1")
        XCTAssertEqual(second.requests.count, 0, "never sent to the second endpoint")
    }

    /// Ctrl-C while a write waits on a reused connection ends etch as the signal does (as etcdctl), and the
    /// write is not sent anywhere else.
    func testInterruptingAWriteExitsBySignal() throws {
        let (first, second) = reusedConnectionGateways()
        defer { first.stop(); second.stop() }
        let p = try StreamingProcess(etchBinary, ["--endpoints", "\(first.endpoint),\(second.endpoint)", "--user", "u:p",
                                                  "--command-timeout", "8s", "put", "k", "v"])
        let deadline = Date().addingTimeInterval(5)
        while first.requests.count < 2 && Date() < deadline { usleep(20_000) }
        usleep(200_000)
        kill(p.process.processIdentifier, SIGINT)
        p.process.waitUntilExit()
        XCTAssertEqual(p.process.terminationReason, .uncaughtSignal, "stderr: \(p.errors)")
        XCTAssertEqual(p.process.terminationStatus, SIGINT)
        XCTAssertEqual(second.requests.count, 0)
    }

    /// The other side of the rule: a write that never reached a server moves on to the next endpoint.
    func testAWriteThatCouldNotConnectMovesOn() throws {
        let (closedFD, closedPort) = bindLoopback()
        defer { close(closedFD) }
        let second = FakeGateway { _, c in c.respond(200, #"{"header":\#(fakeHeader())}"#) }
        defer { second.stop() }
        let r = try etch(["--endpoints", "127.0.0.1:\(closedPort),\(second.endpoint)", "put", "k", "v"], timeout: 20)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.out, "OK\n")
        XCTAssertEqual(second.requests.map(\.path), ["/v3/kv/put"])
    }

    /// A refusal from etcd itself is a known outcome: not applied, and not called unknown.
    func testAnEtcdErrorIsNotAnUnknownOutcome() throws {
        let fake = FakeGateway { _, c in c.respond(400, #"{"error":"etcdserver: key is not provided","code":3,"message":"etcdserver: key is not provided"}"#) }
        defer { fake.stop() }
        let r = try etch(["--endpoints", fake.endpoint, "put", "k", "v"])
        XCTAssertEqual(r.stderr, "Error: etcdserver: key is not provided\n")
    }
}

/// Checks one run: exit 1, one `Error:` line on stderr containing `expect`, no control characters in it,
/// nothing on stdout but, for a get read in pages, whole key-values decoded before the fault (`partial`).
func assertCleanFailure(_ r: Outcome, expect: String, partial: [String] = [], _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, 1, "\(label): stderr \(r.stderr.prefix(300).debugDescription)", file: file, line: line)
    XCTAssertTrue(([""] + partial).contains(r.out), "\(label): stdout \(r.out.prefix(300).debugDescription)", file: file, line: line)
    XCTAssertTrue(r.stderr.hasPrefix("Error: ") && r.stderr.hasSuffix("\n") && r.stderr.filter { $0 == "\n" }.count == 1,
                  "\(label): one Error line, got \(r.stderr.prefix(300).debugDescription)", file: file, line: line)
    XCTAssertFalse(r.stderr.dropLast().unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
                   "\(label): control characters from the server reach the terminal: \(r.stderr.prefix(300).debugDescription)", file: file, line: line)
    XCTAssertLessThan(r.stderr.count, 2000, "\(label): a one-line message, not the server's whole body", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(expect), "\(label): expected \(expect.debugDescription) in \(r.stderr.prefix(300).debugDescription)", file: file, line: line)
    XCTAssertLessThan(r.seconds, 8, label, file: file, line: line)
}
