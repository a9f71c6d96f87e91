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
        var r = RangeRequest(key: Array(first.utf8))
        switch a.string("consistency") ?? "l" {
        case "l": break
        case "s": r.serializable = true
        case let other: throw CLIError(.badFeature, "unknown consistency flag \(goQuote(other))")
        }
        if a.positionals.count > 1 {
            if prefix || fromKey {
                throw CLIError(.badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set")
            }
            r.rangeEnd = Array(a.positionals[1].utf8)
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
        if prefix {
            if r.key.isEmpty { r.key = [0]; r.rangeEnd = [0] } else { r.rangeEnd = prefixRangeEnd(r.key) }
        }
        if fromKey {
            if r.key.isEmpty { r.key = [0] }
            r.rangeEnd = [0]
        }
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
        if !pageable(request) {
            printer.get(try client.range(request), to: ctx.stdout)
            return .success
        }
        try getInPages(request, client: client, printer: printer, out: ctx.stdout)
        return .success
    }

    /// Keys in the first page of a large range; later pages are sized from the bytes per key seen so far.
    static let pageSize: Int64 = 5000
    /// About this many bytes of reply per page. Replies are decoded as they arrive, so a page costs no memory;
    /// the limit only keeps each request modest for the server, which builds the whole reply at once.
    static let pageBytes = 32 << 20

    /// A range read in key order (the server's own) can be paged by continuing after the last key.
    static func pageable(_ r: RangeRequest) -> Bool {
        !r.rangeEnd.isEmpty && !r.countOnly && r.sortOrder == .none && r.sortTarget == .key
            && (r.limit == 0 || r.limit > pageSize)
    }

    /// Reads a range in pages at the revision of the first page and prints each reply as it arrives, so memory
    /// stays bounded by one key-value while the output is byte for byte that of one unpaginated get.
    static func getInPages(_ request: RangeRequest, client: GatewayClient, printer: Printer, out: OutputBuffer) throws {
        var r = request
        var printed: Int64 = 0
        var count: Int64 = 0
        var more = false
        var began = false
        var size = pageSize
        var bytesSeen = 0
        while true {
            r.limit = request.limit == 0 ? size : min(size, request.limit - printed)
            var lastKey: [UInt8]?
            var pagePrinted: Int64 = 0
            let page = try client.rangeStreaming(r, onHeader: { header in
                if !began {
                    began = true
                    printer.getBegin(header, to: out)
                }
            }, onKVs: { kvs in
                printer.getPage(kvs, first: printed == 0, to: out)
                printed += Int64(kvs.count)
                pagePrinted += Int64(kvs.count)
                lastKey = kvs.last?.key
                // Base64 makes bytes 4/3 larger; about 120 bytes of field names and numbers per key-value.
                for kv in kvs { bytesSeen += (kv.key.count + kv.value.count) * 4 / 3 + 120 }
                out.flushIfLarge()
            })
            if count == 0 && printed == pagePrinted {
                count = page.count
                // One snapshot: later pages read at the first page's revision (or the one asked for).
                if r.revision == 0 { r.revision = page.header.revision }
            }
            if printed > 0 { size = Int64(min(1_000_000, max(100, pageBytes / max(1, bytesSeen / Int(printed))))) }
            guard page.more, let last = lastKey else { more = false; break }
            if request.limit != 0 && printed >= request.limit { more = true; break }
            r.key = last + [0]
        }
        printer.getEnd(more: more, count: count, anyKVs: printed > 0, to: out)
    }
}
