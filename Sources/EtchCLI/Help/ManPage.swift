/// etch(1) in mdoc, generated from the command descriptions (`etch __man`, `make man`, man/etch.1).
enum ManPage {
    /// The date of the page, moved on when its content changes meaningfully.
    static let date = "November 24, 2026"

    /// Variables etch reads besides the global flags' `ETCDCTL_*` forms, and the ones watch sets for its command.
    static let otherEnvironment: [(String, String)] = [
        ("ETCDCTL_API", "Accepted for etcdctl's sake; any value but 3 is an error, since etch speaks only the v3 API."),
        ("ETCDCTL_WATCH_KEY", "The key of watch when none is given as an argument."),
        ("ETCDCTL_WATCH_RANGE_END", "The range end of watch, with ETCDCTL_WATCH_KEY."),
        ("ETCD_WATCH_REVISION", "Set by watch for the command it runs per event: the revision of the response."),
        ("ETCD_WATCH_EVENT_TYPE", "Set by watch for its command: \"PUT\" or \"DELETE\", quoted as Go's %q quotes."),
        ("ETCD_WATCH_KEY", "Set by watch for its command: the key, quoted as Go's %q quotes."),
        ("ETCD_WATCH_VALUE", "Set by watch for its command: the value, quoted as Go's %q quotes."),
    ]

    /// Examples of scripts beyond the commands' own: (what it does, command lines).
    static let examples: [(String, [String])] = [
        ("Print every key under a prefix with its value, through jq:", [
            "etch get --prefix /config/ -w jsonl | jq -r '.key + \"=\" + .value'",
        ]),
        ("The same with etcdctl's json format, whose keys and values are base64:", [
            "etch get --prefix /config/ -w json | jq -r '.kvs[] | (.key | @base64d) + \"=\" + (.value | @base64d)'",
        ]),
        ("Values that are not UTF-8 text come as value_base64 (keys as key_base64); list the keys that hold one:", [
            "etch get --prefix / -w jsonl | jq -r 'select(has(\"value_base64\")) | .key'",
        ]),
        ("Follow deletions under a prefix as they happen, one compact line each:", [
            "etch watch --prefix /jobs/ -w jsonl | jq -c 'select(.type == \"DELETE\") | {key, rev: .mod_revision}'",
        ]),
        ("Count the keys under a prefix without printing them:", [
            "etch get --prefix /jobs/ -w fields --count-only | awk '/Count/ {print $3}'",
        ]),
        ("In CI, block until a service has registered, failing the job after a minute (exit status 124):", [
            "etch wait /services/api --for exists --timeout 60s",
        ]),
        ("Wait for a value, then for the next change, printing it:", [
            "etch wait /config/mode --for value=maintenance -q",
            "etch wait /leader --for changed -w jsonl | jq -r .value",
        ]),
        ("Stop after the first event, or after 30 seconds at most:", [
            "etch watch --prefix /jobs/ --max-events 1 --timeout 30s",
        ]),
        ("Run a command for every change:", [
            "etch watch /config -- sh -c 'echo \"$ETCD_WATCH_KEY is now $ETCD_WATCH_VALUE\"'",
        ]),
    ]

    /// Text for a text line: backslashes escaped, a leading control character neutralised.
    static func escape(_ s: String) -> String {
        var out = s.replacingAll("\\", with: "\\e")
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }

    /// A sentence of prose as text lines of at most 80 bytes, broken at spaces; a lone `--` (the end of flags,
    /// not a dash) written as two minus signs.
    static func wrapped(_ sentence: String) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in sentence.split(separator: " ") {
            var w = word == "--" ? "\\-\\-" : escape(String(word)).replacingAll("'--'", with: "'\\-\\-'")
            // Names, flags and paths are not hyphenated.
            let core = w.reversed().drop { ".,;:)".contains($0) }
            if core.count > 1, core.contains(where: { "-_/=*.".contains($0) }), !w.hasPrefix("\\") { w = "\\%" + w }
            if !line.isEmpty && line.utf8.count + 1 + w.utf8.count > 80 {
                lines.append(line)
                line = ""
            }
            if line.isEmpty, w.hasPrefix(".") || w.hasPrefix("'") {
                line = "\\&" + w
            } else {
                line += (line.isEmpty ? "" : " ") + w
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Prose as text lines, one sentence per line (mdoc's rule), escaped.
    static func prose(_ text: String) -> String {
        var lines: [String] = []
        var current = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            current.append(c)
            let endsSentence = (c == "." || c == "!" || c == "?" || (c == ")" && i > 0 && chars[i - 1] == "."))
            if endsSentence, i + 2 < chars.count, chars[i + 1] == " ", chars[i + 2].isUppercase {
                lines.append(current)
                current = ""
                i += 2
                continue
            }
            i += 1
        }
        if !current.isEmpty { lines.append(current) }
        return lines.flatMap(wrapped).joined(separator: "\n") + "\n"
    }

    /// A synopsis like `[options] <key> [range_end]` as mdoc macros: `Oo Ar options Oc Ar key Op ...`.
    static func synopsis(_ arguments: String) -> String {
        var out: [String] = []
        var rest = Substring(arguments)
        func word(_ w: Substring) -> String {
            if w.hasPrefix("-") { return "Fl " + w.dropFirst() }
            return "Ar " + w
        }
        while let first = rest.first {
            if first == " " { rest = rest.dropFirst(); continue }
            if first == "[", let close = rest.firstIndex(of: "]") {
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                let words = inner.split(separator: " ")
                if let lead = words.first {
                    out.append("Oo " + word(lead) + (words.count > 1 ? " " + words.dropFirst().joined(separator: " ") : "") + " Oc")
                }
                rest = rest[rest.index(after: close)...]
            } else if first == "<", let close = rest.firstIndex(of: ">") {
                out.append("Ar " + rest[rest.index(after: rest.startIndex)..<close])
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                out.append(word(rest[..<end]))
                rest = rest[end...]
            }
        }
        return out.joined(separator: " ")
    }

    static func valueName(_ f: FlagSpec) -> String {
        switch f.kind {
        case .bool: return ""
        case .duration: return "duration"
        case .int64: return "int"
        case .string: return f.isPath ? "file" : "string"
        case .stringSlice: return "list"
        }
    }

    /// One flag as a tag list item.
    static func flagItem(_ f: FlagSpec) -> String {
        var head = ".It"
        if let short = f.short { head += " Fl \(short) ,"}
        head += " Fl -\(f.name)"
        let value = valueName(f)
        if !value.isEmpty { head += " Ar \(value)" }
        var body = f.usage
        if !body.hasSuffix(".") { body += "." }
        if !f.choices.isEmpty { body += " One of: " + f.choices.joined(separator: ", ") + "." }
        let shownDefault = f.kind == .bool ? (f.defaultValue == "true") : !(f.defaultValue.isEmpty || f.defaultValue == "0")
        if shownDefault { body += " Default: " + f.defaultValue + "." }
        return head + "\n" + prose(body)
    }

    static func flagList(_ flags: [FlagSpec]) -> String {
        ".Bl -tag -width Ds\n" + flags.map(flagItem).joined() + ".El\n"
    }

    static func literal(_ lines: [String]) -> String {
        ".Bd -literal -offset indent\n" + lines.map(escape).joined(separator: "\n") + "\n.Ed\n"
    }

    static func render() -> String {
        var s = """
        .\\" Generated by `etch __man` (make man) from etch's command descriptions; do not edit.
        .Dd \(date)
        .Dt ETCH 1
        .Os
        .Sh NAME
        .Nm etch
        .Nd command-line client for etcd over its HTTP/JSON gateway, a drop-in for etcdctl
        .Sh SYNOPSIS
        .Nm
        .Op Ar global options
        .Ar command
        .Op Ar options
        .Op Ar arguments ...
        .Sh DESCRIPTION
        .Nm

        """
        s += prose("""
        is a client for etcd that speaks etcd's HTTP/JSON gateway (/v3/...) through libcurl. \
        It is a drop-in for etcdctl 3.4: the same commands, flags and flag grammar, the same ETCDCTL_* \
        environment variables, the same output byte for byte in the simple, json and fields formats, and the same \
        exit codes. Beyond etcdctl, an unreachable endpoint fails within the dial timeout (for watch too), errors \
        name the endpoint, a watch whose stream breaks resumes at the right revision without losing or repeating \
        an event, large ranges are read in pages at one revision, and the jsonl format and the wait command are \
        made for scripts.
        """)
        s += ".Pp\n" + prose("""
        Flags follow etcdctl's grammar (spf13/pflag): --rev=3 and --rev 3; -w json, -w=json and -wjson; booleans as \
        --prefix or --prefix=false; flags before or after the arguments; -- ends the flags. \
        Global options may come before or after the command. \
        A command may be abbreviated to a unique prefix, as in etcdctl (etch ge k). \
        An unknown command or flag is named on standard error with the closest existing one. \
        Errors are one line, Error: and a message, on standard error.
        """)
        s += ".Sh COMMANDS\n.Bl -tag -width Ds\n"
        // Every command of the tree, a parent's subcommands after it under their full names (member list).
        for node in CompletionModel.nodes {
            let c = node.command
            s += ".It Cm \(node.id.replacingAll("/", with: " "))"
            if !c.arguments.isEmpty { s += " " + synopsis(c.arguments) }
            s += "\n" + (c.description.hasPrefix(c.summary) ? "" : prose(c.summary + ".")) + prose(c.description)
            if !node.subcommands.isEmpty {
                s += prose("Subcommands: " + node.subcommands.map(\.name).joined(separator: ", ") + ".")
            }
            s += flagList(node.flags + [GlobalFlags.help])
            if c.examples.isEmpty { continue }
            s += ".Pp\nExamples:\n"
            var lines: [String] = []
            for (line, what) in c.examples { lines += (lines.isEmpty ? [] : [""]) + ["# " + what, line] }
            s += literal(lines)
        }
        s += ".El\n"
        s += ".Sh GLOBAL OPTIONS\n" + prose("""
        These apply to every command. Each can also be set by its ETCDCTL_ variable (see ENVIRONMENT).
        """) + flagList(GlobalFlags.specs)
        s += ".Sh ENVIRONMENT\n" + prose("""
        Each global option can be set as ETCDCTL_ and its name in upper case with - as _. \
        As in etcdctl, setting an option both as a flag and as a variable is an error. \
        A variable with an invalid value is an error, and an unknown ETCDCTL_ variable is named in a warning \
        (its value is never echoed, as it may be a secret).
        """)
        s += ".Bl -tag -width Ds\n"
        for f in GlobalFlags.specs {
            guard let env = f.environmentName else { continue }
            s += ".It Ev \(env)\nSets\n.Fl -\(f.name) .\n"
        }
        for (name, what) in otherEnvironment { s += ".It Ev \(name)\n" + prose(what) }
        s += ".El\n"
        s += ".Sh OUTPUT FORMATS\n" + prose("""
        The -w or --write-out option chooses the format of results on standard output.
        """)
        s += ".Bl -tag -width Ds\n"
        s += ".It Cm simple\n" + prose("""
        The default: raw lines. get prints each key and its value on lines of their own (with --keys-only, the \
        key and an empty line); put prints OK; del the number of keys deleted; watch PUT or DELETE, then the key \
        and the value, per event. With --hex every byte of keys and values is written as \\xNN.
        """)
        s += ".It Cm json\n" + prose("""
        etcdctl's JSON: one object per response, as Go's encoding/json writes the client's structs. \
        Keys and values are base64, 64-bit numbers are JSON numbers (which jq rounds beyond 2^53), zero fields \
        are left out, a DELETE event has \"type\":1, and watch writes one line per response.
        """)
        s += ".It Cm fields\n" + prose("""
        etcdctl's fields: one \"Name\" : value line per field, with keys and values quoted as Go's %q quotes.
        """)
        s += ".It Cm jsonl\n" + prose("""
        etch only: JSON lines for jq, one object per key-value (get, wait), per event (watch) and per result \
        (put, del). Keys and values are strings when they are valid UTF-8; otherwise they come as key_base64 or \
        value_base64, so nothing is lost. Revisions, versions and counts are numbers; cluster and member IDs \
        are decimal strings and lease IDs hexadecimal strings (as put --lease takes them), so jq cannot round \
        them. With --keys-only no value is printed. --print-value-only and --count-only keep etcdctl's rule \
        (simple and fields only).
        """)
        s += literal([
            #"get:   {"key":"a","value":"1","create_revision":2,"mod_revision":5,"version":3,"lease":"694d77aa9e38260f"}"#,
            #"watch: {"type":"PUT","key":"a","value":"2","create_revision":2,"mod_revision":6,"version":4}"#,
            #"       {"type":"DELETE","key":"a","mod_revision":7}"#,
            #"       {"type":"PROGRESS","revision":7}"#,
            #"put:   {"revision":8,"cluster_id":"14841639068965178418","member_id":"10276657743932975437","raft_term":2}"#,
            #"del:   {"deleted":1,"revision":9,"cluster_id":"...","member_id":"...","raft_term":2}"#,
        ])
        s += prose("""
        With --prev-kv, put adds \"prev_kv\":{...}, del \"prev_kvs\":[...] and watch events \"prev_kv\":{...}.
        """)
        s += ".El\n"
        s += ".Sh EXIT STATUS\n.Bl -tag -width Ds\n"
        for code in ExitCode.allCases { s += ".It \(code.rawValue)\n" + prose(code.meaning) }
        s += ".El\n"
        s += ".Sh EXAMPLES\n"
        for (i, (what, lines)) in examples.enumerated() {
            if i > 0 { s += ".Pp\n" }
            s += prose(what) + literal(lines)
        }
        s += """
        .Sh SEE ALSO
        .Xr etcd 1 ,
        .Xr etcdctl 1 ,
        .Xr jq 1

        """
        return s
    }
}
