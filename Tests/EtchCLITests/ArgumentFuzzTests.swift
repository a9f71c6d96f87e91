@testable import EtchCLI
import EtchOutput
import Foundation
import Glibc
import XCTest
import EtchTestSupport

/// Random command lines built from etch's real flag names and commands, bent the ways users and scripts bend
/// them: misspelled flags, `--flag=value`, short-flag clusters, `--`, garbage, 100 KB strings and bytes that
/// are not UTF-8. Deterministic: the same seed gives the same cases.
struct CommandLineFuzzer {
    var rng: SplitMix64
    /// Every flag any command accepts, global ones and `-h` included.
    let flags: [FlagSpec]
    let commands: [String]
    /// Each command's own flags with the global ones, for command lines that are mostly right.
    let flagsOf: [String: [FlagSpec]]
    /// Whether the command line being built is mostly right (real flags of its command, sensible values).
    var plausible = false
    /// The only values `--endpoints` is ever given, so a fuzzed command line cannot reach a real server.
    let endpointValues: [String]

    init(seed: UInt64, endpointValues: [String]) {
        rng = SplitMix64(seed: seed)
        var all = GlobalFlags.specs + [GlobalFlags.help]
        for entry in Registry.allCommands { all += entry.command.flags }
        var seen = Set<String>()
        flags = all.filter { seen.insert($0.name).inserted }
        commands = Registry.commands.map(\.name) + Registry.etcdctlOnly
        var byCommand: [String: [FlagSpec]] = [:]
        for entry in Registry.commands { byCommand[entry.name] = entry.flags + GlobalFlags.specs + [GlobalFlags.help] }
        flagsOf = byCommand
        self.endpointValues = endpointValues
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// A random string of `count` scalars from a mix of ASCII, punctuation that means something to the
    /// parser, control characters and non-ASCII scalars.
    mutating func garbage(_ count: Int) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<count {
            switch int(10) {
            case 0: s.append(Unicode.Scalar(UInt8(1 + int(31))))
            case 1: s.append(pick(["-", "=", ",", " ", "\"", "'", "\\", "%", "$", "`"]))
            case 2: s.append(Unicode.Scalar(UInt32(0x80 + int(0x700)))!)
            case 3: s.append(pick(["é", "日", "🙂", "\u{301}", "\u{FEFF}", "\u{10FFFF}", "\u{FFFD}"]))
            default: s.append(Unicode.Scalar(UInt8(0x21 + int(0x5E))))
            }
        }
        return String(s)
    }

    /// Bytes that are mostly not UTF-8, as argv can carry them, through `RawArgument` as etch reads them.
    mutating func rawBytes() -> String {
        let bytes = (0..<(1 + int(12))).map { _ in UInt8(1 + int(255)) }
        return RawArgument.decode(bytes)
    }

    mutating func longString() -> String {
        String(repeating: pick(["a", "-", "=", "é", "/"]), count: 100 * 1024)
    }

    /// A value for a flag of `kind`: good ones, edge cases, and nonsense.
    mutating func value(for flag: FlagSpec) -> String {
        if flag.name == "endpoints" { return pick(endpointValues) }
        if !plausible && chance(15) { return pick(["", garbage(1 + int(20)), rawBytes(), "-", "--", "-h", "--prefix"]) }
        switch flag.kind {
        case .bool:
            return pick(["true", "false", "1", "0", "t", "F", "TRUE", "True", "yes", "no", "2", ""])
        case .int64:
            return pick(["0", "1", "-1", "42", "5000", "9223372036854775807", "-9223372036854775808",
                         "9223372036854775808", "99999999999999999999", "1e3", "0x10", "+5", "--5", "3.0", " 7"])
        case .duration:
            return pick(["0", "1s", "100ms", "-1s", "1m30s", "1.5h", "2562047h", "2562048h", "9223372036854775807ns",
                         "9223372036854775808ns", "1e3s", "5", "s", ".s", "1..5s", "µs", "3µs", "1h-1m", "+2s", "1d"])
        case .string:
            if !flag.choices.isEmpty && chance(60) { return pick(flag.choices) + (chance(20) ? garbage(1 + int(3)) : "") }
            return pick(["k", "/a/b", "json", "simple", "fields", "table", "protobuf", "ASCEND", "descend", "l", "s",
                         "x", "value=v", "exists", "1f", "-1", "ffffffffffffffff", "8000000000000000", garbage(1 + int(8))])
        case .stringSlice:
            return pick(endpointValues)
        }
    }

    /// A flag name with one typo that makes it no flag at all.
    mutating func misspelled() -> String {
        var chars = Array(pick(flags).name)
        switch int(5) {
        case 0: chars.remove(at: int(chars.count))
        case 1: chars.insert(chars[int(chars.count)], at: int(chars.count))
        case 2: chars[int(chars.count)] = pick(["_", "x", "Z", "-", "é"])
        case 3: chars = Array(String(chars).uppercased())
        default: if chars.count > 1 { let i = int(chars.count - 1); chars.swapAt(i, i + 1) }
        }
        let name = String(chars)
        // A typo that lands on a real flag is not a typo (and must never be a second `--endpoints`).
        if flags.contains(where: { $0.name == name }) { return "--no-such-flag" }
        return pick(["--", "-", "---", "--", "--"]) + name + (chance(30) ? "=" + garbage(int(4)) : "")
    }

    /// One or more tokens: a flag with its value in one of pflag's spellings.
    mutating func flagTokens(from pool: [FlagSpec]) -> [String] {
        let flag = pick(pool)
        let v = value(for: flag)
        if flag.name == "endpoints" {
            return chance(50) ? ["--endpoints=" + v] : ["--endpoints", v]
        }
        if let short = flag.short, chance(35) {
            if flag.kind == .bool { return chance(70) ? ["-\(short)"] : ["-\(short)=\(v)"] }
            switch int(3) {
            case 0: return ["-\(short)", v]
            case 1: return ["-\(short)\(v)"]
            default: return ["-\(short)=\(v)"]
            }
        }
        if flag.kind == .bool { return chance(60) ? ["--\(flag.name)"] : ["--\(flag.name)=\(v)"] }
        if !plausible && chance(15) { return ["--\(flag.name)"] }  // its value is whatever comes next, or missing
        return chance(50) ? ["--\(flag.name)=\(v)"] : ["--\(flag.name)", v]
    }

    /// A cluster of short flags (`-hi`, `-qw json`, `-iwjson`, `-hx`).
    mutating func shortCluster() -> [String] {
        let shorts = flags.compactMap(\.short) + ["x", "Z", "9", "-", "="]
        var s = "-"
        for _ in 0..<(1 + int(4)) { s.append(pick(shorts)) }
        if chance(40) { s += pick(["json", "=fields", "=", "simple"]) }
        return chance(30) ? [s, value(for: pick(flags))] : [s]
    }

    mutating func command() -> String {
        let name = pick(commands)
        switch int(10) {
        case 0: return String(name.prefix(1 + int(name.count)))
        case 1: return name.uppercased()
        case 2: return name + pick(["x", "s", "-", "="])
        case 3: return String(name.dropFirst())
        default: return name
        }
    }

    mutating func positional() -> String {
        switch int(12) {
        case 0: return ""
        case 1: return longString()
        case 2, 3: return rawBytes()
        case 4: return garbage(1 + int(30))
        case 5: return pick(["-", "-5", "--", "-k", "=", "a=b"])
        default: return pick(["k", "key", "/jobs/", "a", "z", "foo", "x"])
        }
    }

    /// One whole command line (without the program name): half of them plausible (one of etch's commands with
    /// its own flags, in any order), half hostile.
    mutating func commandLine() -> [String] {
        plausible = chance(50)
        if plausible {
            let name = pick(Registry.commands.map(\.name))
            var args = [name]
            for _ in 0..<int(5) { args += flagTokens(from: flagsOf[name]!) }
            for _ in 0..<int(4) { args.insert(chance(80) ? pick(["k", "/jobs/", "a", "z", "-", "value"]) : positional(), at: 1 + int(args.count)) }
            if chance(15) { args.insert("--", at: 1 + int(args.count)) }
            if chance(20) { args.swapAt(0, int(args.count)) }
            return args
        }
        var args: [String] = []
        if chance(85) { args.append(command()) }
        for _ in 0..<int(8) {
            switch int(20) {
            case 0...6: args += flagTokens(from: flags)
            case 7...10: args.append(positional())
            case 11, 12: args.append(misspelled())
            case 13: args += shortCluster()
            case 14: args.append("--")
            case 15: args.append(pick(["-", "--=", "-=", "--=x", "---", "-h", "--help"]))
            case 16: args.append(chance(10) ? longString() : garbage(int(40)))
            case 17: args.append(rawBytes())
            default: args.append(command())
            }
        }
        // Commands anywhere, flags before the command: shuffle a little.
        if args.count > 1 && chance(30) { args.swapAt(int(args.count), int(args.count)) }
        return args
    }

    /// Now and then some `ETCDCTL_*` variables (never ETCDCTL_ENDPOINTS).
    mutating func environment() -> [String: String] {
        var env: [String: String] = [:]
        guard chance(25) else { return env }
        for _ in 0..<(1 + int(3)) {
            let (name, values): (String, [String]) = pick([
                ("ETCDCTL_WRITE_OUT", ["json", "fields", "simple", "table", "x"]),
                ("ETCDCTL_DIAL_TIMEOUT", ["1s", "0", "x", "9223372036854775808ns"]),
                ("ETCDCTL_COMMAND_TIMEOUT", ["1s", "-1s", "x"]),
                ("ETCDCTL_HEX", ["true", "maybe", ""]),
                ("ETCDCTL_API", ["3", "2", ""]),
                ("ETCDCTL_WATCH_KEY", ["k", "", rawBytes()]),
                ("ETCDCTL_WATCH_RANGE_END", ["z", ""]),
                ("ETCDCTL_USER", ["root", "root:pw"]),
                ("ETCDCTL_NOT_A_FLAG", ["secret"]),
            ])
            env[name] = pick(values)
        }
        return env
    }
}

/// The exit codes README.md documents, read from its table, so the code and the documentation cannot drift.
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

/// Thousands of random command lines through the whole command-line program in-process (parse, environment,
/// argument checks, printers) up to the point where a command would connect: no crash, a documented exit
/// code, and an `Error: ...` message for every failure.
final class ArgumentFuzzTests: XCTestCase {
    var savedStdin: Int32 = -1

    /// `put` without a value reads stdin: give it an empty one for the duration.
    override func setUp() {
        savedStdin = dup(0)
        let null = open("/dev/null", O_RDONLY)
        dup2(null, 0)
        close(null)
    }

    override func tearDown() {
        dup2(savedStdin, 0)
        close(savedStdin)
    }

    func testReadmeDocumentsEveryExitCode() throws {
        let documented = try documentedExitCodes()
        XCTAssertEqual(documented, Set(ExitCode.allCases.map(\.rawValue)))
    }

    func testThousandsOfRandomCommandLines() throws {
        let documented = try documentedExitCodes()
        var fuzzer = CommandLineFuzzer(seed: 0xE7C4_0006, endpointValues: [""])
        var byCode: [ExitCode: Int] = [:]
        let cases = 10_000
        let start = monotonicSeconds()
        for n in 0..<cases {
            let args = fuzzer.commandLine()
            let environment = fuzzer.environment()
            // `--endpoints=` (none) first: every command line that gets as far as connecting ends there, with 2.
            XCTAssertFalse(args.contains { $0.hasPrefix("--endpoints=") && $0 != "--endpoints=" },
                           "case \(n) could reach a server: \(args.map { $0.prefix(40) })")
            let out = OutputBuffer(), err = OutputBuffer()
            let t0 = monotonicSeconds(), cpu0 = threadCPUSeconds()
            let code = EtchCommandLine.run(["--endpoints="] + args, environment: environment, stdout: out, stderr: err)
            let elapsed = monotonicSeconds() - t0, cpu = threadCPUSeconds() - cpu0
            byCode[code, default: 0] += 1
            let shown = "case \(n): \(args.map { $0.count > 60 ? String($0.prefix(60)) + "...(\($0.count))" : $0 }) env \(environment)"
            XCTAssertTrue(documented.contains(code.rawValue), "\(shown): exit \(code.rawValue) is not documented")
            // Work is measured in CPU time (a loaded machine stretches the wall time of anything); waiting, which
            // takes no CPU, by the wall clock: nothing here may wait on a network or a timer.
            XCTAssertLessThan(cpu, 0.5, "\(shown): took \(cpu)s of CPU without any network")
            XCTAssertLessThan(elapsed, 5, "\(shown): took \(elapsed)s without any network: it waited on something")
            let stderr = String(decoding: err.bytes, as: UTF8.self)
            if code == .success {
                // The shells' hidden key completer is silent by design when no server answers.
                XCTAssertTrue(!out.bytes.isEmpty || args.contains("__complete-keys"),
                              "\(shown): success without a server can only be help, which prints")
            } else {
                // Warnings about the environment may come first; then the error, said once.
                let errorLines = stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
                XCTAssertTrue(errorLines.count == 1 && errorLines[0].count > "Error: ".count,
                              "\(shown): exit \(code.rawValue) with stderr \(stderr.prefix(300).debugDescription)")
                let stdout = String(decoding: out.bytes, as: UTF8.self)
                // user add/passwd print their prompt on stdout before reading (as etcdctl), then fail on the
                // empty password of an empty stdin.
                XCTAssertTrue(stdout.isEmpty || stdout.hasPrefix("etch version:") || stdout.hasPrefix("Password of "),
                              "\(shown): a failure printed results: \(stdout.prefix(200).debugDescription)")
            }
        }
        let seconds = monotonicSeconds() - start
        print("argument fuzz: \(cases) command lines in \(String(format: "%.1f", seconds))s; exit codes \(byCode.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue): \($0.value)" }.joined(separator: ", "))")
        // The cases must reach every layer, not stop at the parser: commands ran up to connecting (2), argument
        // checks refused some (128), format checks others (4), help printed (0).
        for code in [ExitCode.success, .error, .badConnection, .badFeature, .badArgs] {
            XCTAssertGreaterThan(byCode[code, default: 0], 20, "too few command lines ended with \(code)")
        }
    }

    /// The parser alone, with each command's own flags: it either parses or says why, and what it accepts
    /// is well-typed (booleans are true/false, integers fit in Int64, durations parse).
    func testParserAcceptsOnlyWellTypedValues() {
        var fuzzer = CommandLineFuzzer(seed: 0x5EED_0006, endpointValues: ["", "127.0.0.1:1"])
        for entry in Registry.commands {
            let specs = entry.flags + GlobalFlags.specs + [GlobalFlags.help]
            let parser = ArgumentParser(flags: specs)
            for _ in 0..<800 {
                let args = Array(fuzzer.commandLine().dropFirst())
                do {
                    let parsed = try parser.parse(args)
                    for (name, values) in parsed.values {
                        guard let spec = specs.first(where: { $0.name == name }) else {
                            XCTFail("\(args): parsed an unknown flag \(name)")
                            continue
                        }
                        for v in values {
                            switch spec.kind {
                            case .bool: XCTAssertTrue(v == "true" || v == "false", "\(args): --\(name)=\(v)")
                            case .int64: XCTAssertNotNil(Int64(v), "\(args): --\(name)=\(v)")
                            case .duration: XCTAssertNotNil(GoDuration.parse(v), "\(args): --\(name)=\(v)")
                            case .string, .stringSlice: break
                            }
                        }
                    }
                    XCTAssertLessThanOrEqual(parsed.positionals.count, args.count)
                } catch {
                    XCTAssertFalse(error.message.isEmpty, "\(args)")
                }
            }
        }
    }
}

/// CPU time of the calling thread (the command line runs on it).
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
