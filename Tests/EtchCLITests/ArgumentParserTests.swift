@testable import EtchCLI
import EtchGateway
import XCTest

/// pflag's grammar as etcdctl uses it: a table of argument vectors and what each must parse to.
final class ArgumentParserTests: XCTestCase {
    let parser = ArgumentParser(flags: GetCommand.spec.flags + GlobalFlags.specs + [GlobalFlags.help])

    enum Expect {
        case ok(values: [String: [String]], positionals: [String])
        case error(String)
    }

    let table: [([String], Expect)] = [
        (["k", "--rev=3"], .ok(values: ["rev": ["3"]], positionals: ["k"])),
        (["k", "--rev", "3"], .ok(values: ["rev": ["3"]], positionals: ["k"])),
        (["-w", "json", "k"], .ok(values: ["write-out": ["json"]], positionals: ["k"])),
        (["-w=json", "k"], .ok(values: ["write-out": ["json"]], positionals: ["k"])),
        (["-wjson", "k"], .ok(values: ["write-out": ["json"]], positionals: ["k"])),
        (["--write-out=fields", "k"], .ok(values: ["write-out": ["fields"]], positionals: ["k"])),
        (["--prefix", "k"], .ok(values: ["prefix": ["true"]], positionals: ["k"])),
        (["k", "--prefix=false"], .ok(values: ["prefix": ["false"]], positionals: ["k"])),
        (["k", "--prefix=T"], .ok(values: ["prefix": ["true"]], positionals: ["k"])),
        (["k", "--prefix=0"], .ok(values: ["prefix": ["false"]], positionals: ["k"])),
        (["k", "--prefix", "false"], .ok(values: ["prefix": ["true"]], positionals: ["k", "false"])),
        (["k", "--rev", "2", "--rev", "3"], .ok(values: ["rev": ["3"]], positionals: ["k"])),
        (["k", "-w", "json", "-w", "simple"], .ok(values: ["write-out": ["simple"]], positionals: ["k"])),
        (["--endpoints", "a:1,b:2", "--endpoints=c:3", "k"], .ok(values: ["endpoints": ["a:1", "b:2", "c:3"]], positionals: ["k"])),
        (["k", "--", "--prefix"], .ok(values: [:], positionals: ["k", "--prefix"])),
        (["--", "-k"], .ok(values: [:], positionals: ["-k"])),
        (["k", "-"], .ok(values: [:], positionals: ["k", "-"])),
        (["k", "-w", "-h"], .ok(values: ["write-out": ["-h"]], positionals: ["k"])),
        (["k", "-hw", "json"], .ok(values: ["help": ["true"], "write-out": ["json"]], positionals: ["k"])),
        (["k", "--dial-timeout", "1m30s"], .ok(values: ["dial-timeout": ["1m30s"]], positionals: ["k"])),
        (["k", "--rev=-1"], .ok(values: ["rev": ["-1"]], positionals: ["k"])),
        (["k", "--rev="], .error(#"invalid argument "" for "--rev" flag: strconv.ParseInt: parsing "": invalid syntax"#)),
        (["k", "--rev=abc"], .error(#"invalid argument "abc" for "--rev" flag: strconv.ParseInt: parsing "abc": invalid syntax"#)),
        (["k", "--rev", "2.5"], .error(#"invalid argument "2.5" for "--rev" flag: strconv.ParseInt: parsing "2.5": invalid syntax"#)),
        (["k", "--rev", "99999999999999999999"], .error(#"invalid argument "99999999999999999999" for "--rev" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range"#)),
        (["k", "--prefix=yes"], .error(#"invalid argument "yes" for "--prefix" flag: strconv.ParseBool: parsing "yes": invalid syntax"#)),
        (["k", "--foo"], .error("unknown flag: --foo")),
        (["k", "--foo=bar"], .error("unknown flag: --foo")),
        (["k", "-x"], .error("unknown shorthand flag: 'x' in -x")),
        (["k", "-5"], .error("unknown shorthand flag: '5' in -5")),
        (["k", "-w"], .error("flag needs an argument: 'w' in -w")),
        (["k", "--rev"], .error("flag needs an argument: --rev")),
        (["k", "---prefix"], .error("bad flag syntax: ---prefix")),
        (["k", "--command-timeout=bad"], .error(#"invalid argument "bad" for "--command-timeout" flag: time: invalid duration "bad""#)),
    ]

    func testTable() {
        for (argv, expect) in table {
            let result = Result { () throws(ParseError) in try parser.parse(argv) }
            switch (expect, result) {
            case let (.ok(values, positionals), .success(parsed)):
                XCTAssertEqual(parsed.values, values, "\(argv)")
                XCTAssertEqual(parsed.positionals, positionals, "\(argv)")
            case let (.error(message), .failure(error)):
                XCTAssertEqual(error.message, message, "\(argv)")
            case let (_, .success(parsed)):
                XCTFail("\(argv) parsed to \(parsed), expected an error")
            case let (_, .failure(error)):
                XCTFail("\(argv) failed: \(error.message)")
            }
        }
    }

    func testDashDashPositionIsRecordedForWatchExec() throws {
        let p = ArgumentParser(flags: WatchCommand.spec.flags + GlobalFlags.specs)
        let parsed = try p.parse(["k", "--rev", "3", "--", "echo", "--rev"])
        XCTAssertEqual(parsed.positionals, ["k", "echo", "--rev"])
        XCTAssertEqual(parsed.dashDashIndex, 1)
        let plan = try WatchCommand.plan(parsed, environment: [:])
        XCTAssertEqual(plan.exec, ["echo", "--rev"])
        XCTAssertEqual(plan.request.key, Array("k".utf8))
        XCTAssertEqual(plan.request.startRevision, 3)
    }

    func testGoDurations() {
        XCTAssertEqual(GoDuration.parse("2s"), 2_000_000_000)
        XCTAssertEqual(GoDuration.parse("1m30s"), 90_000_000_000)
        XCTAssertEqual(GoDuration.parse("1.5h"), 5_400_000_000_000)
        XCTAssertEqual(GoDuration.parse("300ms"), 300_000_000)
        XCTAssertEqual(GoDuration.parse("0"), 0)
        XCTAssertEqual(GoDuration.parse("-1s"), -1_000_000_000)
        XCTAssertNil(GoDuration.parse("5"))
        XCTAssertNil(GoDuration.parse("s"))
        XCTAssertNil(GoDuration.parse("1x"))
        XCTAssertNil(GoDuration.parse(""))
    }

    func testCommandLookupMatchesCobraPrefixes() {
        XCTAssertEqual(Registry.lookup("ge"), .found("get"))
        XCTAssertEqual(Registry.lookup("p"), .found("put"))
        XCTAssertEqual(Registry.lookup("wat"), .found("watch"))
        XCTAssertEqual(Registry.lookup("ver"), .found("version"))
        XCTAssertEqual(Registry.lookup("compact"), .found("compaction"))
        XCTAssertEqual(Registry.lookup("tx"), .found("txn"))
        XCTAssertEqual(Registry.lookup("al"), .found("alarm"))
        XCTAssertEqual(Registry.lookup("def"), .found("defrag"))
        XCTAssertEqual(Registry.lookup("en"), .found("endpoint"))
        XCTAssertEqual(Registry.lookup("mov"), .found("move-leader"))
        XCTAssertEqual(Registry.lookup("lea"), .found("lease"))
        XCTAssertEqual(Registry.lookup("lo"), .found("lock"))
        XCTAssertEqual(Registry.lookup("el"), .found("elect"))
        XCTAssertEqual(Registry.lookup("mig"), .found("migrate"))
        XCTAssertEqual(Registry.lookup("make-m"), .found("make-mirror"))
        if case let .unknown(s) = Registry.lookup("l") { XCTAssertEqual(s, ["del", "lease", "lock"], "ambiguous, in etcdctl's order") } else { XCTFail("l is ambiguous") }
        if case let .unknown(s) = Registry.lookup("m") { XCTAssertEqual(s, ["move-leader", "member", "make-mirror", "migrate"], "ambiguous, in etcdctl's order") } else { XCTFail("m is ambiguous") }
        XCTAssertEqual(Registry.resolve(["endpoint", "he"])?.path, ["endpoint", "health"])
        XCTAssertEqual(Registry.resolve(["endpoint", "he"])?.inherited.map(\.name), ["cluster"], "--cluster is inherited, as cobra's persistent flag")
        XCTAssertEqual(Registry.resolve(["alarm", "d"])?.path, ["alarm", "disarm"])
        if case let .unknown(s) = Registry.lookup("de") { XCTAssertEqual(s, ["get", "del", "defrag"], "as etcdctl suggests") } else { XCTFail("de is ambiguous") }
        if case let .unknown(s) = Registry.lookup("gett") { XCTAssertEqual(s, ["get"]) } else { XCTFail("gett is unknown") }
        if case let .unknown(s) = Registry.lookup("Get") { XCTAssertEqual(s, ["get", "put", "del"]) } else { XCTFail("Get is unknown") }
    }

    func testFindCommandSkipsGlobalFlagValues() {
        XCTAssertEqual(EtchCommandLine.findCommand(["--endpoints", "x:1", "get", "k"]), 2)
        XCTAssertEqual(EtchCommandLine.findCommand(["--hex", "get", "k"]), 1)
        XCTAssertEqual(EtchCommandLine.findCommand(["-w", "json", "get"]), 2)
        XCTAssertEqual(EtchCommandLine.findCommand(["--foo", "get", "k"]), 2, "cobra takes an unknown --flag's next word as its value")
        XCTAssertNil(EtchCommandLine.findCommand(["--hex"]))
    }
}

/// The pure argument checks of each command, with etcdctl's messages and exit codes.
final class CommandArgumentTests: XCTestCase {
    func parse(_ spec: CommandSpec, _ argv: [String]) throws -> ParsedArguments {
        try ArgumentParser(flags: spec.flags + GlobalFlags.specs).parse(argv)
    }

    func expectError<T>(_ code: ExitCode, _ message: String, _ body: () throws -> T, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected \(message)", line: line)
        } catch let e as CLIError {
            XCTAssertEqual(e.code, code, line: line)
            XCTAssertEqual(e.message, message, line: line)
        } catch {
            XCTFail("unexpected \(error)", line: line)
        }
    }

    func testGetRequests() throws {
        var r = try GetCommand.request(parse(GetCommand.spec, ["a", "--prefix"]))
        XCTAssertEqual(r.rangeEnd, Array("b".utf8))
        r = try GetCommand.request(parse(GetCommand.spec, ["", "--prefix"]))
        XCTAssertEqual(r.key, [0]); XCTAssertEqual(r.rangeEnd, [0])
        r = try GetCommand.request(parse(GetCommand.spec, ["a", "--from-key"]))
        XCTAssertEqual(r.rangeEnd, [0])
        r = try GetCommand.request(parse(GetCommand.spec, ["a", "--order", "descend"]))
        XCTAssertEqual(r.sortOrder, .descend); XCTAssertEqual(r.sortTarget, .key)
        r = try GetCommand.request(parse(GetCommand.spec, ["a", "--sort-by", "key", "--order", "ASCEND"]))
        XCTAssertEqual(r.sortOrder, .none, "clientv3 drops ascending-by-key, the server's own order")
        r = try GetCommand.request(parse(GetCommand.spec, ["a", "z", "extra"]))
        XCTAssertEqual(r.rangeEnd, Array("z".utf8), "etcdctl ignores a third argument")
        XCTAssertEqual(prefixRangeEnd([0x61, 0xFF]), [0x62])
        XCTAssertEqual(prefixRangeEnd([0xFF, 0xFF]), [0])
    }

    func testGetErrors() {
        expectError(.badArgs, "get command needs one argument as key and an optional argument as range_end") { try GetCommand.request(parse(GetCommand.spec, [])) }
        expectError(.badArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one") { try GetCommand.request(parse(GetCommand.spec, ["k", "--prefix", "--from-key"])) }
        expectError(.badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set") { try GetCommand.request(parse(GetCommand.spec, ["a", "b", "--prefix"])) }
        expectError(.badFeature, "unknown consistency flag \"S\"") { try GetCommand.request(parse(GetCommand.spec, ["k", "--consistency=S"])) }
        expectError(.badFeature, "bad sort order bad") { try GetCommand.request(parse(GetCommand.spec, ["k", "--order=bad"])) }
        expectError(.badFeature, "bad sort target bad") { try GetCommand.request(parse(GetCommand.spec, ["k", "--sort-by=bad"])) }
    }

    func testPutRequests() throws {
        let r = try PutCommand.request(parse(PutCommand.spec, ["k", "v", "--lease", "1a"]), readStdin: { XCTFail("no stdin"); return [] })
        XCTAssertEqual(r.lease, 0x1a)
        let s = try PutCommand.request(parse(PutCommand.spec, ["k"]), readStdin: { [0xFF, 0x00, 0x0A] })
        XCTAssertEqual(s.value, [0xFF, 0x00, 0x0A], "stdin is taken byte for byte")
        let i = try PutCommand.request(parse(PutCommand.spec, ["k", "--ignore-value"]), readStdin: { XCTFail("no stdin"); return [] })
        XCTAssertTrue(i.ignoreValue)
        expectError(.badArgs, "put command needs 1 argument and input from stdin or 2 arguments") { try PutCommand.request(parse(PutCommand.spec, ["k"]), readStdin: { [] }) }
        expectError(.badArgs, "put command needs only 1 argument when 'ignore-value' is set") { try PutCommand.request(parse(PutCommand.spec, ["k", "v", "--ignore-value"]), readStdin: { [] }) }
        expectError(.badArgs, #"bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex"#) { try PutCommand.request(parse(PutCommand.spec, ["k", "v", "--lease", "zz"]), readStdin: { [] }) }
        expectError(.badArgs, #"bad lease ID (strconv.ParseInt: parsing "0x10": invalid syntax), expecting ID in Hex"#) { try PutCommand.request(parse(PutCommand.spec, ["k", "v", "--lease", "0x10"]), readStdin: { [] }) }
        XCTAssertEqual(try Operands.hexInt64("-1"), -1)
        XCTAssertEqual(try Operands.hexInt64("-8000000000000000"), Int64.min)
        XCTAssertEqual(try Operands.hexInt64("7fffffffffffffff"), Int64.max)
        XCTAssertThrowsError(try Operands.hexInt64("8000000000000000")) { XCTAssertEqual(($0 as? StrconvError)?.message, #"strconv.ParseInt: parsing "8000000000000000": value out of range"#) }
        XCTAssertEqual(try Operands.hexUInt64("ffffffffffffffff"), UInt64.max)
        XCTAssertThrowsError(try Operands.hexUInt64("+1")) { XCTAssertEqual(($0 as? StrconvError)?.message, #"strconv.ParseUint: parsing "+1": invalid syntax"#) }
        XCTAssertEqual(try Operands.int64("+12"), 12)
        XCTAssertThrowsError(try Operands.int64("99999999999999999999")) { XCTAssertEqual(($0 as? StrconvError)?.message, #"strconv.ParseInt: parsing "99999999999999999999": value out of range"#) }
    }

    func testDelErrors() {
        expectError(.badArgs, "del command needs one argument as key and an optional argument as range_end") { try DelCommand.request(parse(DelCommand.spec, ["a", "b", "c"])) }
        expectError(.badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set") { try DelCommand.request(parse(DelCommand.spec, ["a", "b", "--from-key"])) }
    }

    func testWatchArguments() throws {
        let env = ["ETCDCTL_WATCH_KEY": "wk", "ETCDCTL_WATCH_RANGE_END": "wz"]
        let p = try WatchCommand.plan(parse(WatchCommand.spec, ["--", "echo", "hi"]), environment: env)
        XCTAssertEqual(p.request.key, Array("wk".utf8)); XCTAssertEqual(p.request.rangeEnd, Array("wz".utf8)); XCTAssertEqual(p.exec, ["echo", "hi"])
        let q = try WatchCommand.plan(parse(WatchCommand.spec, ["a", "b", "c"]), environment: [:])
        XCTAssertEqual(q.request.rangeEnd, [], "etcdctl watches only the key when given three words")
        expectError(.badArgs, "bad number of arguments") { try WatchCommand.plan(parse(WatchCommand.spec, []), environment: [:]) }
        expectError(.badArgs, "bad number of arguments") { try WatchCommand.plan(parse(WatchCommand.spec, ["--", "k"]), environment: [:]) }
        expectError(.badArgs, "bad number of arguments (found separator --, but no commands)") { try WatchCommand.plan(parse(WatchCommand.spec, ["k", "--"]), environment: [:]) }
        expectError(.badArgs, "bad number of arguments (found conflicting environment key)") { try WatchCommand.plan(parse(WatchCommand.spec, ["k"]), environment: ["ETCDCTL_WATCH_KEY": "x"]) }
        expectError(.badArgs, #"ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END="x""#) { try WatchCommand.plan(parse(WatchCommand.spec, ["k"]), environment: ["ETCDCTL_WATCH_RANGE_END": "x"]) }
        expectError(.badArgs, "`range_end` and `--prefix` are mutually exclusive") { try WatchCommand.plan(parse(WatchCommand.spec, ["a", "b", "--prefix"]), environment: [:]) }
    }

    func testEnvironmentRules() throws {
        let parsed = try parse(GetCommand.spec, ["k", "--endpoints", "x:1"])
        XCTAssertThrowsError(try GlobalOptions.resolve(parsed, environment: ["ETCDCTL_ENDPOINTS": "y:2"])) { e in
            XCTAssertEqual((e as? CLIError)?.message, "conflicting environment variable \"ETCDCTL_ENDPOINTS\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)")
        }
        let (o, warnings) = try GlobalOptions.resolve(parse(GetCommand.spec, ["k"]), environment: ["ETCDCTL_ENDPOINTS": "a:1,b:2", "ETCDCTL_WRITE_OUT": "json", "ETCDCTL_HEX": "1", "ETCDCTL_FOO": "secret", "ETCDCTL_API": "3"])
        XCTAssertEqual(o.endpoints, ["a:1", "b:2"]); XCTAssertEqual(o.writeOut, "json"); XCTAssertTrue(o.hex)
        XCTAssertEqual(warnings, ["unrecognized environment variable ETCDCTL_FOO"], "the value is never echoed")
        XCTAssertThrowsError(try GlobalOptions.resolve(parse(GetCommand.spec, ["k"]), environment: ["ETCDCTL_DIAL_TIMEOUT": "bad"]))
    }

    func testEndpoints() throws {
        var o = GlobalOptions()
        o.endpoints = ["127.0.0.1:2379", "http://a:1", "https://b:2/", "[::1]:3"]
        XCTAssertEqual(try o.parsedEndpoints().map(\.baseURL), ["http://127.0.0.1:2379", "http://a:1", "https://b:2", "http://[::1]:3"])
        o.endpoints = ["bad::url"]
        XCTAssertThrowsError(try o.parsedEndpoints())
        o.endpoints = [""]
        XCTAssertThrowsError(try o.parsedEndpoints()) { XCTAssertEqual(($0 as? CLIError)?.code, .badConnection) }
        o.endpoints = ["h:1"]; o.caFile = "/ca.pem"
        XCTAssertEqual(try o.parsedEndpoints().map(\.baseURL), ["https://h:1"], "TLS files make a bare host:port https")
    }
}

/// Interactive watch lines, split and interpreted as etcdctl does.
final class InteractiveWatchTests: XCTestCase {
    func testArgify() throws {
        XCTAssertEqual(try Argify.split("watch  --prefix k"), ["watch", "--prefix", "k"])
        XCTAssertEqual(try Argify.split("watch 'a b' \"c\\\"d\""), ["watch", "a b", "c\"d"])
        XCTAssertEqual(try Argify.split(""), [])
    }

    func testActions() throws {
        XCTAssertEqual(try InteractiveWatch.action(for: "progress", environment: [:]), .progress)
        XCTAssertEqual(try InteractiveWatch.action(for: "", environment: [:]), .invalid("Invalid command:  (watch and progress supported)"))
        XCTAssertEqual(try InteractiveWatch.action(for: "get k", environment: [:]), .invalid("Invalid command get k (only support watch)"))
        XCTAssertEqual(try InteractiveWatch.action(for: "watch", environment: [:]), .invalid("Invalid command watch (command type or key is not provided)"))
        XCTAssertEqual(try InteractiveWatch.action(for: "watch a b --prefix", environment: [:]),
                       .invalid("Invalid command watch a b --prefix (`range_end` and `--prefix` are mutually exclusive)"))
        guard case let .watch(plan) = try InteractiveWatch.action(for: "watch --rev 3 k -- echo x", environment: [:]) else {
            return XCTFail("a watch line")
        }
        XCTAssertEqual(plan.request.startRevision, 3)
        XCTAssertEqual(plan.exec, ["echo", "x"])
        XCTAssertThrowsError(try InteractiveWatch.action(for: "watch k --rev=x", environment: [:])) {
            XCTAssertEqual(($0 as? CLIError)?.code, .badArgs)
        }
    }
}
