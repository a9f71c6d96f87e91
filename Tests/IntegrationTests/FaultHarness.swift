import Foundation
import Glibc

/// Connects a TCP socket to 127.0.0.1:port; -1 on failure.
func connectLoopback(_ port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if ok != 0 { close(fd); return -1 }
    return fd
}

/// A TCP proxy on loopback that cuts every connection after a random number of bytes sent to the client
/// (mid-line included), to break watch streams the way networks and proxies do.
final class CuttingProxy {
    let port: Int
    let upstreamPort: Int
    let cutAfter: ClosedRange<Int>
    private let listener: Int32
    private var running = true
    private let lock = NSLock()
    private(set) var cuts = 0
    /// While true, new connections are closed at once and open ones were cut: the client is "disconnected".
    var refusing = false
    private var open: [(Int32, Int32)] = []

    /// Cuts every open connection and refuses new ones until `refusing` is set back to false.
    func disconnect() {
        lock.lock()
        refusing = true
        for (a, b) in open { shutdown(a, Int32(SHUT_RDWR)); shutdown(b, Int32(SHUT_RDWR)) }
        open.removeAll()
        lock.unlock()
        usleep(100_000)
    }

    /// Cut at most this many connections; later ones pass everything.
    let maxCuts: Int

    init(upstreamPort: Int, cutAfter: ClosedRange<Int>, maxCuts: Int = Int.max) {
        self.maxCuts = maxCuts
        self.upstreamPort = upstreamPort
        self.cutAfter = cutAfter
        let (s, boundPort) = bindLoopback()
        listener = s
        port = boundPort
        listen(s, 64)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while running {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            if refusing { close(client); continue }
            let upstream = connectLoopback(upstreamPort)
            if upstream < 0 { close(client); continue }
            lock.lock(); open.append((client, upstream)); lock.unlock()
            lock.lock()
            let budget = cuts < maxCuts ? Int.random(in: cutAfter) : Int.max
            lock.unlock()
            var sent = 0
            let done = NSLock()
            var finishedPumps = 0
            // Shut both directions at once; close the descriptors only when both pumps are done with them, so a
            // new connection can never get a number a pump still uses.
            func shut() {
                done.lock(); defer { done.unlock() }
                shutdown(client, Int32(SHUT_RDWR)); shutdown(upstream, Int32(SHUT_RDWR))
                finishedPumps += 1
                if finishedPumps == 2 {
                    lock.lock()
                    open.removeAll { $0 == (client, upstream) }
                    close(client); close(upstream)
                    lock.unlock()
                }
            }
            Thread.detachNewThread {
                var buf = [UInt8](repeating: 0, count: 16384)
                while true {
                    let n = recv(client, &buf, buf.count, 0)
                    if n <= 0 || send(upstream, buf, n, Int32(MSG_NOSIGNAL)) <= 0 { break }
                }
                shut()
            }
            Thread.detachNewThread { [self] in
                var buf = [UInt8](repeating: 0, count: 16384)
                while true {
                    let n = recv(upstream, &buf, buf.count, 0)
                    if n <= 0 { break }
                    let allowed = min(n, budget - sent)
                    if allowed > 0 && send(client, buf, allowed, Int32(MSG_NOSIGNAL)) <= 0 { break }
                    sent += allowed
                    if sent >= budget {
                        lock.lock(); cuts += 1; lock.unlock()
                        break
                    }
                }
                shut()
            }
        }
    }

    func stop() {
        running = false
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

/// Writes keys through the gateway as fast as it can on a background thread, retrying while the server is
/// down; the server's history, read back at the end, is the truth the watcher is compared with.
final class Writer {
    private let ports: [Int]
    private let prefix: String
    private var stopFlag = false
    private let lock = NSLock()
    private(set) var acknowledged = 0
    private let finished = DispatchSemaphore(value: 0)

    init(ports: [Int], prefix: String, count: Int, pause: useconds_t = 0, keySpace: Int = 200, value: String? = nil) {
        self.ports = ports
        self.prefix = prefix
        Thread.detachNewThread { [self] in
            var i = 0
            var p = 0
            while i < count && !stopFlag {
                let key = Data("\(prefix)\(String(format: "%05d", i % keySpace))".utf8).base64EncodedString()
                let value = Data((value ?? "v\(i)").utf8).base64EncodedString()
                if put(port: ports[p % ports.count], body: "{\"key\":\"\(key)\",\"value\":\"\(value)\"}") {
                    i += 1
                    lock.lock(); acknowledged += 1; lock.unlock()
                    if pause > 0 { usleep(pause) }
                } else {
                    p += 1
                    usleep(20_000)
                }
            }
            finished.signal()
        }
    }

    func wait() { finished.wait() }
    func stop() { stopFlag = true }

    private func put(port: Int, body: String) -> Bool {
        let fd = connectLoopback(port)
        if fd < 0 { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let request = "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        if send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) != bytes.count { return false }
        var reply = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            reply += buf[0..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        return text.hasPrefix("HTTP/1.1 200") && text.contains("\"revision\"")
    }
}

/// One event as (key, mod_revision, type).
struct SeenEvent: Hashable {
    var key: String
    var revision: Int64
    var delete: Bool
}

/// Parses etch's (etcdctl-format) `-w json` watch lines into events.
func eventsFromEtchJSON(_ text: String) -> [SeenEvent] {
    var out: [SeenEvent] = []
    for line in text.split(separator: "\n") {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let events = obj["Events"] as? [[String: Any]] else { continue }
        for e in events {
            let kv = e["kv"] as? [String: Any] ?? [:]
            let key = String(decoding: Data(base64Encoded: kv["key"] as? String ?? "") ?? Data(), as: UTF8.self)
            let rev = (kv["mod_revision"] as? NSNumber)?.int64Value ?? 0
            out.append(SeenEvent(key: key, revision: rev, delete: (e["type"] as? NSNumber)?.intValue == 1))
        }
    }
    return out
}

/// The server's own history of a prefix from `start`, read straight from the gateway with curl.
func serverHistory(port: Int, prefix: String, start: Int64, expected: Int) throws -> [SeenEvent] {
    let key = Data(prefix.utf8).base64EncodedString()
    var end = Array(prefix.utf8); end[end.count - 1] += 1
    let body = "{\"create_request\":{\"key\":\"\(key)\",\"range_end\":\"\(Data(end).base64EncodedString())\",\"start_revision\":\"\(start)\"}}"
    var events: [SeenEvent] = []
    for _ in 0..<5 {
        let r = try runProcess("/usr/bin/curl", ["-sN", "--max-time", "3", "-XPOST", "http://127.0.0.1:\(port)/v3/watch", "-d", body], timeout: 10)
        events = []
        for line in r.out.split(separator: "\n") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let result = obj["result"] as? [String: Any], let evs = result["events"] as? [[String: Any]] else { continue }
            for e in evs {
                let kv = e["kv"] as? [String: Any] ?? [:]
                let k = String(decoding: Data(base64Encoded: kv["key"] as? String ?? "") ?? Data(), as: UTF8.self)
                events.append(SeenEvent(key: k, revision: Int64(kv["mod_revision"] as? String ?? "0") ?? 0, delete: (e["type"] as? String) == "DELETE"))
            }
        }
        if events.count >= expected { break }
    }
    return events
}

/// Lost, duplicated and out-of-order counts of `received` against the server's `history`.
struct Comparison: CustomStringConvertible {
    var written: Int, received: Int, lost: Int, duplicated: Int, outOfOrder: Int
    var description: String {
        "written \(written), received \(received), lost \(lost), duplicated \(duplicated), out of order \(outOfOrder)"
    }
    var exact: Bool { lost == 0 && duplicated == 0 && outOfOrder == 0 && received == written }

    init(history: [SeenEvent], received: [SeenEvent]) {
        written = history.count
        self.received = received.count
        let seen = Set(received)
        lost = history.filter { !seen.contains($0) }.count
        duplicated = received.count - seen.count
        outOfOrder = zip(received, received.dropFirst()).filter { $0.revision > $1.revision }.count
    }
}
