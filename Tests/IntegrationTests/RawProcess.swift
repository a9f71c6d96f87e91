import Foundation
import Glibc

/// How a process started by `runRaw` ended.
struct RawOutcome {
    /// The exit status, when it exited.
    var exitStatus: Int32?
    /// The signal that ended it, when one did (a crash: SIGILL, SIGSEGV, SIGABRT, SIGTRAP...).
    var signal: Int32?
    var stdout: [UInt8]
    var stderr: [UInt8]
    var seconds: Double
    /// It did not end within the time limit and was killed.
    var timedOut: Bool

    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs `executable` with arguments and environment given as raw bytes (argv can carry any byte but NUL,
/// which Foundation's `Process` cannot express), stdin from `stdin` (or /dev/null), and collects stdout and
/// stderr. Kills it with SIGKILL after `timeout` seconds. `argv` is the whole vector, program name included,
/// so a test can also pass an empty one.
func runRaw(_ executable: String, argv: [[UInt8]], environment: [[UInt8]], stdin: [UInt8]? = nil,
            timeout: Double = 10) -> RawOutcome {
    func cStrings(_ items: [[UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
        items.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        } + [nil]
    }
    var cArgv = cStrings(argv)
    var cEnv = cStrings(environment)
    defer { (cArgv + cEnv).forEach { $0?.deallocate() } }

    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
    // Close-on-exec, so only the descriptors dup'ed onto 0, 1 and 2 reach the child.
    func makePipe(_ fds: inout [Int32]) {
        pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }
    makePipe(&outPipe)
    makePipe(&errPipe)
    if stdin != nil { makePipe(&inPipe) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if stdin != nil {
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    let start = Date()
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, &cArgv, &cEnv)
    close(outPipe[1])
    close(errPipe[1])
    if stdin != nil { close(inPipe[0]) }
    guard rc == 0 else {
        close(outPipe[0]); close(errPipe[0])
        if stdin != nil { close(inPipe[1]) }
        return RawOutcome(exitStatus: 127, signal: nil, stdout: [], stderr: Array("posix_spawn: \(String(cString: strerror(rc)))".utf8),
                          seconds: 0, timedOut: false)
    }
    var input = stdin ?? []
    var inputFD: Int32 = stdin != nil ? inPipe[1] : -1
    if inputFD >= 0 { _ = fcntl(inputFD, F_SETFL, fcntl(inputFD, F_GETFL) | O_NONBLOCK) }
    if inputFD >= 0 && input.isEmpty { close(inputFD); inputFD = -1 }
    var out: [UInt8] = [], err: [UInt8] = []
    var open = (out: true, err: true)
    var timedOut = false
    var buffer = [UInt8](repeating: 0, count: 65536)
    while open.out || open.err {
        let left = timeout - Date().timeIntervalSince(start)
        if left <= 0 {
            timedOut = true
            kill(pid, SIGKILL)
            break
        }
        var fds = [pollfd(fd: open.out ? outPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: open.err ? errPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)]
        _ = poll(&fds, 3, Int32(min(left, 0.2) * 1000) + 1)
        for (i, fd) in [outPipe[0], errPipe[0]].enumerated() where fds[i].revents != 0 {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                if i == 0 { out += buffer[0..<n] } else { err += buffer[0..<n] }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                if i == 0 { open.out = false } else { open.err = false }
            }
        }
        if inputFD >= 0 && fds[2].revents != 0 {
            let n = input.withUnsafeBytes { write(inputFD, $0.baseAddress, min($0.count, 65536)) }
            if n > 0 { input.removeFirst(n) }
            if n < 0 && errno != EAGAIN && errno != EINTR { input = [] }
            if input.isEmpty { close(inputFD); inputFD = -1 }
        }
    }
    if inputFD >= 0 { close(inputFD) }
    close(outPipe[0])
    close(errPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signal = status & 0x7F
    return RawOutcome(exitStatus: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal == 0 ? nil : signal,
                      stdout: out, stderr: err, seconds: Date().timeIntervalSince(start), timedOut: timedOut)
}

/// The environment for a raw run: PATH and HOME of this process, the v3 API, and `extra` (raw bytes allowed).
func rawEnvironment(_ extra: [(String, [UInt8])] = []) -> [[UInt8]] {
    var env: [[UInt8]] = []
    for name in ["PATH", "HOME"] {
        if let v = ProcessInfo.processInfo.environment[name] { env.append(Array("\(name)=\(v)".utf8)) }
    }
    env.append(Array("ETCDCTL_API=3".utf8))
    for (name, value) in extra { env.append(Array("\(name)=".utf8) + value) }
    return env
}

/// The exit codes README.md documents, read from its table.
func documentedExitCodes() throws -> Set<Int32> {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    guard let section = text.range(of: "### Exit codes") else {
        throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "README.md has no exit code table"])
    }
    var codes = Set<Int32>()
    for line in text[section.upperBound...].split(separator: "\n").prefix(20) where line.hasPrefix("| ") {
        let cell = line.dropFirst(2).prefix { $0 != " " }
        if let code = Int32(cell) { codes.insert(code) }
    }
    return codes
}
