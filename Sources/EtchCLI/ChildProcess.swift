import Glibc

/// A command etch runs for the user (watch's exec form; lock's and elect's commands later): spawned with
/// posix_spawnp, its arguments and environment as raw bytes, waited for.
enum ChildProcess {
    enum Status: Error { case success, exited(Int32), signaled(Int32), spawnFailed(String) }

    /// Runs `argv` (found on $PATH) with `environment` plus raw `extra` entries, stdin, stdout and stderr
    /// inherited, and waits for it.
    static func run(_ argv: [String], environment: [String], extra: [[UInt8]] = []) -> Status {
        switch spawn(argv, environment: environment, extra: extra) {
        case let .failure(status): return status
        case let .success(pid):
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return decode(status)
        }
    }

    struct SpawnFailure: Error { var status: Status }

    /// Starts `argv` without waiting (lock's command, which etch must be able to signal while it runs).
    ///
    /// The caller polls the child between short sleeps. SIGCHLD gets a handler that does nothing, so the child's
    /// end interrupts the sleep (nanosleep fails with EINTR after any handler ran; with SIGCHLD's default
    /// disposition the kernel resumes it): without it each run of `lock name cmd` waited out the rest of a 10 ms
    /// sleep after its command ended (strace: 9 ms between SIGCHLD and waitpid). exec resets the handler in the child.
    static func start(_ argv: [String], environment: [String], extra: [[UInt8]] = []) -> Result<pid_t, SpawnFailure> {
        signal(SIGCHLD) { _ in }
        return spawn(argv, environment: environment, extra: extra).mapError { SpawnFailure(status: $0) }
    }

    /// The child's status if it has ended (waitpid WNOHANG), nil while it runs.
    static func poll(_ pid: pid_t) -> Status? {
        var status: Int32 = 0
        var rc: pid_t
        repeat { rc = waitpid(pid, &status, WNOHANG) } while rc < 0 && errno == EINTR
        return rc == pid ? decode(status) : nil
    }

    static func decode(_ status: Int32) -> Status {
        let exitCode = (status >> 8) & 0xFF
        let signal = status & 0x7F
        if signal != 0 { return .signaled(signal) }
        return exitCode == 0 ? .success : .exited(exitCode)
    }

    private static func spawn(_ argv: [String], environment: [String], extra: [[UInt8]]) -> Result<pid_t, Status> {
        func cString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        }
        let cArgs = argv.map { cString(RawArgument.bytes($0)) }
        let cEnv = environment.map { cString(RawArgument.bytes($0)) } + extra.map(cString)
        defer { (cArgs + cEnv).forEach { $0.deallocate() } }
        var argvPtrs: [UnsafeMutablePointer<CChar>?] = cArgs + [nil]
        var envPtrs: [UnsafeMutablePointer<CChar>?] = cEnv + [nil]
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, cArgs[0], nil, nil, &argvPtrs, &envPtrs)
        if rc != 0 {
            if rc == ENOENT { return .failure(.spawnFailed("exec: \(goQuote(argv[0])): executable file not found in $PATH")) }
            return .failure(.spawnFailed(String(cString: strerror(rc))))
        }
        return .success(pid)
    }
}
