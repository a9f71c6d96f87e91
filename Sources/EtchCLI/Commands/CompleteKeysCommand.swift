import EtchGateway
import EtchOutput

/// `etch __complete-keys -- <prefix> [word...]`: the completion scripts' source of keys.
///
/// The words are those of the command line being completed, before the cursor: `NAME=value` assignments, the
/// program name, then anything. The endpoints, TLS and user settings among them (and `ETCDCTL_*` assignments)
/// are applied over the environment; everything else is ignored. Prints at most `limit` keys starting with
/// <prefix>, one per line, and nothing at all on any failure, because completion must stay silent; timeouts
/// are short so a dead server costs the shell about a second.
enum CompleteKeysCommand {
    static let limit: Int64 = 100
    static let timeoutNanoseconds: Int64 = 1_000_000_000

    static let spec = CommandSpec(
        name: "__complete-keys",
        summary: "Prints the keys under a prefix, for the shell completion scripts",
        arguments: "-- <prefix> [command line words...]",
        description: """
        Prints at most 100 keys that start with <prefix>, one per line, read keys-only from the server the \
        command line words point at (their global flags and ETCDCTL_* assignments, over the environment). \
        Prints nothing when no server answers within a second or anything else fails.
        """,
        examples: [("etch __complete-keys -- /jobs/ etch --endpoints 10.0.0.5:2379 get", "keys under /jobs/ on 10.0.0.5")],
        flags: [],
        hidden: true
    )

    /// The global flags among a command line's words (with their values), and its leading `NAME=value`
    /// assignments. Values of other flags are skipped so they are not mistaken for flags.
    static func settings(in words: [String]) -> (flags: [String], assignments: [String: String]) {
        var assignments: [String: String] = [:]
        var i = 0
        while i < words.count, let eq = words[i].firstIndex(of: "="), isVariableName(words[i][..<eq]) {
            assignments[String(words[i][..<eq])] = String(words[i][words[i].index(after: eq)...])
            i += 1
        }
        i += 1  // the program name
        let globals = GlobalFlags.specs
        let others = Registry.allCommands.flatMap(\.command.flags)
        var kept: [String] = []
        while i < words.count {
            let word = words[i]
            i += 1
            if word == "--" { break }
            let flag: FlagSpec?
            let inline: Bool
            if word.hasPrefix("--") {
                let name = word.dropFirst(2).prefix { $0 != "=" }
                flag = globals.first { $0.name == name } ?? others.first { $0.name == name }
                inline = word.contains("=")
            } else if word.hasPrefix("-"), word.count >= 2 {
                let c = word[word.index(after: word.startIndex)]
                flag = globals.first { $0.short == c } ?? others.first { $0.short == c }
                inline = word.count > 2
            } else {
                continue
            }
            guard let flag else { continue }
            let isGlobal = globals.contains { $0.name == flag.name }
            if isGlobal { kept.append(word) }
            if flag.kind != .bool && !inline && i < words.count {
                if isGlobal { kept.append(words[i]) }
                i += 1
            }
        }
        return (kept, assignments)
    }

    static func isVariableName(_ s: Substring) -> Bool {
        guard let first = s.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// The keys to offer for `prefix`, or nil on any failure.
    static func keys(prefix: String, words: [String], environment: [String: String]) -> [String]? {
        let (flags, assignments) = settings(in: words)
        guard let parsed = try? ArgumentParser(flags: GlobalFlags.specs).parse(flags) else { return nil }
        var env = environment.merging(assignments) { $1 }
        // A flag on the line wins over the environment here, rather than being an error as when running.
        for flag in GlobalFlags.specs where parsed.isSet(flag.name) {
            if let name = flag.environmentName { env[name] = nil }
        }
        guard var (globals, _) = try? GlobalOptions.resolve(parsed, environment: env) else { return nil }
        if globals.dialTimeoutNanoseconds <= 0 || globals.dialTimeoutNanoseconds > timeoutNanoseconds {
            globals.dialTimeoutNanoseconds = timeoutNanoseconds
        }
        globals.commandTimeoutNanoseconds = timeoutNanoseconds
        globals.debug = false
        // Never prompt for a password in the middle of a completion.
        if let user = globals.user, !user.contains(":"), globals.password == nil { return nil }
        let quiet = Context(arguments: ParsedArguments(), globals: globals, environment: env,
                            stdout: OutputBuffer(), stderr: OutputBuffer())
        guard let client = try? quiet.makeClient() else { return nil }
        var request = RangeRequest(key: Array(prefix.utf8))
        if request.key.isEmpty { request.key = [0]; request.rangeEnd = [0] } else { request.rangeEnd = prefixRangeEnd(request.key) }
        request.keysOnly = true
        request.serializable = true
        request.limit = limit
        guard let reply = try? client.range(request) else { return nil }
        // A key that is not text, or spans lines, cannot be typed or offered.
        return reply.kvs.compactMap { kv in
            kv.key.contains(0x0A) ? nil : String(validating: kv.key, as: UTF8.self)
        }
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let operands = ctx.arguments.positionals
        guard let prefix = operands.first else { return .success }
        for key in keys(prefix: prefix, words: Array(operands.dropFirst()), environment: ctx.environment) ?? [] {
            ctx.stdout.append(key)
            ctx.stdout.append(0x0A)
        }
        return .success
    }
}
