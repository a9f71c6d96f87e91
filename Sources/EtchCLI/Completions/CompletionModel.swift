/// What the completion scripts are generated from: the visible commands of `Registry` and the global flags,
/// the same descriptions help and the man page read.
enum CompletionModel {
    static var commands: [CommandSpec] { Registry.visible }

    /// A command of the tree as the scripts name it: its path joined by `/` (`member/list`), its own and
    /// inherited flags, and its subcommands when it is a parent.
    struct Node {
        var id: String
        var command: CommandSpec
        var flags: [FlagSpec]
        var subcommands: [CommandSpec] { command.subcommands.filter { !$0.hidden } }
    }

    /// Every visible command of the tree, parents before their subcommands.
    static var nodes: [Node] {
        func walk(_ c: CommandSpec, _ prefix: String, _ inherited: [FlagSpec]) -> [Node] {
            let id = prefix.isEmpty ? c.name : prefix + "/" + c.name
            let flags = c.flags + inherited
            return [Node(id: id, command: c, flags: flags)] + c.subcommands.filter { !$0.hidden }.flatMap { walk($0, id, flags) }
        }
        return commands.flatMap { walk($0, "", []) }
    }

    /// The global flags, `-h/--help` included.
    static var globalFlags: [FlagSpec] { GlobalFlags.specs + [GlobalFlags.help] }

    /// Every spelling (`--name`, `-c`) of the flags that take a value, any command's or global; the scripts use
    /// it to skip flag values when they look for the command and its operands. A name means the same kind of
    /// flag in every command (a unit test checks), so one list serves them all; except where etcdctl itself
    /// gives a name two kinds (`--prefix`: get's switch, check's and make-mirror's string): that name counts as a switch,
    /// so `get --prefix <key>` still completes the key.
    static var valueFlagSpellings: [String] {
        let all = globalFlags + nodes.flatMap(\.flags)
        let switches = Set(all.filter { $0.kind == .bool }.map(\.name))
        var seen: Set<String> = []
        var out: [String] = []
        for f in all where f.kind != .bool && !switches.contains(f.name) {
            for s in spellings(f) where seen.insert(s).inserted { out.append(s) }
        }
        return out
    }

    static func spellings(_ f: FlagSpec) -> [String] {
        (f.short.map { ["-\($0)"] } ?? []) + ["--" + f.name]
    }

    /// `s` in single quotes for a POSIX-like shell (bash, zsh).
    static func singleQuoted(_ s: String) -> String {
        "'" + s.replacingAll("'", with: "'\\''") + "'"
    }

    /// A flag's usage without its parenthesized aside, short enough for a completion menu.
    static func shortUsage(_ usage: String) -> String {
        guard let aside = usage.firstRange(of: " ("), aside.lowerBound != usage.startIndex else { return usage }
        return String(usage[..<aside.lowerBound])
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
