import Foundation
import Glibc
import XCTest
import EtchTestSupport

/// One flag as the binary's own help lists it.
struct HelpFlag {
    var name: String
    var short: Character?
    /// "" for a boolean, else `string`, `strings`, `int`, `duration`.
    var type: String
}

/// The commands and flags the etch binary documents, read from `etch --help` and `etch help <command>`, so the
/// fuzzer uses exactly the names users see. A parent (`member`, `user`) is replaced by its subcommands, as
/// paths (`user add`), so the runs reach the commands themselves rather than the parent's help.
func flagsFromHelp() throws -> (commands: [String], flags: [String: [HelpFlag]]) {
    func lines(_ args: [String]) throws -> [Substring] {
        let r = try etch(args)
        guard r.status == 0 else { throw NSError(domain: "etch-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "etch \(args) failed: \(r.stderr)"]) }
        return r.out.split(separator: "\n")
    }
    /// The names under `Commands:` in a help text.
    func commandNames(_ help: [Substring]) -> [String] {
        var names: [String] = []
        var inCommands = false
        for line in help {
            if line == "Commands:" { inCommands = true; continue }
            if inCommands {
                guard line.hasPrefix("  "), let name = line.split(separator: " ").first else { break }
                names.append(String(name))
            }
        }
        return names
    }
    var commands: [String] = []
    for name in commandNames(try lines(["--help"])) {
        let subcommands = commandNames(try lines(["help", name]))
        commands += subcommands.isEmpty ? [name] : subcommands.map { "\(name) \($0)" }
    }
    var flags: [String: [HelpFlag]] = [:]
    for command in commands {
        for line in try lines(["help"] + command.split(separator: " ").map(String.init)) {
            // "  -w, --write-out string   usage" or "      --prefix   usage"
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, first.hasPrefix("-") else { continue }
            var i = 0
            var short: Character?
            if first.count == 3, first.hasSuffix(",") { short = first.dropFirst().first; i = 1 }
            guard i < words.count, words[i].hasPrefix("--") else { continue }
            let name = String(words[i].dropFirst(2))
            let next = i + 1 < words.count ? String(words[i + 1]) : ""
            let type = ["string", "strings", "int", "duration"].contains(next) ? next : ""
            flags[command, default: []].append(HelpFlag(name: name, short: short, type: type))
        }
    }
    return (commands, flags)
}

/// Random command lines as raw argv bytes for the real binary.
struct BinaryCommandLineFuzzer {
    var rng: SplitMix64
    /// Command paths (`get`, `user add`).
    let commands: [String]
    /// The top-level commands, in help's order.
    let topLevel: [String]
    let flags: [String: [HelpFlag]]
    let allFlags: [HelpFlag]
    let endpointValues: [String]
    /// Whether the command line being built is mostly right (its command's flags, sensible values).
    var plausible = false

    init(seed: UInt64, commands: [String], flags: [String: [HelpFlag]], endpointValues: [String]) {
        rng = SplitMix64(seed: seed)
        self.commands = commands
        var tops: [String] = []
        for c in commands {
            let first = String(c.split(separator: " ")[0])
            if !tops.contains(first) { tops.append(first) }
        }
        topLevel = tops
        self.flags = flags
        var seen = Set<String>()
        // In the commands' order: a dictionary's order changes from run to run, and so did the cases.
        allFlags = commands.flatMap { flags[$0] ?? [] }.filter { seen.insert($0.name).inserted }
        self.endpointValues = endpointValues
    }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// Bytes 1...255, mostly not UTF-8.
    mutating func rawBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(1 + int(255)) } }

    mutating func value(_ flag: HelpFlag) -> [UInt8] {
        if flag.name == "endpoints" { return Array(pick(endpointValues).utf8) }
        if !plausible && chance(15) { return pick([[], rawBytes(1 + int(10)), Array("-h".utf8), Array("--".utf8)]) }
        let text: String
        switch flag.type {
        case "": text = pick(["true", "false", "1", "0", "T", "yes", ""])
        case "int": text = pick(["0", "3", "-1", "9223372036854775807", "9223372036854775808", "1e3", "x"])
        case "duration": text = pick(["0", "100ms", "1s", "-1s", "2562047h", "9223372036854775807ns", "9223372036854775000ns", "5", "1d", "µs"])
        default: text = pick(["k", "json", "fields", "simple", "table", "protobuf", "ASCEND", "VALUE", "l", "s", "x", "exists", "value=v", "ff", "-1", "/nonexistent/ca.pem"])
        }
        return Array(text.utf8)
    }

    mutating func flagTokens(_ pool: [HelpFlag]) -> [[UInt8]] {
        let flag = pick(pool)
        let v = value(flag)
        let long = Array("--\(flag.name)".utf8)
        if let short = flag.short, chance(30) {
            let s = Array("-\(short)".utf8)
            if flag.type.isEmpty { return [s] }
            return pick([[s, v], [s + v], [s + [0x3D] + v]])
        }
        if flag.type.isEmpty && chance(60) { return [long] }
        return chance(50) ? [long + [0x3D] + v] : [long, v]
    }

    mutating func positional() -> [UInt8] {
        switch int(10) {
        case 0: return []
        case 1: return Array(repeating: pick([0x61, 0x2D, 0xFF, 0x3D]), count: 100 * 1024)
        case 2, 3: return rawBytes(1 + int(16))
        case 4: return Array(pick(["-", "-5", "--", "=", "-k"]).utf8)
        default: return Array(pick(["k", "/jobs/", "a", "value"]).utf8)
        }
    }

    mutating func misspelled() -> [UInt8] {
        var name = Array(pick(allFlags).name.utf8)
        switch int(3) {
        case 0: name.remove(at: int(name.count))
        case 1: name.insert(pick([0x5F, 0x78, 0xFF]), at: int(name.count + 1))
        default: name = name.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        }
        if allFlags.contains(where: { Array($0.name.utf8) == name }) { return Array("--nope".utf8) }
        return Array(pick(["--", "-", "---"]).utf8) + name
    }

    mutating func commandLine() -> [[UInt8]] {
        plausible = chance(50)
        // Each top-level command is as likely as any other, whatever number of subcommands it has.
        let top = pick(topLevel)
        let name = pick(commands.filter { $0 == top || $0.hasPrefix(top + " ") })
        let path = name.split(separator: " ").map { Array($0.utf8) }
        if plausible {
            var args = path
            for _ in 0..<int(4) { args += flagTokens(flags[name] ?? allFlags) }
            for _ in 0..<int(3) { args.insert(chance(70) ? Array(pick(["k", "/jobs/", "z", "value"]).utf8) : rawBytes(1 + int(8)), at: 1 + int(args.count)) }
            return args
        }
        var args: [[UInt8]] = chance(90) ? path : [Array(pick(["ge", "w", "de", "txn", "lease", "xyz", "GET"]).utf8)]
        let pool = flags[name] ?? allFlags
        for _ in 0..<int(6) {
            switch int(10) {
            case 0...4: args += flagTokens(chance(80) ? pool : allFlags)
            case 5, 6: args.append(positional())
            case 7: args.append(misspelled())
            case 8: args.append(Array("--".utf8))
            default: args.append(Array("-".utf8) + (0..<(1 + int(3))).map { _ in pick(Array("hwiqdxZ=".utf8)) })
            }
        }
        if chance(20) { args.swapAt(0, int(args.count)) }
        return args
    }
}

/// The real binary on a few hundred random command lines, pointed at a loopback port that refuses connections:
/// no crash (no signal), no hang (each run is killed after 10 s), a documented exit code, and an `Error:` line
/// on stderr for every failure.
///
/// `watch` is included: against an endpoint that refuses connections it fails at once (a watch retries only
/// after it was established), and the per-run limit would catch one that did not. Stdin is /dev/null, so
/// `put` without a value and `watch -i` end at once.
final class ArgumentFuzzBinaryTests: XCTestCase {
    func testHundredsOfRandomCommandLinesOnTheBinary() throws {
        let documented = try documentedExitCodes()
        let (commands, flags) = try flagsFromHelp()
        XCTAssertTrue(["get", "put", "del", "watch", "wait", "version"].allSatisfy(commands.contains), "\(commands)")
        XCTAssertGreaterThan(flags["get"]?.count ?? 0, 20, "flags read from help")
        // A port bound but never listened on refuses connections, and nothing else can take it meanwhile.
        let (closedFD, closedPort) = bindLoopback()
        defer { close(closedFD) }
        let closed = "127.0.0.1:\(closedPort)"
        var fuzzer = BinaryCommandLineFuzzer(seed: 0xB1_0006, commands: commands, flags: flags,
                                             endpointValues: ["", closed, "http://\(closed)", "https://\(closed)",
                                                              "\(closed),https://\(closed)", "127.0.0.1", "no-port", "ftp://\(closed)"])
        let start = Date()
        var byCode: [Int32: Int] = [:]
        var connected = 0
        let cases = 600
        for n in 0..<cases {
            let args = fuzzer.commandLine()
            // Endpoints only ever name the closed port: as the first flag, or (now and then) from the environment.
            let viaEnvironment = n % 7 == 0
            var extra: [(String, [UInt8])] = viaEnvironment ? [("ETCDCTL_ENDPOINTS", Array(closed.utf8))] : []
            if n % 5 == 0 { extra.append(("ETCDCTL_WATCH_KEY", fuzzer.rawBytes(3))) }
            if n % 11 == 0 { extra.append(("ETCDCTL_DIAL_TIMEOUT", Array(fuzzer.pick(["100ms", "x", "9223372036854775807ns"]).utf8))) }
            let argv = [Array(etchBinary.utf8)] + (viaEnvironment ? [] : [Array("--endpoints=\(closed)".utf8)]) + args
            let r = runRaw(etchBinary, argv: argv, environment: rawEnvironment(extra), timeout: 10)
            let shown = "case \(n): \(args.map { $0.count > 40 ? String(decoding: $0.prefix(40), as: UTF8.self) + "...(\($0.count))" : String(decoding: $0, as: UTF8.self) }.map(\.debugDescription)) env \(extra.map(\.0))"
            XCTAssertFalse(r.timedOut, "\(shown): still running after 10 s")
            XCTAssertNil(r.signal, "\(shown): killed by signal \(r.signal ?? 0)\n\(r.stderrText.prefix(1500))")
            guard let status = r.exitStatus else { continue }
            byCode[status, default: 0] += 1
            XCTAssertTrue(documented.contains(status), "\(shown): exit \(status) is not documented")
            if status != 0 {
                let errorLines = r.stderr.split(separator: 0x0A).filter { $0.starts(with: Array("Error: ".utf8)) }
                XCTAssertTrue(errorLines.count == 1 && errorLines[0].count > 7, "\(shown): exit \(status), stderr \(r.stderrText.prefix(300).debugDescription)")
            }
            XCTAssertLessThan(r.seconds, 5, "\(shown)")
            if r.stderrText.contains("cannot connect to any endpoint") { connected += 1 }
        }
        print("binary argument fuzz: \(cases) runs in \(String(format: "%.1f", Date().timeIntervalSince(start)))s; \(connected) tried to connect; exit codes \(byCode.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
        XCTAssertGreaterThan(connected, 60, "many runs got as far as connecting (and were refused)")
        XCTAssertGreaterThan(byCode[128, default: 0], 5)
        XCTAssertGreaterThan(byCode[0, default: 0], 5)
    }

    /// A parent may pass an empty argv (argc 0): etch must not crash on it.
    func testEmptyArgumentVector() {
        let r = runRaw(etchBinary, argv: [], environment: rawEnvironment(), timeout: 10)
        XCTAssertNil(r.signal, r.stderrText)
        XCTAssertEqual(r.exitStatus, 0, "no arguments: the root help")
        XCTAssertTrue(r.stdoutText.contains("Usage:"), r.stdoutText)
    }
}
