import Foundation
import Glibc

/// One request the fake gateway received.
struct FakeRequest {
    var method: String
    var path: String
    /// Header names in lower case.
    var headers: [String: String]
    /// The body: whole for a Content-Length body, the first line for a chunked (watch) one.
    var body: [UInt8]

    /// The body as JSON, when it is.
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }

    /// `create_request.start_revision` of a watch request (a string or a number on the wire), 0 when absent.
    var watchStartRevision: Int64 {
        let create = json?["create_request"] as? [String: Any]
        switch create?["start_revision"] {
        case let s as String: return Int64(s) ?? -1
        case let n as NSNumber: return n.int64Value
        default: return 0
        }
    }
}

/// The client side of one accepted connection, for a handler to answer on.
final class FakeConnection {
    let fd: Int32
    private(set) var closed = false

    init(fd: Int32) { self.fd = fd }

    /// Writes bytes; false once the client has gone.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        if closed { return false }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// A whole response with a Content-Length (or `contentLength`, to lie about it), then the connection closes.
    func respond(_ status: Int, _ reason: String = "", body: [UInt8], contentType: String = "application/json",
                 contentLength: Int? = nil) {
        write("HTTP/1.1 \(status) \(reason.isEmpty ? FakeConnection.reason(status) : reason)\r\nContent-Type: \(contentType)\r\n"
              + "Content-Length: \(contentLength ?? body.count)\r\nConnection: close\r\n\r\n")
        write(body)
        close()
    }

    /// A whole JSON reply that leaves the connection open for the next request (HTTP/1.1 keep-alive).
    func respondKeepingAlive(_ status: Int, _ body: String) {
        let bytes = Array(body.utf8)
        write("HTTP/1.1 \(status) \(FakeConnection.reason(status))\r\nContent-Type: application/json\r\n"
              + "Content-Length: \(bytes.count)\r\n\r\n")
        write(bytes)
    }

    func respond(_ status: Int, _ body: String, contentType: String = "application/json") {
        respond(status, body: Array(body.utf8), contentType: contentType)
    }

    /// Starts a chunked streaming response, as the gateway answers a watch.
    func startStream() {
        write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    /// Sends bytes as one chunk of a streaming response.
    @discardableResult
    func chunk(_ bytes: [UInt8]) -> Bool {
        write(Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A] + bytes + [0x0D, 0x0A])
    }

    @discardableResult
    func chunk(_ text: String) -> Bool { chunk(Array(text.utf8)) }

    /// Ends a streaming response properly (the last, empty chunk).
    func endStream() {
        write("0\r\n\r\n")
        close()
    }

    /// Holds the connection open until the client closes it or `seconds` pass.
    func waitForClientToClose(seconds: Double) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let end = Date().addingTimeInterval(seconds)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < end, !closed {
            if poll(&p, 1, 100) == 1 {
                if recv(fd, &buf, buf.count, 0) <= 0 { return }
            }
        }
    }

    /// Closes the connection (at once, mid-response if that is where it is).
    func close() {
        if closed { return }
        closed = true
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    static func reason(_ status: Int) -> String {
        [200: "OK", 400: "Bad Request", 404: "Not Found", 502: "Bad Gateway", 503: "Service Unavailable"][status] ?? "Status"
    }
}

/// A small HTTP/1.1 server on a free loopback port that plays etcd's gateway badly on purpose: each request
/// is parsed (headers, a Content-Length body, or the first line of a chunked watch body after answering
/// `Expect: 100-continue`), recorded, and handed to `handler`, which writes whatever bytes the test wants.
/// One thread per connection; the connection is closed when the handler returns.
final class FakeGateway {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var received: [FakeRequest] = []
    private let handler: (FakeRequest, FakeConnection) -> Void

    var endpoint: String { "127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    var requests: [FakeRequest] { lock.lock(); defer { lock.unlock() }; return received }

    /// Whether a connection is read for further requests after the handler leaves it open.
    private let keepAlive: Bool

    init(keepAlive: Bool = false, handler: @escaping (FakeRequest, FakeConnection) -> Void) {
        self.handler = handler
        self.keepAlive = keepAlive
        let (fd, boundPort) = bindLoopback()
        listener = fd
        port = boundPort
        listen(fd, 64)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { [self] in serve(FakeConnection(fd: client)) }
            }
        }
    }

    /// A gateway that answers every request with the same bytes, then closes.
    convenience init(raw: [UInt8]) {
        self.init { _, connection in connection.write(raw) }
    }

    private var stopped = false

    /// Stops accepting connections (once: a descriptor closed twice could be another's by then).
    func stop() {
        lock.lock(); defer { lock.unlock() }
        if stopped { return }
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve(_ connection: FakeConnection) {
        defer { connection.close() }
        repeat {
            guard let request = readRequest(connection) else { return }
            lock.lock(); received.append(request); lock.unlock()
            handler(request, connection)
        } while keepAlive && !connection.closed
    }

    private func readRequest(_ connection: FakeConnection) -> FakeRequest? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        func more() -> Bool {
            var p = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10_000) == 1 else { return false }
            let n = recv(connection.fd, &buf, buf.count, 0)
            if n <= 0 { return false }
            data += buf[0..<n]
            return true
        }
        let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        var headerEnd: Int?
        while headerEnd == nil {
            if let r = data.firstRange(of: separator) { headerEnd = r.upperBound; break }
            if !more() { return nil }
        }
        let head = String(decoding: data[..<headerEnd!], as: UTF8.self).split(separator: "\r\n")
        guard let requestLine = head.first?.split(separator: " "), requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var request = FakeRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: [])
        data.removeFirst(headerEnd!)
        if headers["expect"]?.lowercased() == "100-continue" { connection.write("HTTP/1.1 100 Continue\r\n\r\n") }
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            while data.count < length { if !more() { break } }
            request.body = Array(data.prefix(length))
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            // A watch: the body stays open; the create request is its first line.
            var decoded: [UInt8] = []
            while !decoded.contains(0x0A) {
                if let lineEnd = data.firstRange(of: [0x0D, 0x0A]),
                   let size = Int(String(decoding: data[..<lineEnd.lowerBound], as: UTF8.self), radix: 16),
                   data.count >= lineEnd.upperBound + size + 2 {
                    decoded += data[lineEnd.upperBound..<(lineEnd.upperBound + size)]
                    data.removeFirst(lineEnd.upperBound + size + 2)
                    if size == 0 { break }
                    continue
                }
                if !more() { break }
            }
            request.body = Array(decoded.prefix { $0 != 0x0A })
        }
        return request
    }
}

/// Base64 of a string, as the gateway encodes bytes.
func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

/// A gateway response header object with the given revision (as the gateway writes it: a string).
func fakeHeader(revision: String = "\"7\"") -> String {
    #"{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":\#(revision),"raft_term":"2"}"#
}
