import EtchGateway
import EtchOutput
import EtchTransport
import Glibc

/// The program: finds the command, parses its flags, runs it, and reports any error once, as
/// `Error: <message>` on stderr with etcdctl's exit code. Only `main` exits the process.
public enum EtchCommandLine {
    public static func main() -> Never {
        Interrupt.install()
        var environment: [String: String] = [:]
        var e = environ
        while let p = e.pointee {
            let entry = RawArgument.decode(cString: p)
            if let eq = entry.firstIndex(of: "=") {
                environment[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
            }
            e += 1
        }
        let stdout = OutputBuffer(fd: 1)
        let stderr = OutputBuffer(fd: 2)
        let code = run(RawArgument.commandLine(), environment: environment, stdout: stdout, stderr: stderr)
        stdout.flush()
        stderr.flush()
        if code == .success && stdout.failed { exit(ExitCode.io.rawValue) }
        exit(code.rawValue)
    }

    /// Where the command name is among the arguments: cobra skips global flags and the values of global
    /// flags that take one.
    static func findCommand(_ args: [String], flags: [FlagSpec] = GlobalFlags.specs + [GlobalFlags.help]) -> Int? {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { return nil }
            if a.hasPrefix("--") && !a.contains("=") {
                let name = String(a.dropFirst(2))
                let isBool = flags.first { $0.name == name }?.kind == .bool
                i += isBool ? 1 : 2
                continue
            }
            if a.hasPrefix("-") && !a.contains("=") && a.count == 2 {
                let c = a.last!
                let isBool = flags.first { $0.short == c }?.kind == .bool
                i += isBool ? 1 : 2
                continue
            }
            if !a.isEmpty && !a.hasPrefix("-") { return i }
            i += 1
        }
        return nil
    }

    /// Runs one command line and returns its exit code.
    public static func run(_ args: [String], environment: [String: String], stdout: OutputBuffer, stderr: OutputBuffer) -> ExitCode {
        do {
            return try dispatch(args, environment: environment, stdout: stdout, stderr: stderr)
        } catch {
            let (code, message, detail) = describe(error)
            // Arguments quoted in messages come out as the bytes they were given.
            stderr.append(RawArgument.bytes("Error: \(message)\n"))
            if let detail { stderr.append(RawArgument.bytes(detail)) }
            return code
        }
    }

    static func dispatch(_ args: [String], environment: [String: String], stdout: OutputBuffer, stderr: OutputBuffer) throws -> ExitCode {
        guard let index = findCommand(args) else {
            let flags = GlobalFlags.specs + [GlobalFlags.help]
            do {
                _ = try ArgumentParser(flags: flags).parse(args)
            } catch {
                throw CLIError(.error, error.message, detail: flagSuggestion(error, among: flags))
            }
            stdout.append(HelpRenderer.root())
            return .success
        }
        let typed = args[index]
        let name: String
        switch Registry.lookup(typed) {
        case let .found(n):
            name = n
        case let .notImplemented(n):
            throw CLIError(.error, "\"\(n)\" is an etcdctl command that etch does not implement yet",
                           detail: "Run 'etch --help' for the commands etch has.\n")
        case let .unknown(suggestions):
            var detail = ""
            if !suggestions.isEmpty {
                detail = "\nDid you mean this?\n" + suggestions.map { "\t\($0)\n" }.joined() + "\n"
            }
            throw CLIError(.error, "unknown command \(goQuote(typed)) for \"etch\"", detail: detail + "Run 'etch --help' for usage.\n")
        }
        var command = Registry.command(name)!
        var path = [name]
        var rest = args
        rest.remove(at: index)
        // Inherited flags: each parent's flags reach its subcommands (cobra's persistent flags).
        var inherited: [FlagSpec] = []
        // Walk down the tree: the next word that is not a flag names the subcommand, by prefix too.
        while !command.subcommands.isEmpty {
            inherited += command.flags
            let flags = inherited + GlobalFlags.specs + [GlobalFlags.help]
            guard let next = findCommand(rest, flags: flags), let child = command.subcommand(rest[next]) else {
                // As cobra: a parent without a (known) subcommand prints its help, once its flags parse.
                do { _ = try ArgumentParser(flags: flags).parse(rest) } catch {
                    throw CLIError(.error, error.message, detail: "Run 'etch \(path.joined(separator: " ")) --help' for usage.\n")
                }
                stdout.append(HelpRenderer.command(command, path: path, inherited: []))
                return .success
            }
            rest.remove(at: next)
            command = child
            path.append(child.name)
        }
        let parsed: ParsedArguments
        let flags = command.flags + inherited + GlobalFlags.specs + [GlobalFlags.help]
        let fullName = path.joined(separator: " ")
        do {
            parsed = try ArgumentParser(flags: flags).parse(rest)
        } catch {
            throw CLIError(.error, error.message,
                           detail: (flagSuggestion(error, among: flags) ?? "") + "Run 'etch \(fullName) --help' for usage.\n")
        }
        if parsed.bool("help") {
            stdout.append(HelpRenderer.command(command, path: path, inherited: inherited))
            return .success
        }
        let (globals, warnings) = try GlobalOptions.resolve(parsed, environment: environment)
        for w in warnings { stderr.append("Warning: \(w)\n") }
        stderr.flush()
        let ctx = Context(arguments: parsed, globals: globals, environment: environment, stdout: stdout, stderr: stderr)
        guard let run = command.run else { return .success }
        return try run(ctx)
    }

    /// `Did you mean "--prefix"?` for an unknown long flag close to one the command has (the nearest by edit
    /// distance, at most 2, else the only flag whose name starts with what was typed), as a line to print
    /// after etcdctl's error line.
    static func flagSuggestion(_ error: ParseError, among flags: [FlagSpec]) -> String? {
        guard case let .unknownFlag(typed) = error else { return nil }
        let lower = typed.lowercased()
        let scored = flags.map { ($0.name, Registry.levenshtein(lower, $0.name)) }.filter { $0.1 <= 2 }
        if let best = scored.min(by: { $0.1 < $1.1 }) { return "Did you mean \"--\(best.0)\"?\n" }
        let extensions = flags.filter { !lower.isEmpty && $0.name.hasPrefix(lower) }
        if extensions.count == 1 { return "Did you mean \"--\(extensions[0].name)\"?\n" }
        return nil
    }

    /// Maps any error to its exit code and message: the one place that knows the mapping.
    static func describe(_ error: any Error) -> (ExitCode, String, String?) {
        switch error {
        case let e as CLIError:
            return (e.code, e.message, e.detail)
        case let e as ParseError:
            return (.error, e.message, nil)
        case let e as OutputError:
            return (.error, e.message, nil)
        case let e as GatewayError:
            // Interrupted: whatever the transfer reported (an abort, or endpoints given up on), exit as by
            // the signal.
            if Interrupt.requested { Interrupt.exitBySignal() }
            return (.error, e.message, nil)
        default:
            return (.error, "\(error)", nil)
        }
    }
}
