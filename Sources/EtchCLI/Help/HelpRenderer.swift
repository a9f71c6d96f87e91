/// Renders help text from the command descriptions.
enum HelpRenderer {
    static func flagLines(_ flags: [FlagSpec]) -> String {
        let left = flags.map { f -> String in
            let short = f.short.map { "-\($0), " } ?? "    "
            let value: String
            switch f.kind {
            case .bool: value = ""
            case .duration: value = " duration"
            case .int64: value = " int"
            case .string: value = " string"
            case .stringSlice: value = " strings"
            }
            return "  \(short)--\(f.name)\(value)"
        }
        let width = (left.map(\.count).max() ?? 0) + 3
        var out = ""
        for (l, f) in zip(left, flags) {
            var usage = f.usage
            if f.kind != .bool || f.defaultValue == "true" {
                if !(f.kind != .bool && (f.defaultValue.isEmpty || f.defaultValue == "0")) {
                    usage += " (default \(f.kind == .string ? goQuote(f.defaultValue) : f.defaultValue))"
                }
            }
            if let env = f.environmentName { usage += " [$\(env)]" }
            out += l + String(repeating: " ", count: width - l.count) + usage + "\n"
        }
        return out
    }

    /// A command's help; `path` is its full name (`["member", "list"]`), `inherited` its parents' flags.
    static func command(_ spec: CommandSpec, path: [String], inherited: [FlagSpec]) -> String {
        let name = path.joined(separator: " ")
        var out = "\(spec.summary)\n\nUsage:\n  etch \(name)\(spec.arguments.isEmpty ? "" : " " + spec.arguments)\n\n"
        out += wrap(spec.description, indent: "") + "\n"
        if !spec.subcommands.isEmpty {
            out += "\nCommands:\n"
            let visible = spec.subcommands.filter { !$0.hidden }
            let width = (visible.map(\.name.count).max() ?? 0) + 3
            for c in visible {
                out += "  " + c.name + String(repeating: " ", count: width - c.name.count) + c.summary + "\n"
            }
        }
        out += "\nOptions:\n" + flagLines(spec.flags + [GlobalFlags.help])
        if !inherited.isEmpty { out += "\nInherited options:\n" + flagLines(inherited) }
        out += "\nGlobal options:\n" + flagLines(GlobalFlags.specs)
        if !spec.examples.isEmpty {
            out += "\nExamples:\n"
            for (line, what) in spec.examples { out += "  # \(what)\n  \(line)\n\n" }
            out.removeLast()
        }
        return out
    }

    static func root() -> String {
        var out = """
        etch: a command-line client for etcd over its HTTP/JSON gateway, a drop-in for etcdctl.

        Usage:
          etch [global options] <command> [options] [arguments]

        Commands:

        """
        let width = (Registry.visible.map(\.name.count).max() ?? 0) + 3
        for c in Registry.visible {
            out += "  " + c.name + String(repeating: " ", count: width - c.name.count) + c.summary + "\n"
        }
        var parents = Registry.visible.filter { !$0.subcommands.isEmpty }.map(\.name)
        let last = parents.popLast() ?? ""
        out += "\nRun 'etch <command> --help' for the subcommands of \(parents.joined(separator: ", ")) and \(last).\n"
        out += "\nGlobal options:\n" + flagLines(GlobalFlags.specs + [GlobalFlags.help])
        out += """

        Exit codes:
          0 success, 1 error (server error, timeout, unreachable endpoints, unknown command or flag),
          2 no usable endpoint or failed authentication (and, as etcdctl, lease timetolive/list/keep-alive --once
          errors), 3 invalid input, 4 unsupported format or option value, 5 watch canceled by the server (e.g.
          compacted revision), 6 I/O error, 124 watch or wait --timeout ran out, 128 bad arguments.

        Run 'etch help <command>' or 'etch <command> --help' for a command's options and examples.

        """
        return out
    }

    /// Wraps prose at 100 columns.
    static func wrap(_ text: String, indent: String) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > 100, line.count > indent.count {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `etch help [command]`.
enum HelpCommand {
    static let spec = CommandSpec(
        name: "help",
        summary: "Help about any command",
        arguments: "[command] [subcommand]",
        description: "Prints the help of a command, or the list of commands.",
        examples: [("etch help get", "the options of get")],
        flags: [],
        operands: .commands
    )

    static func run(_ ctx: Context) throws -> ExitCode {
        guard let topic = ctx.arguments.positionals.first else {
            ctx.stdout.append(HelpRenderer.root())
            return .success
        }
        if let (path, command, inherited) = Registry.resolve(ctx.arguments.positionals) {
            ctx.stdout.append(HelpRenderer.command(command, path: path, inherited: inherited))
        } else {
            ctx.notice("Unknown help topic [`\(topic)`]")
            ctx.stdout.append(HelpRenderer.root())
        }
        return .success
    }
}
