/// Every command etch has, with its runner; the one list help, completions and the man page read.
enum Registry {
    struct Entry: Sendable {
        let spec: CommandSpec
        let run: @Sendable (Context) throws -> ExitCode
    }

    static let commands: [Entry] = [
        Entry(spec: GetCommand.spec, run: GetCommand.run),
        Entry(spec: PutCommand.spec, run: PutCommand.run),
        Entry(spec: DelCommand.spec, run: DelCommand.run),
        Entry(spec: WatchCommand.spec, run: WatchCommand.run),
        Entry(spec: WaitCommand.spec, run: WaitCommand.run),
        Entry(spec: VersionCommand.spec, run: VersionCommand.run),
        Entry(spec: HelpCommand.spec, run: HelpCommand.run),
        Entry(spec: CompletionCommand.spec, run: CompletionCommand.run),
        Entry(spec: CompleteKeysCommand.spec, run: CompleteKeysCommand.run),
        Entry(spec: ManCommand.spec, run: ManCommand.run),
    ]

    /// The commands help, the man page and completions show (plumbing left out).
    static var visible: [CommandSpec] { commands.map(\.spec).filter { !$0.hidden } }

    /// etcdctl 3.4's other commands: they take part in prefix matching, so `de` stays ambiguous as it is
    /// there, and naming one says etch lacks it rather than that it does not exist.
    static let etcdctlOnly = [
        "alarm", "auth", "check", "compaction", "defrag", "elect", "endpoint", "lease", "lock", "make-mirror",
        "member", "migrate", "move-leader", "role", "snapshot", "txn", "user",
    ]

    /// Commands etcdctl does not have; they match by exact name only.
    static let etchOnly: Set<String> = ["wait", "completion", CompleteKeysCommand.spec.name, ManCommand.spec.name]

    enum Lookup: Equatable {
        case found(String)
        case notImplemented(String)
        case unknown(suggestions: [String])
    }

    /// Finds a command by exact name, else by unique prefix (cobra's EnablePrefixMatching).
    static func lookup(_ name: String) -> Lookup {
        let ours = commands.map(\.spec.name)
        let all = ours + etcdctlOnly
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
        let hidden = Set(commands.map(\.spec).filter(\.hidden).map(\.name))
        return .unknown(suggestions: suggestions(for: name, among: all.filter { !hidden.contains($0) }))
    }

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
