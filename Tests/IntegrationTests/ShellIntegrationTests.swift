import Foundation
import Glibc
import XCTest

/// The package's root directory (where the Makefile, completions/ and man/ are).
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A temporary directory with an `etch` on PATH that is the binary under test, for the shells.
final class ShellSandbox {
    let directory: String
    var path: String { directory + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") }

    init() throws {
        directory = NSTemporaryDirectory() + "etch-shell-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/bin/etch", withDestinationPath: etchBinary)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let p = directory + "/" + name
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

func requireTool(_ path: String) throws {
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw XCTSkip("\(path) is not installed: run make test, which installs it")
    }
}

/// Completion scripts, key completion against a real etcd, the man page, `-w jsonl` through jq, make install,
/// and the version line: each in the real tool it is for.
final class ShellIntegrationTests: XCTestCase {
    static let completionFiles = [("bash", "completions/etch.bash"), ("zsh", "completions/_etch"), ("fish", "completions/etch.fish")]

    func testCheckedInCompletionsAndManPageAreWhatTheBinaryPrints() throws {
        for (shell, file) in Self.completionFiles {
            let printed = try etch(["completion", shell])
            XCTAssertEqual(printed.status, 0)
            let checkedIn = try String(contentsOf: packageRoot.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(checkedIn, printed.out, "\(file) is stale: run make completions")
        }
        let man = try etch(["__man"])
        XCTAssertEqual(man.status, 0)
        XCTAssertEqual(try String(contentsOf: packageRoot.appendingPathComponent("man/etch.1"), encoding: .utf8), man.out,
                       "man/etch.1 is stale: run make man")
    }

    func testManPageIsLintCleanAndRenders() throws {
        try requireTool("/usr/bin/mandoc")
        let page = packageRoot.appendingPathComponent("man/etch.1").path
        let lint = try runProcess("/usr/bin/mandoc", ["-Tlint", page])
        XCTAssertEqual(lint.status, 0, lint.out)
        XCTAssertEqual(lint.out, "", "mandoc -Tlint reports nothing")
        try requireTool("/usr/bin/man")
        let shown = try runProcess("/usr/bin/man", ["-l", page], environment: ["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        for heading in ["NAME", "SYNOPSIS", "COMMANDS", "GLOBAL OPTIONS", "ENVIRONMENT", "OUTPUT FORMATS", "EXIT STATUS", "EXAMPLES"] {
            XCTAssertTrue(shown.out.contains("\n" + heading + "\n"), "man -l shows \(heading)")
        }
        XCTAssertTrue(shown.out.contains("ETCDCTL_WATCH_RANGE_END"))
    }

    // MARK: - Shells

    /// Runs bash's completion function on each line (cursor at the end) and returns COMPREPLY per line.
    func bashComplete(_ lines: [String], sandbox: ShellSandbox, environment: [String: String] = [:]) throws -> [[String]] {
        var script = "source \(packageRoot.path)/completions/etch.bash\n"
        script += #"comp() { COMP_LINE=$1; COMP_POINT=${#1}; COMPREPLY=(); _etch; printf '%s\t' "${COMPREPLY[@]}"; echo; }"# + "\n"
        for line in lines { script += "comp '\(line.replacingOccurrences(of: "'", with: "'\\''"))'\n" }
        let r = try runProcess("/bin/bash", ["--norc", "--noprofile", try sandbox.write("bash-test.sh", script)],
                               environment: environment.merging(["PATH": sandbox.path]) { $1 })
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            $0.split(separator: "\t").map(String.init)
        }
    }

    /// Types each line, a TAB and Enter into an interactive zsh (driven through zpty) whose `etch` is a function
    /// printing its arguments, and returns what it printed per line: the line as completion left it.
    func zshComplete(_ lines: [String], sandbox: ShellSandbox) throws -> [String] {
        let harness = #"""
        zmodload zsh/zpty
        dir=$1; shift
        zpty z TERM=dumb zsh -f -i
        zpty -w z "PS1='%% '; fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D; etch() { print -r -- \"GOT\"\"<<\$*>>\" }"
        drain() {
          local chunk t
          out=
          for t in {1..$1}; do
            while zpty -rt z chunk; do out+=$chunk; done
            [[ $out == *GOT\<\<*\>\>* ]] && return 0
            sleep 0.1
          done
          return 1
        }
        drain 10
        for line in "$@"; do
          zpty -n -w z "$line"$'\t'
          sleep 0.3
          zpty -n -w z $'\r'
          if drain 50; then
            out=${out##*GOT<<}
            print -r -- "${out%%>>*}"
          else
            print -r -- "NO RESULT: ${(q+)out}"
          fi
        done
        zpty -d z
        """#
        let r = try runProcess("/usr/bin/zsh", ["-f", try sandbox.write("zsh-harness.zsh", harness),
                                                packageRoot.appendingPathComponent("completions").path] + lines,
                               environment: ["PATH": sandbox.path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.split(separator: "\n").map(String.init)
    }

    /// fish's own `complete -C` for each line: the candidates, without descriptions.
    func fishComplete(_ lines: [String], sandbox: ShellSandbox) throws -> [[String]] {
        var script = "source \(packageRoot.path)/completions/etch.fish\n"
        for line in lines {
            let quoted = "'" + line.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            script += "set -l c (complete -C \(quoted) | string replace -r '\\t.*' ''); echo (string join \\t -- $c)\n"
        }
        let r = try runProcess("/usr/bin/fish", ["--no-config", try sandbox.write("fish-test.fish", script)],
                               environment: ["PATH": sandbox.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            $0.split(separator: "\t").map(String.init)
        }
    }

    func testBashCompletesCommandsFlagsValuesAndFiles() throws {
        try requireTool("/bin/bash")
        let sandbox = try ShellSandbox()
        let cert = try sandbox.write("client-cert.pem", "")
        let got = try bashComplete([
            "etch ge", "etch get --pre", "etch get k --sort-by MO", "etch --write-out=js", "etch wait k --for v",
            "etch --endpoints 127.0.0.1:1 -w json get --order D", "etch --cacert \(sandbox.directory)/client-c", "etch help wa",
            "etch ", "etch watch --rev", "etch member ", "etch member l", "etch member add n1 --pe", "etch -w json member li",
            "etch member add n1 --peer-urls=http://x ",
        ], sandbox: sandbox)
        XCTAssertEqual(got.count, 15)
        XCTAssertEqual(got[0], ["get"])
        XCTAssertEqual(got[1], ["--prefix"])
        XCTAssertEqual(got[2], ["MODIFY"])
        XCTAssertEqual(got[3], ["json", "jsonl"], "readline replaces only what follows '='")
        XCTAssertEqual(got[4], ["value="])
        XCTAssertEqual(got[5], ["DESCEND"], "global flags and their values before the command are skipped")
        XCTAssertEqual(got[6], [cert])
        XCTAssertEqual(got[7], ["watch", "wait"])
        XCTAssertEqual(Array(got[8].prefix(3)), ["get", "put", "del"])
        XCTAssertTrue(got[8].contains("member") && got[8].contains("watch") && got[8].contains("wait"), "\(got[8])")
        XCTAssertTrue(["alarm", "defrag", "endpoint", "move-leader"].allSatisfy(got[8].contains), "\(got[8])")
        XCTAssertEqual(got[9], ["--rev"])
        XCTAssertEqual(got[10], ["list", "add", "remove", "update", "promote"], "a parent completes its subcommands")
        XCTAssertEqual(got[11], ["list"])
        XCTAssertEqual(got[12], ["--peer-urls"], "a subcommand's own flags")
        XCTAssertEqual(got[13], ["list"])
        XCTAssertEqual(got[14], [], "member add takes no more operands")
    }

    func testZshCompletesCommandsFlagsAndValues() throws {
        try requireTool("/usr/bin/zsh")
        let sandbox = try ShellSandbox()
        let got = try zshComplete(["etch ge", "etch get --pre", "etch get k --sort-by MO", "etch -w jsonl wait k --for del",
                                   "etch member li", "etch member add n1 --peer"], sandbox: sandbox)
        XCTAssertEqual(Array(got.prefix(5)), ["get", "get --prefix", "get k --sort-by MODIFY", "-w jsonl wait k --for deleted",
                                              "member list"])
        XCTAssertTrue(got.count == 6 && got[5].hasPrefix("member add n1 --peer-urls"), "a subcommand's own flags: \(got)")
    }

    func testFishCompletesCommandsFlagsAndValues() throws {
        try requireTool("/usr/bin/fish")
        let sandbox = try ShellSandbox()
        let got = try fishComplete(["etch ge", "etch get --pre", "etch get k --sort-by MO", "etch -w js", "etch completion ",
                                    "etch --cacert /etc/host", "etch member ", "etch member add n1 --pe", "etch -w json member u"], sandbox: sandbox)
        XCTAssertEqual(got.count, 9)
        XCTAssertEqual(Set(got[6]), ["list", "add", "remove", "update", "promote"])
        XCTAssertEqual(got[7], ["--peer-urls"])
        XCTAssertEqual(got[8], ["update"])
        XCTAssertEqual(got[0], ["get"])
        XCTAssertEqual(got[1], ["--prefix"])
        XCTAssertEqual(got[2], ["MODIFY"])
        XCTAssertEqual(got[3], ["json", "jsonl"])
        XCTAssertEqual(Set(got[4]), ["bash", "zsh", "fish"])
        XCTAssertTrue(got[5].contains("/etc/hostname") || got[5].contains("/etc/hosts"), "\(got[5])")
    }

    // MARK: - With a real etcd

    func testKeysCompleteFromARealServerInEveryShell() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        for key in ["/jobs/alpha", "/jobs/beta", "/jobs/with space", "/other", "/x:y/z"] {
            XCTAssertEqual(try etch(["--endpoints", ep, "put", key, "v"]).status, 0)
        }
        let direct = try etch(["__complete-keys", "--", "/jobs/", "etch", "--endpoints", ep, "get"])
        XCTAssertEqual(direct.status, 0)
        XCTAssertEqual(direct.out, "/jobs/alpha\n/jobs/beta\n/jobs/with space\n")
        let fromEnv = try etch(["__complete-keys", "--", "/x", "ETCDCTL_ENDPOINTS=\(ep)", "etch", "del"])
        XCTAssertEqual(fromEnv.out, "/x:y/z\n", "an ETCDCTL_ assignment before etch on the line")
        let exported = try etch(["__complete-keys", "--", "/o", "etch", "watch"], environment: ["ETCDCTL_ENDPOINTS": ep])
        XCTAssertEqual(exported.out, "/other\n", "the environment")

        let sandbox = try ShellSandbox()
        if FileManager.default.isExecutableFile(atPath: "/bin/bash") {
            let bash = try bashComplete(["etch --endpoints \(ep) get /jobs/", "etch get --endpoints=\(ep) /x:", "etch put /o"],
                                        sandbox: sandbox, environment: ["ETCDCTL_ENDPOINTS": ep])
            XCTAssertEqual(bash, [["/jobs/alpha", "/jobs/beta", "/jobs/with\\ space"], ["y/z"], ["/other"]])
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") {
            let zsh = try zshComplete(["ETCDCTL_ENDPOINTS=\(ep) etch get /jobs/a", "etch --endpoints \(ep) wait /jobs/w"], sandbox: sandbox)
            XCTAssertEqual(zsh, ["get /jobs/alpha", "--endpoints \(ep) wait /jobs/with space"])
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fish") {
            let fish = try fishComplete(["etch --endpoints=\(ep) get /jobs/", "ETCDCTL_ENDPOINTS=\(ep) etch del /x"], sandbox: sandbox)
            XCTAssertEqual(fish, [["/jobs/alpha", "/jobs/beta", "/jobs/with space"], ["/x:y/z"]])
        }
    }

    func testKeyCompletionIsSilentAndQuickWithoutAServer() throws {
        let refused = try etch(["__complete-keys", "--", "/", "etch", "--endpoints", "127.0.0.1:\(freePort())", "get"])
        XCTAssertEqual(refused.status, 0)
        XCTAssertEqual(refused.out + refused.stderr, "")
        let hole = FakeServer(reply: nil)
        defer { hole.stop() }
        let silent = try etch(["__complete-keys", "--", "/", "etch", "--endpoints", "127.0.0.1:\(hole.port)", "--command-timeout", "30s", "get"],
                              timeout: 10)
        XCTAssertEqual(silent.out + silent.stderr, "")
        XCTAssertLessThan(silent.seconds, 2.5, "a server that accepts and never answers costs about a second")
    }

    func testJSONLinesThroughJq() throws {
        try requireTool("/usr/bin/jq")
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let ep = cluster.endpoint
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "j/text", "héllo \"world\"\n"]).status, 0)
        XCTAssertEqual(try etch(["--endpoints", ep, "put", "j/bin"], stdin: Data([0xFF, 0x00, 0x41])).status, 0)
        func sh(_ line: String) throws -> Outcome {
            try runProcess("/bin/sh", ["-c", line], environment: ["ETCH": etchBinary, "ETCDCTL_ENDPOINTS": ep])
        }
        let text = try sh(#"$ETCH get --prefix j/ -w jsonl | jq -r 'select(.key == "j/text") | .value'"#)
        XCTAssertEqual(text.out, "héllo \"world\"\n\n", "UTF-8 values are plain strings")
        let bin = try sh(#"$ETCH get j/bin -w jsonl | jq -r '.value_base64' | base64 -d | od -An -tx1"#)
        XCTAssertEqual(bin.out.trimmingCharacters(in: .whitespacesAndNewlines), "ff 00 41", "binary values lose nothing")
        let lines = try sh(#"$ETCH get --prefix j/ -w jsonl | jq -c '[.key // .key_base64, .version]'"#)
        XCTAssertEqual(lines.out, "[\"j/bin\",1]\n[\"j/text\",1]\n", "one object per key-value, versions as numbers")

        let fields = try etch(["--endpoints", ep, "get", "x", "-w", "fields"]).out
        let clusterID = try XCTUnwrap(fields.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        let put = try sh(#"$ETCH put j/text again --prev-kv -w jsonl | jq -r '.cluster_id, .prev_kv.value, .revision + 0'"#)
        let parts = put.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(parts.first, clusterID, "a 64-bit ID keeps every digit through jq")
        XCTAssertEqual(parts.dropFirst().first, "héllo \"world\"\n".split(separator: "\n").first.map(String.init))

        let watch = try sh(#"$ETCH watch --prefix j/ --rev 1 --max-events 3 -w jsonl | jq -c '[.type, .key // .key_base64]'"#)
        XCTAssertEqual(watch.status, 0, watch.stderr)
        XCTAssertEqual(watch.out, "[\"PUT\",\"j/text\"]\n[\"PUT\",\"j/bin\"]\n[\"PUT\",\"j/text\"]\n")
        let del = try sh(#"$ETCH del --prefix j/ --prev-kv -w jsonl | jq -c '[.deleted, (.prev_kvs | length)]'"#)
        XCTAssertEqual(del.out, "[2,2]\n")
        let deleted = try sh(#"$ETCH watch --prefix j/ --rev 1 --max-events 5 -w jsonl | jq -r 'select(.type == "DELETE") | .key'"#)
        XCTAssertEqual(deleted.out, "j/bin\nj/text\n")
    }

    // MARK: - Install, version, typos

    func testMakeInstallPutsEachFileWhereItsToolLooksAndUninstallRemovesThem() throws {
        try requireTool("/usr/bin/make")
        let dest = NSTemporaryDirectory() + "etch-install-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dest) }
        let make = { (target: String) in
            try runProcess("/usr/bin/make", ["-C", packageRoot.path, "--no-print-directory", target, "PREFIX=/opt/etch", "DESTDIR=" + dest,
                                             "BINARY=" + etchBinary])
        }
        let installed = try make("install-files")
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let files = ["bin/etch": 0o755, "share/man/man1/etch.1": 0o644, "share/bash-completion/completions/etch": 0o644,
                     "share/zsh/site-functions/_etch": 0o644, "share/fish/vendor_completions.d/etch.fish": 0o644]
        for (file, mode) in files {
            let path = dest + "/opt/etch/" + file
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, mode, file)
        }
        XCTAssertEqual(try runProcess(dest + "/opt/etch/bin/etch", ["completion", "fish"]).out,
                       try String(contentsOfFile: dest + "/opt/etch/share/fish/vendor_completions.d/etch.fish", encoding: .utf8))
        let removed = try make("uninstall")
        XCTAssertEqual(removed.status, 0, removed.stderr)
        for file in files.keys { XCTAssertFalse(FileManager.default.fileExists(atPath: dest + "/opt/etch/" + file), file) }
    }

    func testVersionNamesTheCommitItWasBuiltFrom() throws {
        let r = try etch(["version", "--endpoints", "127.0.0.1:\(freePort())"])
        XCTAssertEqual(r.status, 0)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), ["etch version: 0.1.0", "API version: 3.4"], "etcdctl's first two lines")
        let sha = try XCTUnwrap(lines.first { $0.hasPrefix("Git SHA: ") }).dropFirst("Git SHA: ".count)
        if sha == "unknown" { return }
        let commit = sha.hasSuffix("-dirty") ? sha.dropLast(6) : sha
        XCTAssertEqual(commit.count, 12, String(sha))
        XCTAssertTrue(commit.allSatisfy(\.isHexDigit), String(sha))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/git") {
            let known = try runProcess("/usr/bin/git", ["-C", packageRoot.path, "cat-file", "-e", String(commit) + "^{commit}"])
            XCTAssertEqual(known.status, 0, "\(commit) is a commit of this repository")
        }
    }

    func testUnknownFlagKeepsEtcdctlsErrorLineAndExitCodeAndSuggests() throws {
        let mine = try etch(["get", "--prefx", "a"])
        XCTAssertEqual(mine.status, 1)
        XCTAssertEqual(mine.out, "")
        let lines = mine.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.prefix(2), ["Error: unknown flag: --prefx", "Did you mean \"--prefix\"?"])
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/etcdctl") {
            let theirs = try runProcess("/usr/bin/etcdctl", ["get", "--prefx", "a"])
            XCTAssertEqual(mine.status, theirs.status)
            XCTAssertEqual(lines.first, theirs.stderr.split(separator: "\n").first.map(String.init))
        }
    }
}
