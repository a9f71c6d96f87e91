import Foundation
import Glibc
import XCTest

/// Watch messages as the gateway writes them, for the fake.
enum FakeWatch {
    static func header(_ revision: Int64) -> String { fakeHeader(revision: "\"\(revision)\"") }

    /// The confirmation that opens every watch stream.
    static func created(revision: Int64) -> String { #"{"result":{"header":\#(header(revision)),"created":true}}"# + "\n" }

    /// One PUT of `w/<rev>` = `v<rev>` at revision `rev`.
    static func event(_ rev: Int64) -> String {
        #"{"kv":{"key":"\#(b64("w/\(rev)"))","create_revision":"\#(rev)","mod_revision":"\#(rev)","version":"1","value":"\#(b64("v\(rev)"))"}}"#
    }

    /// One message carrying the events of `revisions`, with the store at `current`.
    static func events(_ revisions: [Int64], current: Int64) -> String {
        #"{"result":{"header":\#(header(current)),"events":[\#(revisions.map(event).joined(separator: ","))]}}"# + "\n"
    }

    /// What `etch watch` prints (simple) for the events of `revisions`.
    static func printed(_ revisions: ClosedRange<Int64>) -> String {
        revisions.map { "PUT\nw/\($0)\nv\($0)\n" }.joined()
    }
}

/// The watch against a fake gateway: answers that are errors before the watch exists end it with one
/// `Error:` line; a stream cut mid-line, or garbled, after the watch exists is resumed at the right revision on
/// the next connection, without losing or repeating an event and without printing the garbage.
final class HostileWatchTests: XCTestCase {
    let history: ClosedRange<Int64> = 11...15

    func testBadAnswersBeforeTheWatchExistsAreOneClearError() throws {
        let created = FakeWatch.created(revision: 15)
        let cases: [(String, String, (FakeConnection) -> Void)] = [
            ("HTML 503", "answered HTTP 503", { c in c.respond(503, body: Array("<html><body>503 Service Unavailable</body></html>".utf8), contentType: "text/html") }),
            ("3.4 error shape", "Error: etcdserver: permission denied\n", { c in
                c.respond(403, #"{"error":"etcdserver: permission denied","code":7,"message":"etcdserver: permission denied"}"#)
            }),
            ("v1 in-band error without a newline", "Error: transport is closing\n", { c in
                c.startStream()
                c.chunk(#"{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}"#)
                c.endStream()
            }),
            ("v2 in-band error", "Error: error reading from server: EOF\n", { c in
                c.startStream()
                c.chunk(#"{"error":{"code":14,"message":"error reading from server: EOF"}}"# + "\n")
                c.endStream()
            }),
            ("not JSON", "watch stream line is not JSON", { c in c.startStream(); c.chunk("<html>oops</html>\n"); c.endStream() }),
            ("10,000 levels of nesting", "nested too deeply", { c in
                c.startStream(); c.chunk(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"); c.endStream()
            }),
            ("result is a string", "watch response is not a JSON object", { c in c.startStream(); c.chunk(#"{"result":"x"}"# + "\n"); c.endStream() }),
            ("created is a word", "watch response.created is not a boolean", { c in c.startStream(); c.chunk(#"{"result":{"created":"yes"}}"# + "\n"); c.endStream() }),
            ("created at revision Int64.max", "header.revision is out of range", { c in
                c.startStream(); c.chunk(#"{"result":{"header":\#(fakeHeader(revision: "\"9223372036854775807\"")),"created":true}}"# + "\n"); c.endStream()
            }),
            ("cut mid-line before created", "broke before the reply was complete", { c in
                c.startStream(); c.chunk(String(created.prefix(30))); c.close()
            }),
            // This one ends while etch's request body is still open: the transfer ends as a broken one.
            ("an empty stream", "broke before the reply was complete", { c in c.startStream(); c.endStream() }),
            ("closed without a reply", "closed the connection without a reply", { c in c.close() }),
        ]
        for (name, expect, answer) in cases {
            let fake = FakeGateway { _, c in answer(c) }
            defer { fake.stop() }
            let r = try etch(["--endpoints", fake.endpoint, "watch", "--prefix", "w/", "--timeout", "8s"], timeout: 20)
            assertCleanFailure(r, expect: expect, name)
            XCTAssertEqual(fake.requests.count, 1, "\(name): a watch that never started fails at once, without retrying")
        }
    }

    /// Serves the history from the requested revision on every connection after the first; the first one is
    /// handed to `firstConnection` (after the `created` message) to misbehave.
    func resumeTest(_ label: String, firstConnection: @escaping (FakeConnection) -> Void) throws -> (starts: [Int64], stderr: String) {
        let lock = NSLock()
        var connections = 0
        let history = self.history
        let fake = FakeGateway { request, c in
            lock.lock(); connections += 1; let n = connections; lock.unlock()
            c.startStream()
            c.chunk(FakeWatch.created(revision: history.upperBound))
            if n == 1 {
                firstConnection(c)
                return
            }
            let start = max(request.watchStartRevision, history.lowerBound)
            if start <= history.upperBound { c.chunk(FakeWatch.events(Array(start...history.upperBound), current: history.upperBound)) }
            c.waitForClientToClose(seconds: 15)
        }
        defer { fake.stop() }
        let r = try etch(["--endpoints", fake.endpoint, "watch", "--prefix", "w/", "--rev", "\(history.lowerBound)",
                          "--max-events", "\(history.count)", "--timeout", "15s"], timeout: 30)
        XCTAssertEqual(r.status, 0, "\(label): \(r.stderr)")
        XCTAssertEqual(r.out, FakeWatch.printed(history), "\(label): every event once, in order, nothing else")
        XCTAssertEqual(fake.requests.first?.watchStartRevision, history.lowerBound, label)
        return (fake.requests.map(\.watchStartRevision), r.stderr)
    }

    func testStreamCutMidLineResumesWithoutLossOrRepeat() throws {
        // Two whole messages (11, 12), then a message with 13 and 14 cut inside 14.
        let (starts, stderr) = try resumeTest("cut mid-line") { c in
            c.chunk(FakeWatch.events([11], current: 15))
            c.chunk(FakeWatch.events([12], current: 15))
            let message = FakeWatch.events([13, 14], current: 15)
            let cut = message.range(of: FakeWatch.event(14))!.lowerBound
            c.chunk(String(message[..<message.index(cut, offsetBy: 25)]))
            c.close()
        }
        XCTAssertEqual(starts.count, 2, "one reconnect: \(stderr)")
        // 13 arrived whole before the cut and was printed; it may belong to a transaction whose other events
        // were lost in the cut, so the watch resumes at 13 and drops the 13 it already printed.
        XCTAssertEqual(starts.last, 13, stderr)
        XCTAssertTrue(stderr.contains("broke") && stderr.contains("reconnecting at revision 13"), stderr)
    }

    func testInBandErrorAfterCreatedResumes() throws {
        let (starts, stderr) = try resumeTest("in-band error") { c in
            c.chunk(FakeWatch.events([11, 12], current: 15))
            c.chunk(#"{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}"#)
            c.endStream()
        }
        XCTAssertEqual(starts.last, 13, stderr)
        XCTAssertTrue(stderr.contains("transport is closing"), stderr)
    }

    func testGarbageAfterCreatedIsNotPrintedAndTheWatchResumes() throws {
        for (name, garbage) in [
            ("not JSON", "<html>proxy error</html>\n"),
            ("bad base64", #"{"result":{"header":\#(FakeWatch.header(15)),"events":[{"kv":{"key":"!!!","mod_revision":"13"}}]}}"# + "\n"),
            ("revision Int64.max", #"{"result":{"header":\#(FakeWatch.header(15)),"events":[{"kv":{"key":"dw==","mod_revision":"9223372036854775807"}}]}}"# + "\n"),
            ("a number where an event goes", #"{"result":{"header":\#(FakeWatch.header(15)),"events":[7]}}"# + "\n"),
        ] {
            let (starts, stderr) = try resumeTest(name) { c in
                c.chunk(FakeWatch.events([11], current: 15))
                c.chunk(FakeWatch.events([12], current: 15))
                c.chunk(garbage)
                c.waitForClientToClose(seconds: 15)
            }
            XCTAssertEqual(starts.last, 13, "\(name): \(stderr)")
            XCTAssertTrue(stderr.contains("unexpected reply from the server"), "\(name): \(stderr)")
        }
    }

    /// A server that confirms every watch and then sends garbage is not a working connection: etch backs off
    /// instead of reconnecting in a tight loop, and --retry-timeout gives up on it.
    func testAServerThatAlwaysSendsGarbageIsGivenUpOn() throws {
        let fake = FakeGateway { _, c in
            c.startStream()
            c.chunk(FakeWatch.created(revision: 15))
            c.chunk("garbage\n")
            c.waitForClientToClose(seconds: 15)
        }
        defer { fake.stop() }
        let r = try etch(["--endpoints", fake.endpoint, "watch", "w", "--retry-timeout", "2s", "--timeout", "10s"], timeout: 30)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.out, "")
        let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        XCTAssertEqual(errorLines.count, 1, r.stderr)
        XCTAssertTrue(errorLines.first?.contains("gave up after --retry-timeout") == true, r.stderr)
        XCTAssertLessThan(r.seconds, 8, "given up after about 2 s, not at --timeout")
        XCTAssertLessThan(fake.requests.count, 30, "reconnects back off: \(fake.requests.count) connections in \(r.seconds)s")
    }
}

/// Interactive watch against a server that confirms every watch and then sends garbage: it backs off too.
final class HostileInteractiveWatchTests: XCTestCase {
    func testGarbageAfterCreatedDoesNotMakeATightLoop() throws {
        let fake = FakeGateway { _, c in
            c.startStream()
            c.chunk(#"{"result":{"header":\#(FakeWatch.header(15)),"watch_id":"0","created":true}}"# + "\n")
            c.chunk("garbage\n")
            c.waitForClientToClose(seconds: 15)
        }
        defer { fake.stop() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: etchBinary)
        p.arguments = ["--endpoints", fake.endpoint, "watch", "-i"]
        p.environment = testEnvironment([:])
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("watch w\n".utf8))
        sleep(3)
        let connections = fake.requests.count
        // Stdin stays open, so the session goes on until it is ended.
        XCTAssertTrue(p.isRunning)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertGreaterThan(connections, 1, "it does reconnect")
        XCTAssertLessThan(connections, 20, "with backoff: \(connections) connections in 3 s")
    }
}
