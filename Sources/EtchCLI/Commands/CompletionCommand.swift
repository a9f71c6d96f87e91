/// `etch completion bash|zsh|fish`: prints the shell completion script, generated from the command descriptions.
enum CompletionCommand {
    static let shells = ["bash", "zsh", "fish"]

    static let spec = CommandSpec(
        name: "completion",
        summary: "Prints the shell completion script for bash, zsh or fish",
        arguments: "bash|zsh|fish",
        description: """
        Prints a script that completes etch's commands, flags, flag values (output formats, sort orders, \
        conditions), file paths for --cacert, --cert and --key, and the keys of get, put, del, watch and wait. \
        Keys come from the server: a keys-only read of at most 100 keys under the typed prefix, through the \
        endpoints, TLS and user settings on the line (flags, or ETCDCTL_* assignments before etch) or in the \
        environment; when no server answers within a second, nothing is offered. make install puts the scripts \
        where each shell looks for them; the examples load them by hand.
        """,
        examples: [
            ("source <(etch completion bash)", "enable completion in the current bash"),
            ("etch completion zsh > \"${fpath[1]}/_etch\"", "install for zsh (then start a new shell)"),
            ("etch completion fish > ~/.config/fish/completions/etch.fish", "install for fish"),
        ],
        flags: [],
        operands: .words(shells)
    )

    /// The script for `shell`, or nil for a shell etch has none for.
    static func script(for shell: String) -> String? {
        switch shell {
        case "bash": return BashCompletion.script()
        case "zsh": return ZshCompletion.script()
        case "fish": return FishCompletion.script()
        default: return nil
        }
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let args = ctx.arguments.positionals
        guard args.count == 1, let text = script(for: args[0]) else {
            throw CLIError(.badArgs, "completion needs one argument, the shell: bash, zsh or fish")
        }
        ctx.stdout.append(text)
        return .success
    }
}
