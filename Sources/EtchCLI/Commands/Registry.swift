/// Every command etch has, with its runner; the one list help, completions and the man page read.
enum Registry {
    /// A top-level command by name, its description built only when asked for: a run builds the one command it
    /// runs, not the whole tree (help, the man page and completions build it all).
    struct Entry: Sendable {
        let name: String
        let hidden: Bool
        let build: @Sendable () -> CommandSpec
        init(_ name: String, hidden: Bool, _ build: @escaping @Sendable () -> CommandSpec) {
            self.name = name
            self.hidden = hidden
            self.build = build
        }
    }

    /// The command tree's top level in help's order (a unit test checks each name is its spec's).
    static let entries: [Entry] = [
        Entry("get", hidden: false) { GetCommand.spec.running(GetCommand.run) },
        Entry("put", hidden: false) { PutCommand.spec.running(PutCommand.run) },
        Entry("del", hidden: false) { DelCommand.spec.running(DelCommand.run) },
        Entry("txn", hidden: false) { TxnCommand.spec.running(TxnCommand.run) },
        Entry("compaction", hidden: false) { CompactionCommand.spec },
        Entry("alarm", hidden: false) { AlarmCommands.spec },
        Entry("defrag", hidden: false) { DefragCommand.spec },
        Entry("endpoint", hidden: false) { EndpointCommands.spec },
        Entry("move-leader", hidden: false) { MoveLeaderCommand.spec },
        Entry("make-mirror", hidden: false) { MakeMirrorCommand.spec.running(MakeMirrorCommand.run) },
        Entry("watch", hidden: false) { WatchCommand.spec.running(WatchCommand.run) },
        Entry("wait", hidden: false) { WaitCommand.spec.running(WaitCommand.run) },
        Entry("lease", hidden: false) { LeaseCommands.spec },
        Entry("member", hidden: false) { MemberCommands.spec },
        Entry("snapshot", hidden: false) { SnapshotCommands.spec },
        Entry("migrate", hidden: false) { MigrateCommand.spec },
        Entry("lock", hidden: false) { LockCommand.spec.running(LockCommand.run) },
        Entry("elect", hidden: false) { ElectCommand.spec.running(ElectCommand.run) },
        Entry("auth", hidden: false) { AuthCommands.spec },
        Entry("user", hidden: false) { UserCommands.spec },
        Entry("role", hidden: false) { RoleCommands.spec },
        Entry("check", hidden: false) { CheckCommands.spec },
        Entry("version", hidden: false) { VersionCommand.spec.running(VersionCommand.run) },
        Entry("help", hidden: false) { HelpCommand.spec.running(HelpCommand.run) },
        Entry("completion", hidden: false) { CompletionCommand.spec.running(CompletionCommand.run) },
        Entry("__complete-keys", hidden: true) { CompleteKeysCommand.spec.running(CompleteKeysCommand.run) },
        Entry("__man", hidden: true) { ManCommand.spec.running(ManCommand.run) },
    ]

    /// The whole command tree: top-level commands, parents holding their subcommands.
    static var commands: [CommandSpec] { entries.map { $0.build() } }

    /// The commands help, the man page and completions show (plumbing left out).
    static var visible: [CommandSpec] { commands.filter { !$0.hidden } }

    /// etcdctl 3.4's other commands: they take part in prefix matching, so `ma` stays ambiguous as it is
    /// there, and naming one says etch lacks it rather than that it does not exist.
    static let etcdctlOnly: [String] = []

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
        let ours = entries.map(\.name)
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
        let hidden = Set(entries.filter(\.hidden).map(\.name))
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
    static func command(_ name: String) -> CommandSpec? { entries.first { $0.name == name }?.build() }

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
