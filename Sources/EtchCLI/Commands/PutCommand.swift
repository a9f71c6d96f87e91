import EtchGateway
import EtchOutput

/// `etch put`: writes a key.
enum PutCommand {
    static let spec = CommandSpec(
        name: "put",
        summary: "Puts the given key into the store",
        arguments: "[options] <key> [value]",
        description: """
        Puts the given key into the store. Without <value>, the value is read from standard input exactly as \
        given (binary data and trailing newlines included). A value that starts with '-' goes after '--': \
        etch put -- key -value.
        """,
        examples: [
            ("etch put foo bar", "set foo to bar"),
            ("etch put foo < value.bin", "set foo to the bytes of a file"),
            ("etch put foo new --prev-kv -w json | jq .prev_kv", "set foo and show what it was"),
            ("etch put -- foo -5", "a value that starts with a dash"),
        ],
        flags: [
            FlagSpec("ignore-lease", .bool, "updates the key using its current lease"),
            FlagSpec("ignore-value", .bool, "updates the key using its current value"),
            FlagSpec("lease", .string, default: "0", "lease ID (in hexadecimal) to attach to the key"),
            FlagSpec("prev-kv", .bool, "return the previous key-value pair before modification"),
        ],
        operands: .keys(1)
    )

    /// Checks the arguments and builds the request; `readStdin` supplies the value when none is given.
    static func request(_ a: ParsedArguments, readStdin: () throws -> [UInt8]) throws -> PutRequest {
        let usage = "put command needs 1 argument and input from stdin or 2 arguments"
        guard let key = a.positionals.first else { throw CLIError(.badArgs, usage) }
        let ignoreValue = a.bool("ignore-value")
        if ignoreValue && a.positionals.count > 1 {
            throw CLIError(.badArgs, "put command needs only 1 argument when 'ignore-value' is set")
        }
        var value: [UInt8] = []
        if !ignoreValue {
            if a.positionals.count > 1 {
                value = RawArgument.bytes(a.positionals[1])
            } else {
                value = try readStdin()
                if value.isEmpty { throw CLIError(.badArgs, usage) }
            }
        }
        let leaseText = a.string("lease") ?? "0"
        let lease: Int64
        do { lease = try Operands.hexInt64(leaseText) } catch {
            throw CLIError(.badArgs, "bad lease ID (\(error.message)), expecting ID in Hex")
        }
        var r = PutRequest(key: RawArgument.bytes(key), value: value)
        r.lease = lease
        r.prevKV = a.bool("prev-kv")
        r.ignoreValue = ignoreValue
        r.ignoreLease = a.bool("ignore-lease")
        return r
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let printer = try ctx.printer()
        let request = try request(ctx.arguments, readStdin: readAllStandardInput)
        let client = try ctx.makeClient()
        let response = try ctx.write("put") { () throws(GatewayError) in try client.put(request) }
        printer.put(response, to: ctx.stdout)
        return .success
    }
}
