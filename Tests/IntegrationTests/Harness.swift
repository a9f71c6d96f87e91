import Foundation
import Glibc
import XCTest

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, and that port.
func bindLoopback() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            _ = bind(fd, p, len)
            _ = getsockname(fd, p, &len)
        }
    }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

/// A free TCP port on 127.0.0.1, found by binding port 0.
func freePort() -> Int {
    let (fd, port) = bindLoopback()
    close(fd)
    return port
}

/// Sends a plain HTTP GET to 127.0.0.1:port and returns the raw reply (nil when nothing answers).
func httpGet(port: Int, path: String) -> String? {
    let fd = connectLoopback(port)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buf, buf.count, 0)
        if n <= 0 { break }
        data += buf[0..<n]
    }
    return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
}

/// The etcd server binary the tests start: $ETCH_TEST_ETCD, else Debian's etcd 3.4.23 (/usr/bin/etcd).
/// `make test` runs the integration tests once per server: 3.4.23, then 3.5.1.
let etcdBinary: String = {
    if let p = ProcessInfo.processInfo.environment["ETCH_TEST_ETCD"], !p.isEmpty { return p }
    return "/usr/bin/etcd"
}()

/// The major.minor version of `etcdBinary` ("3.4", "3.5"), read once from `etcd --version`, for the few
/// assertions on what the server itself sends that differ between versions (see `etcdAtLeast`).
let etcdVersion: (major: Int, minor: Int) = {
    guard let o = try? runProcess(etcdBinary, ["--version"]),
          let line = o.out.split(separator: "\n").first(where: { $0.hasPrefix("etcd Version: ") }) else { return (0, 0) }
    let parts = line.dropFirst("etcd Version: ".count).split(separator: ".").compactMap { Int($0) }
    return parts.count >= 2 ? (parts[0], parts[1]) : (0, 0)
}()

/// Whether the server under test is at least etcd major.minor.
func etcdAtLeast(_ major: Int, _ minor: Int) -> Bool {
    etcdVersion.major > major || (etcdVersion.major == major && etcdVersion.minor >= minor)
}

/// One etcd member started by the tests on free loopback ports in a temporary directory, killed by PID.
final class EtcdMember {
    let name: String
    let clientPort: Int
    let peerPort: Int
    let dataDir: String
    let initialCluster: String
    let token: String
    /// More etcd flags (`--auth-token-ttl 1`, ...).
    var extraArguments: [String] = []
    private(set) var process: Process?

    var endpoint: String { "127.0.0.1:\(clientPort)" }
    var peerURL: String { "http://127.0.0.1:\(peerPort)" }

    init(name: String, clientPort: Int = freePort(), peerPort: Int = freePort(), dataDir: String, initialCluster: String? = nil, token: String) {
        self.name = name
        self.token = token
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.dataDir = dataDir
        self.initialCluster = initialCluster ?? "\(name)=http://127.0.0.1:\(peerPort)"
    }

    /// Starts etcd (again, after a kill) with the same ports and data directory.
    func start(wait: Bool = true) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: etcdBinary)
        p.arguments = [
            "--name", name, "--data-dir", dataDir,
            "--listen-client-urls", "http://127.0.0.1:\(clientPort)", "--advertise-client-urls", "http://127.0.0.1:\(clientPort)",
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", initialCluster, "--initial-cluster-token", token,
            "--log-level", "error",
        ] + extraArguments
        let log = FileHandle(forWritingAtPath: dataDir + ".log") ?? {
            FileManager.default.createFile(atPath: dataDir + ".log", contents: nil)
            return FileHandle(forWritingAtPath: dataDir + ".log")!
        }()
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
        if wait { try waitHealthy() }
    }

    func waitHealthy(seconds: Double = 15) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let reply = httpGet(port: clientPort, path: "/health"), reply.contains("\"health\":\"true\"") { return }
            usleep(50_000)
        }
        throw XCTSkip("etcd \(name) did not become healthy; log: \(dataDir).log")
    }

    /// SIGKILLs the member and waits for it to exit.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }
}

/// A single-member or multi-member etcd cluster on loopback for one test case.
final class EtcdCluster {
    let directory: String
    let members: [EtcdMember]

    var endpoints: String { members.map(\.endpoint).joined(separator: ",") }
    var endpoint: String { members[0].endpoint }

    init(size: Int = 1, extraArguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: etcdBinary) else {
            // A server asked for by name must be there: a run against it must not pass by skipping everything.
            if ProcessInfo.processInfo.environment["ETCH_TEST_ETCD"] != nil {
                throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "ETCH_TEST_ETCD=\(etcdBinary) is not an executable"])
            }
            throw XCTSkip("etcd is not installed: run make test, which installs etcd-server")
        }
        directory = NSTemporaryDirectory() + "etch-it-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var ms: [EtcdMember] = []
        let peers = (0..<size).map { _ in freePort() }
        let initial = peers.enumerated().map { "m\($0.offset)=http://127.0.0.1:\($0.element)" }.joined(separator: ",")
        for i in 0..<size {
            ms.append(EtcdMember(name: "m\(i)", peerPort: peers[i], dataDir: directory + "/m\(i)", initialCluster: initial,
                                 token: "etch-test-\(peers[0])"))
        }
        for m in ms { m.extraArguments = extraArguments }
        members = ms
        for m in members { try m.start(wait: false) }
        for m in members { try m.waitHealthy() }
    }

    /// The member that is the raft leader now, as `endpoint status` says.
    func leader() throws -> EtcdMember {
        let status = try etch(["--endpoints", endpoints, "endpoint", "status", "-w", "jsonl"])
        for line in status.out.split(separator: "\n") {
            guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let endpoint = json["endpoint"] as? String, json["leader"] as? String == json["member_id"] as? String else { continue }
            if let m = members.first(where: { endpoint.hasSuffix($0.endpoint) }) { return m }
        }
        throw XCTSkip("no leader found: \(status.out) \(status.stderr)")
    }

    func stop() {
        for m in members { m.kill() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}

/// What a finished process did.
struct Outcome {
    var status: Int32
    var stdout: Data
    var stderr: String
    var seconds: Double
    var out: String { String(decoding: stdout, as: UTF8.self) }
}

/// The etch binary under test: $ETCH_BINARY, else the debug build of this package.
let etchBinary: String = {
    if let p = ProcessInfo.processInfo.environment["ETCH_BINARY"], !p.isEmpty { return p }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/etch").path
}()

/// The environment of every process a test starts: this one's without `ETCDCTL_*`, the v3 API, and `extra`.
func testEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCDCTL_") }
    env["ETCDCTL_API"] = "3"
    env.merge(extra) { $1 }
    return env
}

/// Runs a program to completion with the given stdin bytes and extra environment.
func runProcess(_ executable: String, _ args: [String], stdin: Data? = nil, environment: [String: String] = [:], timeout: Double = 30) throws -> Outcome {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.environment = testEnvironment(environment)
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    p.standardInput = inPipe
    let start = Date()
    try p.run()
    if let stdin { inPipe.fileHandleForWriting.write(stdin) }
    try? inPipe.fileHandleForWriting.close()
    var out = Data(), err = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) \(args) did not finish in \(timeout)s"])
    }
    p.waitUntilExit()
    return Outcome(status: p.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self), seconds: Date().timeIntervalSince(start))
}

func etch(_ args: [String], stdin: Data? = nil, environment: [String: String] = [:], timeout: Double = 30) throws -> Outcome {
    try runProcess(etchBinary, args, stdin: stdin, environment: environment, timeout: timeout)
}

/// A long-running process whose stdout is read line by line as it arrives (for watches).
final class StreamingProcess {
    let process = Process()
    private let outPipe = Pipe()
    private let errPipe = Pipe()
    private var buffer = Data()
    private let lock = NSLock()
    private var errData = Data()

    /// `input`: a pipe the test writes the process's stdin through (closing it ends the input); none by default.
    init(_ executable: String, _ args: [String], environment: [String: String] = [:], input: Pipe? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.environment = testEnvironment(environment)
        process.standardOutput = outPipe
        process.standardError = errPipe
        if let input { process.standardInput = input } else { process.standardInput = FileHandle.nullDevice }
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.buffer.append(d); self.lock.unlock()
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.lock(); self.errData.append(d); self.lock.unlock()
        }
        try process.run()
    }

    /// Everything printed on stdout so far.
    var output: String { lock.lock(); defer { lock.unlock() }; return String(decoding: buffer, as: UTF8.self) }
    var errors: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errData, as: UTF8.self) }

    /// Waits until stdout has at least `count` lines.
    @discardableResult
    func waitForLines(_ count: Int, seconds: Double = 10) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            if lines.count >= count { return lines }
            usleep(10_000)
        }
        return output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// A suite whose tests share one cluster: the first test that asks starts it (`makeCluster`, which a suite
/// overrides to size or seed it), and it is stopped after the suite. Every test needs etcdctl, the reference.
class SharedClusterTestCase: XCTestCase {
    static let etcdctl = "/usr/bin/etcdctl"
    /// One cluster per suite class (a stored static would be one for all subclasses).
    nonisolated(unsafe) private static var clusters: [ObjectIdentifier: EtcdCluster] = [:]

    class func makeCluster() throws -> EtcdCluster { try EtcdCluster() }

    /// The suite's cluster, started on first use.
    func sharedCluster() throws -> EtcdCluster {
        let suite = ObjectIdentifier(type(of: self))
        if let c = Self.clusters[suite] { return c }
        let c = try type(of: self).makeCluster()
        Self.clusters[suite] = c
        return c
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.etcdctl) else {
            throw XCTSkip("etcdctl is not installed: run make test, which installs etcd-client")
        }
    }

    override class func tearDown() {
        clusters.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }
}
