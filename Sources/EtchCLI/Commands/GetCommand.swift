import EtchGateway
import EtchOutput

/// `etch get`: reads a key or a range.
enum GetCommand {
    static let spec = CommandSpec(
        name: "get",
        summary: "Gets the key or a range of keys",
        arguments: "[options] <key> [range_end]",
        description: """
        Prints the key-value pairs of <key>, of the range [<key>, <range_end>), of every key with the prefix \
        <key> (--prefix) or of every key from <key> on (--from-key). A missing key prints nothing and exits 0.
        """,
        examples: [
            ("etch get foo", "print the key foo and its value"),
            ("etch get --prefix /config/ --keys-only", "list the keys under /config/"),
            ("etch get foo -w json | jq -r '.kvs[0].value | @base64d'", "the value of foo through jq"),
            ("etch get --prefix /config/ -w jsonl | jq -r '.key + \"=\" + .value'", "key=value lines through jq (JSON lines)"),
            ("etch get foo --rev 42 --print-value-only", "the value foo had at revision 42"),
        ],
        flags: [
            FlagSpec("consistency", .string, default: "l", "Linearizable(l) or Serializable(s)", choices: ["l", "s"]),
            FlagSpec("count-only", .bool, "Get only the count (with -w fields)"),
            FlagSpec("from-key", .bool, "Get keys that are greater than or equal to the given key using byte compare"),
            FlagSpec("keys-only", .bool, "Get only the keys"),
            FlagSpec("limit", .int64, default: "0", "Maximum number of results"),
            FlagSpec("order", .string, "Order of results; ASCEND or DESCEND (ASCEND by default)", choices: ["ASCEND", "DESCEND"]),
            FlagSpec("prefix", .bool, "Get keys with matching prefix"),
            FlagSpec("print-value-only", .bool, "Only write values when using the \"simple\" output format"),
            FlagSpec("rev", .int64, default: "0", "Specify the kv revision"),
            FlagSpec("sort-by", .string, "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION", choices: ["CREATE", "KEY", "MODIFY", "VALUE", "VERSION"]),
        ],
        operands: .keys(2)
    )

    /// Checks the arguments and builds the range request, in etcdctl's order of checks.
    static func request(_ a: ParsedArguments) throws(CLIError) -> RangeRequest {
        guard let first = a.positionals.first else {
            throw CLIError(.badArgs, "get command needs one argument as key and an optional argument as range_end")
        }
        let prefix = a.bool("prefix"), fromKey = a.bool("from-key")
        if prefix && fromKey {
            throw CLIError(.badArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one")
        }
        var r = RangeRequest(key: RawArgument.bytes(first))
        switch a.string("consistency") ?? "l" {
        case "l": break
        case "s": r.serializable = true
        case let other: throw CLIError(.badFeature, "unknown consistency flag \(goQuote(other))")
        }
        if a.positionals.count > 1 {
            if prefix || fromKey {
                throw CLIError(.badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set")
            }
            r.rangeEnd = RawArgument.bytes(a.positionals[1])
        }
        r.limit = Int64(a.string("limit") ?? "0") ?? 0
        let rev = Int64(a.string("rev") ?? "0") ?? 0
        if rev > 0 { r.revision = rev }
        let orderText = a.string("order") ?? ""
        switch orderText.uppercased() {
        case "ASCEND": r.sortOrder = .ascend
        case "DESCEND": r.sortOrder = .descend
        case "": r.sortOrder = .none
        default: throw CLIError(.badFeature, "bad sort order \(orderText)")
        }
        let targetText = a.string("sort-by") ?? ""
        switch targetText.uppercased() {
        case "CREATE": r.sortTarget = .create
        case "KEY", "": r.sortTarget = .key
        case "MODIFY": r.sortTarget = .mod
        case "VALUE": r.sortTarget = .value
        case "VERSION": r.sortTarget = .version
        default: throw CLIError(.badFeature, "bad sort target \(targetText)")
        }
        // The server already returns keys in ascending order (clientv3's WithSort).
        if r.sortTarget == .key && r.sortOrder == .ascend { r.sortOrder = .none }
        (r.key, r.rangeEnd) = resolveRange(key: r.key, rangeEnd: r.rangeEnd, prefix: prefix, fromKey: fromKey)
        r.keysOnly = a.bool("keys-only")
        if a.bool("count-only") {
            if r.keysOnly {
                throw CLIError(.badArgs, "`--keys-only` and `--count-only` cannot be set at the same time, choose one")
            }
            r.countOnly = true
        }
        return r
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        let request = try request(ctx.arguments)
        let format = try ctx.globals.outputFormat()
        let valueOnly = ctx.arguments.bool("print-value-only")
        if valueOnly && format != .simple {
            throw CLIError(.badArgs, "print-value-only is only for `--write-out=simple`")
        }
        if request.countOnly && format != .fields {
            throw CLIError(.badArgs, "--count-only is only for `--write-out=fields`")
        }
        let printer = try ctx.printer(valueOnly: valueOnly, keysOnly: request.keysOnly)
        let client = try ctx.makeClient()
        try RangeReader.read(request, client: client, into: PrintingRangeSink(printer, ctx.stdout), log: ctx.debug)
        return .success
    }
}
