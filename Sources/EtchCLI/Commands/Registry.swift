/// Every command etch has, with its runner; the one list help, completions and the man page read.
enum Registry {
    /// The command tree: top-level commands in help's order, parents holding their subcommands.
    static let commands: [CommandSpec] = [
        GetCommand.spec.running(GetCommand.run),
        PutCommand.spec.running(PutCommand.run),
        DelCommand.spec.running(DelCommand.run),
        TxnCommand.spec.running(TxnCommand.run),
        CompactionCommand.spec,
        AlarmCommands.spec,
        DefragCommand.spec,
        EndpointCommands.spec,
        MoveLeaderCommand.spec,
        WatchCommand.spec.running(WatchCommand.run),
        WaitCommand.spec.running(WaitCommand.run),
        LeaseCommands.spec,
        MemberCommands.spec,
        LockCommand.spec.running(LockCommand.run),
        ElectCommand.spec.running(ElectCommand.run),
        AuthCommands.spec,
        UserCommands.spec,
        RoleCommands.spec,
        VersionCommand.spec.running(VersionCommand.run),
        HelpCommand.spec.running(HelpCommand.run),
        CompletionCommand.spec.running(CompletionCommand.run),
        CompleteKeysCommand.spec.running(CompleteKeysCommand.run),
        ManCommand.spec.running(ManCommand.run),
    ]

    /// The commands help, the man page and completions show (plumbing left out).
    static var visible: [CommandSpec] { commands.filter { !$0.hidden } }

    /// etcdctl 3.4's other commands: they take part in prefix matching, so `ma` stays ambiguous as it is
    /// there, and naming one says etch lacks it rather than that it does not exist.
    static let etcdctlOnly = ["check", "make-mirror", "migrate", "snapshot"]

    /// etcdctl's commands in the order it registers them, which is the order of its suggestions.
    static let etcdctlOrder = ["get", "put", "del", "txn", "compaction", "alarm", "defrag", "endpoint", "move-leader",
                               "watch", "version", "lease", "member", "snapshot", "make-mirror", "migrate", "lock",
                               "elect", "auth", "user", "role", "check"]

    /// Commands etcdctl does not have; they match by exact name only.
    static let etchOnly: Set<String> = ["wait", "completion", CompleteKeysCommand.spec.name, ManCommand.spec.name]

    enum Lookup: Equatable {
        case found(String)
        case notImplemented(String)
        case unknown(suggestions: [String])
    }

    /// Finds a top-level command by exact name, else by unique prefix (cobra's EnablePrefixMatching).
    static func lookup(_ name: String) -> Lookup {
        let ours = commands.map(\.name)
        let rank = { (n: String) in etcdctlOrder.firstIndex(of: n) ?? etcdctlOrder.count }
        let all = (ours + etcdctlOnly.filter { !ours.contains($0) }).enumerated()
            .sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        // etch's own commands match by exact name only, so etcdctl's abbreviations (`w` for watch) keep working.
        let prefixable = all.filter { !etchOnly.contains($0) }
        var resolved: String?
        if all.contains(name) {
            resolved = name
        } else if !name.isEmpty {
            let matches = prefixable.filter { $0.hasPrefix(name) }
            if matches.count == 1 { resolved = matches[0] }
        }
        if let r = resolved { return ours.contains(r) ? .found(r) : .notImplemented(r) }
        let hidden = Set(commands.filter(\.hidden).map(\.name))
        return .unknown(suggestions: suggestions(for: name, among: all.filter { !hidden.contains($0) }))
    }

    /// Every command of the tree with its path (`["member", "list"]`), parents before their subcommands.
    static var allCommands: [(path: [String], command: CommandSpec)] {
        func walk(_ c: CommandSpec, _ prefix: [String]) -> [(path: [String], command: CommandSpec)] {
            let path = prefix + [c.name]
            return [(path, c)] + c.subcommands.flatMap { walk($0, path) }
        }
        return commands.flatMap { walk($0, []) }
    }

    /// The command at `path` (names or unique prefixes at each level), with the flags its parents pass down.
    static func resolve(_ path: [String]) -> (path: [String], command: CommandSpec, inherited: [FlagSpec])? {
        guard let first = path.first, case let .found(name) = lookup(first), var c = command(name) else { return nil }
        var names = [name]
        var inherited: [FlagSpec] = []
        for word in path.dropFirst() {
            guard let child = c.subcommand(word) else { return nil }
            inherited += c.flags
            c = child
            names.append(child.name)
        }
        return (names, c, inherited)
    }

    /// The top-level command called `name`.
    static func command(_ name: String) -> CommandSpec? { commands.first { $0.name == name } }

    /// cobra's "Did you mean this?": names within Levenshtein distance 2 (case-insensitive) or with the typed
    /// text as a prefix.
    static func suggestions(for typed: String, among names: [String]) -> [String] {
        let lower = typed.lowercased()
        let length = lower.count
        return names.filter { name in
            // Lengths more than 2 apart are more than 2 edits apart: no quadratic work for a huge argument.
            (abs(length - name.count) <= 2 && levenshtein(lower, name.lowercased()) <= 2)
                || (!lower.isEmpty && name.hasPrefix(lower))
        }
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count)
        for i in 1...x.count {
            var cur = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[y.count]
    }
}
