/// The value type of a flag, which decides how pflag's grammar treats it.
public enum FlagKind: Sendable, Equatable {
    /// `--flag`, `--flag=true|false`; never consumes the next argument.
    case bool
    case string
    case int64
    /// A Go duration: `2s`, `500ms`, `1m30s`.
    case duration
    /// A comma-separated list; repeating the flag appends.
    case stringSlice
}

/// One flag as declared by a command: the single description that help, completions and the man page read.
public struct FlagSpec: Sendable, Equatable {
    public var name: String
    public var short: Character?
    public var kind: FlagKind
    /// The default as etcdctl shows it (`5s`, `simple`, `127.0.0.1:2379`).
    public var defaultValue: String
    public var usage: String
    /// Values worth completing (formats, sort targets).
    public var choices: [String]
    /// Completes as a file path.
    public var isPath: Bool
    /// Name of the `ETCDCTL_*` variable that can set it; global flags only.
    public var environmentName: String?

    public init(_ name: String, short: Character? = nil, _ kind: FlagKind, default defaultValue: String = "",
                _ usage: String, choices: [String] = [], isPath: Bool = false, environment: Bool = false) {
        self.name = name
        self.short = short
        self.kind = kind
        self.defaultValue = defaultValue.isEmpty && kind == .bool ? "false" : defaultValue
        self.usage = usage
        self.choices = choices
        self.isPath = isPath
        self.environmentName = environment
            ? "ETCDCTL_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
            : nil
    }
}

/// What a command's positional arguments are, so completions can offer them.
public enum OperandKind: Sendable, Equatable {
    /// Free text (a value, a command to run): nothing to offer.
    case none
    /// The first `count` operands are etcd keys (a key, a range end), completed from the server.
    case keys(Int)
    /// etch's command names.
    case commands
    /// One of a fixed set of words.
    case words([String])
}

/// One command of the command tree: name, help text, examples, flags and what runs it, as data. A parent
/// (`member`, `user`) has subcommands and no runner; its flags are inherited by its subcommands (cobra's
/// persistent flags: `endpoint --cluster status`).
public struct CommandSpec: Sendable {
    public var name: String
    public var summary: String
    /// Arguments after the command name, e.g. `[options] <key> [range_end]`.
    public var arguments: String
    public var description: String
    /// (command line, what it does)
    public var examples: [(String, String)]
    public var flags: [FlagSpec]
    /// What the positional arguments are, for completion.
    public var operands: OperandKind
    /// Plumbing for the completion scripts and the build: left out of help, man page and completions.
    public var hidden: Bool
    /// The subcommands of a parent, in the order help lists them.
    public var subcommands: [CommandSpec]
    /// What runs the command; nil for a parent, which prints its help.
    public var run: (@Sendable (Context) throws -> ExitCode)?

    public init(name: String, summary: String, arguments: String, description: String,
                examples: [(String, String)], flags: [FlagSpec], operands: OperandKind = .none, hidden: Bool = false,
                subcommands: [CommandSpec] = [], run: (@Sendable (Context) throws -> ExitCode)? = nil) {
        self.name = name
        self.summary = summary
        self.arguments = arguments
        self.description = description
        self.examples = examples
        self.flags = flags
        self.operands = operands
        self.hidden = hidden
        self.subcommands = subcommands
        self.run = run
    }

    /// A parent command: a name, a summary and its subcommands.
    public static func group(_ name: String, summary: String, description: String, flags: [FlagSpec] = [],
                             _ subcommands: [CommandSpec]) -> CommandSpec {
        CommandSpec(name: name, summary: summary, arguments: "<subcommand>", description: description, examples: [],
                    flags: flags, subcommands: subcommands)
    }

    /// This command with `run` as its runner.
    public func running(_ run: @escaping @Sendable (Context) throws -> ExitCode) -> CommandSpec {
        var c = self
        c.run = run
        return c
    }

    /// The subcommand `name` names, exactly or by unique prefix (cobra's prefix matching, at every level).
    func subcommand(_ name: String) -> CommandSpec? {
        if let exact = subcommands.first(where: { $0.name == name }) { return exact }
        let matches = subcommands.filter { !name.isEmpty && !$0.hidden && $0.name.hasPrefix(name) }
        return matches.count == 1 ? matches[0] : nil
    }
}
