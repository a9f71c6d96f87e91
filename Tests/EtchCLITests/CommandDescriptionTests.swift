@testable import EtchCLI
import EtchOutput
import XCTest

/// The command descriptions are the one source of help, man page and completions: each must be complete, and
/// what is generated from them must say what they say.
final class CommandDescriptionTests: XCTestCase {
    var all: [CommandSpec] { Registry.allCommands.map(\.command) }

    func testEachRegistryEntryNamesTheCommandItBuilds() {
        for e in Registry.entries {
            let spec = e.build()
            XCTAssertEqual(spec.name, e.name)
            XCTAssertEqual(spec.hidden, e.hidden, e.name)
        }
    }

    func testEveryCommandHasSummaryUsageFlagsWithDefaultsAndAnExample() {
        for (path, c) in Registry.allCommands where c.run != nil {
            XCTAssertFalse(c.summary.isEmpty, c.name)
            XCTAssertFalse(c.summary.contains("\n"), "\(c.name): the summary is one line")
            XCTAssertFalse(c.summary.hasSuffix("."), "\(c.name): summaries read like etcdctl's, without a period")
            XCTAssertFalse(c.description.isEmpty, c.name)
            XCTAssertFalse(c.examples.isEmpty, "\(c.name) has no example")
            for (line, what) in c.examples {
                XCTAssertTrue(line.contains("etch "), "\(c.name): example \(line) runs etch")
                XCTAssertTrue(line.contains(c.name), "\(c.name): example \(line) shows the command")
                XCTAssertFalse(what.isEmpty, "\(c.name): example \(line) says what it does")
            }
            let help = HelpRenderer.command(c, path: path, inherited: [])
            XCTAssertTrue(help.hasPrefix(c.summary + "\n"), c.name)
            XCTAssertTrue(help.contains("Usage:\n  etch \(path.joined(separator: " "))"), c.name)
            XCTAssertTrue(help.contains("Examples:\n"), c.name)
            for f in c.flags {
                XCTAssertFalse(f.usage.isEmpty, "\(c.name) --\(f.name) has no usage")
                XCTAssertTrue(help.contains("--\(f.name)"), "\(c.name) help lists --\(f.name)")
                if f.kind != .bool && !f.defaultValue.isEmpty && f.defaultValue != "0" {
                    XCTAssertTrue(help.contains("(default "), "\(c.name) --\(f.name) shows its default")
                }
            }
        }
        XCTAssertTrue(HelpRenderer.command(GetCommand.spec, path: ["get"], inherited: []).contains(#"--consistency string   Linearizable(l) or Serializable(s) (default "l")"#))
    }

    func testAFlagNameMeansOneKindOfFlagEverywhere() {
        // The completion scripts skip flag values with one list for all commands.
        var kinds: [String: FlagKind] = [:]
        for f in GlobalFlags.specs + [GlobalFlags.help] + all.flatMap(\.flags) {
            // etcdctl's own exception: check's and make-mirror's --prefix take a value, everyone else's is a switch.
            if let known = kinds[f.name], f.name != "prefix" { XCTAssertEqual(known, f.kind, "--\(f.name)") }
            kinds[f.name] = f.kind
        }
        for f in all.flatMap(\.flags) {
            XCTAssertFalse(GlobalFlags.specs.contains { $0.name == f.name }, "--\(f.name) shadows a global flag")
        }
    }

    func testValuesThatCompleteAreDeclared() {
        let get = GetCommand.spec.flags
        XCTAssertEqual(get.first { $0.name == "sort-by" }?.choices, ["CREATE", "KEY", "MODIFY", "VALUE", "VERSION"])
        XCTAssertEqual(get.first { $0.name == "order" }?.choices, ["ASCEND", "DESCEND"])
        XCTAssertEqual(get.first { $0.name == "consistency" }?.choices, ["l", "s"])
        XCTAssertEqual(WaitCommand.spec.flags.first { $0.name == "for" }?.choices, ["exists", "deleted", "value=", "changed"])
        XCTAssertEqual(GlobalFlags.specs.first { $0.name == "write-out" }?.choices, OutputFormat.allCases.map(\.rawValue))
        XCTAssertEqual(GlobalFlags.specs.filter(\.isPath).map(\.name), ["cacert", "cert", "key"])
    }

    func testHiddenCommandsStayOutOfHelpManPageCompletionsAndSuggestions() {
        let hidden = all.filter(\.hidden).map(\.name)
        XCTAssertEqual(hidden, ["__complete-keys", "__man"])
        let root = HelpRenderer.root(), man = ManPage.render()
        let scripts = CompletionCommand.shells.compactMap(CompletionCommand.script(for:))
        XCTAssertEqual(scripts.count, 3)
        for name in hidden {
            XCTAssertFalse(root.contains(name), name)
            XCTAssertFalse(man.contains(".It Cm \(name)"), name)
        }
        for script in scripts {
            XCTAssertFalse(script.contains("__man"))
            let offered = script.split(separator: "\n").filter {
                $0.hasPrefix("_etch_commands=") || $0.contains("'__complete-keys:") || $0.contains("-a __complete-keys")
            }
            XCTAssertTrue(offered.allSatisfy { !$0.contains("__complete-keys") }, "\(offered)")
            XCTAssertTrue(script.contains("__complete-keys --"), "the scripts get keys through it")
        }
        for c in Registry.visible {
            XCTAssertTrue(root.contains("  \(c.name) "), c.name)
            XCTAssertTrue(man.contains(".It Cm \(c.name)"), c.name)
            for script in scripts { XCTAssertTrue(script.contains(c.name), c.name) }
        }
        XCTAssertEqual(Registry.lookup("__ma"), .unknown(suggestions: []), "plumbing is never suggested")
        XCTAssertEqual(Registry.lookup("complet"), .unknown(suggestions: ["completion"]), "etch's own commands match by exact name")
        XCTAssertEqual(Registry.lookup("comp"), .found("compaction"), "etcdctl's abbreviations keep their meaning")
        XCTAssertEqual(Registry.lookup("sn"), .found("snapshot"))
        XCTAssertEqual(Registry.lookup("mi"), .found("migrate"))
    }

    func run(_ args: [String]) -> (ExitCode, String, String) {
        let out = OutputBuffer(), err = OutputBuffer()
        let code = EtchCommandLine.run(args, environment: [:], stdout: out, stderr: err)
        return (code, String(decoding: out.bytes, as: UTF8.self), String(decoding: err.bytes, as: UTF8.self))
    }

    func testUnknownFlagsKeepEtcdctlsErrorAndSuggestTheClosest() {
        let (code, out, err) = run(["get", "--prefx", "a"])
        XCTAssertEqual(code, .error)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, "Error: unknown flag: --prefx\nDid you mean \"--prefix\"?\nRun 'etch get --help' for usage.\n")
        XCTAssertEqual(run(["watch", "k", "--rv", "3"]).2, "Error: unknown flag: --rv\nDid you mean \"--rev\"?\nRun 'etch watch --help' for usage.\n")
        XCTAssertEqual(run(["--endpoitns", "x", "get", "k"]).2.split(separator: "\n").prefix(2),
                       ["Error: unknown flag: --endpoitns", "Did you mean \"--endpoints\"?"], "global flags are suggested too")
        XCTAssertEqual(run(["--debgu"]).2, "Error: unknown flag: --debgu\nDid you mean \"--debug\"?\n", "with no command")
        XCTAssertEqual(run(["get", "k", "--zzzzzz"]).2, "Error: unknown flag: --zzzzzz\nRun 'etch get --help' for usage.\n",
                       "nothing close, no suggestion")
        XCTAssertEqual(run(["get", "k", "--lim", "3"]).2.split(separator: "\n")[1], "Did you mean \"--limit\"?")
        let (wcode, _, werr) = run(["wach", "k"])
        XCTAssertEqual(wcode, .error)
        XCTAssertTrue(werr.hasPrefix("Error: unknown command \"wach\" for \"etch\"\n\nDid you mean this?\n\twatch\n"), werr)
    }

    func testCompletionCommand() {
        let (code, out, _) = run(["completion", "zsh"])
        XCTAssertEqual(code, .success)
        XCTAssertEqual(out, ZshCompletion.script())
        XCTAssertTrue(out.hasPrefix("#compdef etch\n"))
        XCTAssertEqual(run(["completion", "tcsh"]).0, .badArgs)
        XCTAssertEqual(run(["completion"]).0, .badArgs)
    }

    func testKeyCompletionTakesTheServerSettingsFromTheLine() {
        let (flags, assignments) = CompleteKeysCommand.settings(in: [
            "ETCDCTL_ENDPOINTS=a:1", "FOO=bar", "/usr/bin/etch", "--rev", "--endpoints", "-w", "get", "--endpoints=b:2",
            "--prefix", "--cacert", "/ca.pem", "-wjson", "--user=u:p", "--sort-by", "KEY", "k", "--", "--key", "x",
        ])
        XCTAssertEqual(assignments, ["ETCDCTL_ENDPOINTS": "a:1", "FOO": "bar"])
        XCTAssertEqual(flags, ["-w", "get", "--endpoints=b:2", "--cacert", "/ca.pem", "-wjson", "--user=u:p"],
                       "values of other flags (--rev's --endpoints) are skipped; nothing after -- counts")
    }

    func testManPageHasEverySectionVariableCommandAndFlag() {
        let man = ManPage.render()
        var last = man.startIndex
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "GLOBAL OPTIONS", "ENVIRONMENT", "OUTPUT FORMATS",
                        "EXIT STATUS", "EXAMPLES", "SEE ALSO"] {
            guard let r = man.range(of: "\n.Sh \(section)\n") else { XCTFail("no section \(section)"); continue }
            XCTAssertLessThan(last, r.lowerBound, "\(section) in order")
            last = r.lowerBound
        }
        for name in GlobalFlags.specs.compactMap(\.environmentName) + GlobalFlags.otherKnownEnvironment.sorted() {
            XCTAssertTrue(man.contains(".It Ev \(name)\n"), name)
        }
        for f in Registry.visible.flatMap(\.flags) + GlobalFlags.specs {
            XCTAssertTrue(man.contains("Fl -\(f.name)"), f.name)
        }
        for code in ExitCode.allCases { XCTAssertTrue(man.contains(".It \(code.rawValue)\n"), "\(code)") }
        XCTAssertTrue(man.contains("jq"), "jq examples")
        XCTAssertTrue(man.contains("etch wait "), "CI waiting examples")
        for line in man.split(separator: "\n") where !line.hasPrefix(".") {
            XCTAssertFalse(line.hasPrefix("'"), "a text line starting with ' would be a request: \(line)")
        }
    }

    func testManSynopsisMarksUpArguments() {
        XCTAssertEqual(ManPage.synopsis("[options] <key> [range_end]"), "Oo Ar options Oc Ar key Oo Ar range_end Oc")
        XCTAssertEqual(ManPage.synopsis("<key> --for exists|deleted"), "Ar key Fl -for Ar exists|deleted")
        XCTAssertEqual(ManPage.synopsis("[--] [exec-command arg1 ...]"), "Oo Fl - Oc Oo Ar exec-command arg1 ... Oc")
    }
}
