import EtchGateway
import EtchOutput

/// `etch del`: deletes a key or a range.
enum DelCommand {
    static let spec = CommandSpec(
        name: "del",
        summary: "Removes the specified key or range of keys [key, range_end)",
        arguments: "[options] <key> [range_end]",
        description: "Deletes <key>, the range [<key>, <range_end>), every key with the prefix <key> (--prefix) or every key from <key> on (--from-key), and prints how many keys were deleted.",
        examples: [
            ("etch del foo", "delete foo"),
            ("etch del --prefix /jobs/ --prev-kv", "delete everything under /jobs/ and print what was there"),
        ],
        flags: [
            FlagSpec("from-key", .bool, "delete keys that are greater than or equal to the given key using byte compare"),
            FlagSpec("prefix", .bool, "delete keys with matching prefix"),
            FlagSpec("prev-kv", .bool, "return deleted key-value pairs"),
        ],
        operands: .keys(2)
    )

    /// Checks the arguments and builds the request, in etcdctl's order of checks.
    static func request(_ a: ParsedArguments) throws(CLIError) -> DeleteRangeRequest {
        guard (1...2).contains(a.positionals.count) else {
            throw CLIError(.badArgs, "del command needs one argument as key and an optional argument as range_end")
        }
        let prefix = a.bool("prefix"), fromKey = a.bool("from-key")
        if prefix && fromKey {
            throw CLIError(.badArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one")
        }
        var r = DeleteRangeRequest(key: RawArgument.bytes(a.positionals[0]))
        if a.positionals.count > 1 {
            if prefix || fromKey {
                throw CLIError(.badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set")
            }
            r.rangeEnd = RawArgument.bytes(a.positionals[1])
        }
        (r.key, r.rangeEnd) = resolveRange(key: r.key, rangeEnd: r.rangeEnd, prefix: prefix, fromKey: fromKey)
        r.prevKV = a.bool("prev-kv")
        return r
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let request = try request(ctx.arguments)
        let printer = try ctx.printer()
        let client = try ctx.makeClient()
        let response = try ctx.write("delete") { () throws(GatewayError) in try client.deleteRange(request) }
        printer.delete(response, to: ctx.stdout)
        return .success
    }
}
