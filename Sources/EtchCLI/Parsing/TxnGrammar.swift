import EtchGateway
import EtchOutput

/// etcdctl's txn input grammar, one line at a time, with its messages and exit codes: a compare such as
/// `mod("k") > "0"`, or an operation (`get`, `put` or `del` with their own flags). Pure: no I/O.
enum TxnGrammar {
    /// The line as etcdctl reads it: Go's `strings.TrimSpace` of it. An empty result ends a part.
    static func trimmed(_ line: String) -> String { GoUnquote.trimSpace(line) }

    /// etcdctl's `parseCompare`: `<target>("<key>") <op> "<value>"`, read as Go's `fmt.Sscanf(rest, "%q) %s %q")`
    /// reads it after the first `(`: the key and the value are Go strings ("..." with escapes, or `...`), the
    /// operator is the next word, and anything after the value is ignored.
    ///
    /// Targets: `ver`/`version`, `c`/`create`, `m`/`mod` (decimal integers), `val`/`value` (bytes) and, unlike
    /// etcdctl (which crashes on it), `lease` (a lease ID in hex as `lease grant` prints it, 0 for none).
    /// Operators: `=`, `!=`, `<`, `>`; any other is an error here (etcdctl crashes on `>=`).
    static func compare(_ line: String) throws(CLIError) -> Compare {
        let scalars = Array(line.unicodeScalars)
        guard let paren = scalars.firstIndex(of: "(") else {
            throw CLIError(.invalidInput, "malformed comparison: \(line)")
        }
        let target = text(scalars[..<paren])
        var scan = FormatScanner(Array(scalars[(paren + 1)...]))
        let fields = scan.keyOperatorValue()
        guard let key = fields.key, let op = fields.op, let value = fields.value else {
            let got = "\(target)(\(GoQuote.quote(fields.key ?? []))) \(fields.op ?? "") \(GoQuote.quote(fields.value ?? []))"
            throw CLIError(.invalidInput, "malformed comparison: \(line); got \(got)")
        }
        let invalid = CLIError(.invalidInput, "invalid txn compare request: \(line)")
        let number = { () throws(CLIError) -> Int64 in
            do { return try Operands.int64(RawArgument.decode(value)) } catch { throw invalid }
        }
        let compared: Compare.Target
        switch target {
        case "ver", "version": compared = .version(try number())
        case "c", "create": compared = .create(try number())
        case "m", "mod": compared = .mod(try number())
        case "val", "value": compared = .value(value)
        case "lease":
            do { compared = .lease(try Operands.hexInt64(RawArgument.decode(value))) } catch {
                throw CLIError(.invalidInput, "invalid txn compare request: \(line) (a lease ID is hexadecimal, as lease grant prints it; 0 for no lease)")
            }
        default:
            throw CLIError(.invalidInput, "malformed comparison: \(line) (unknown target \(target))")
        }
        let result: Compare.Result
        switch op {
        case "=": result = .equal
        case "!=": result = .notEqual
        case "<": result = .less
        case ">": result = .greater
        default:
            throw CLIError(.invalidInput, "invalid txn compare request: \(line) (unknown operator \(goQuote(op)): etcd compares with =, !=, < or >)")
        }
        return Compare(key: key, result: result, target: compared)
    }

    /// etcdctl's `parseRequestUnion`: the line split into words by `Argify`, then run through a command tree
    /// holding only put, get and del, as cobra runs it: the first word that is not a flag names the operation
    /// (a unique prefix will do: `p`, `ge`), and the rest is parsed with that command's own flags and checked
    /// by its own argument checks, with their messages and exit codes (`put k1` is 128, `get --consistency=x k`
    /// is 4). A line that names no operation, or has a flag the operation lacks, is `invalid txn request`.
    ///
    /// Unlike etcdctl: `put <key>` without a value is always an error (etcdctl reads the value from whatever
    /// of stdin its line reader had not buffered yet), and `help` or `--help` are errors (etcdctl prints help
    /// and then waits forever).
    static func operation(_ line: String) throws -> RequestOp {
        let args = try Argify.split(line)
        guard args.count >= 2 else { throw CLIError(.invalidInput, "invalid txn compare request: \(line)") }
        let invalid = CLIError(.invalidInput, "invalid txn request: \(line)")
        guard let word = commandWord(args),
              let name = ["put", "get", "del"].first(where: { $0.unicodeScalars.starts(with: word.unicodeScalars) }) else {
            throw invalid
        }
        var rest = args
        // cobra removes the first argument equal to the word, wherever it is.
        rest.remove(at: rest.firstIndex { $0.unicodeScalars.elementsEqual(word.unicodeScalars) }!)
        let spec = name == "put" ? PutCommand.spec : name == "get" ? GetCommand.spec : DelCommand.spec
        let parsed: ParsedArguments
        do { parsed = try ArgumentParser(flags: spec.flags + [GlobalFlags.help]).parse(rest) } catch { throw invalid }
        if parsed.bool("help") { throw invalid }
        switch name {
        case "put": return .put(try PutCommand.request(parsed, readStdin: { [] }))
        case "get": return .range(try GetCommand.request(parsed))
        default: return .deleteRange(try DelCommand.request(parsed))
        }
    }

    /// The word cobra's `stripFlags` takes for the command name when the root command has no flags of its own:
    /// a `--flag` or `-f` without `=` is taken to have a value and skips the next word (and when only one word
    /// is left after it, the search ends); other flags are skipped; `--` ends the search.
    static func commandWord(_ args: [String]) -> String? {
        var i = 0
        while i < args.count {
            let s = Array(args[i].utf8)
            i += 1
            if s == Array("--".utf8) { return nil }
            let dash = UInt8(ascii: "-")
            let takesValue = s.first == dash && !s.contains(UInt8(ascii: "=")) && (s.starts(with: [dash, dash]) || s.count == 2)
            if takesValue {
                if args.count - i <= 1 { return nil }
                i += 1
                continue
            }
            if !s.isEmpty && s.first != dash { return args[i - 1] }
        }
        return nil
    }

    static func text(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    /// Go's `fmt.Sscanf` with the format `%q) %s %q` over the scalars after the compare's `(`: what each verb
    /// got before the first failure.
    struct FormatScanner {
        let s: [Unicode.Scalar]
        var p = 0

        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { p >= s.count }

        mutating func skipSpace() {
            while p < s.count && GoUnquote.isSpace(s[p]) { p += 1 }
        }

        /// `%q`: after spaces, a "..." Go string (unquoted) or a `...` raw string; nil when there is none.
        mutating func quoted() -> [UInt8]? {
            skipSpace()
            guard p < s.count else { return nil }
            let quote = s[p]
            p += 1
            if quote == "`" {
                guard let end = s[p...].firstIndex(of: "`") else { return nil }
                defer { p = end + 1 }
                return RawArgument.bytes(TxnGrammar.text(s[p..<end]))
            }
            guard quote == "\"" else { return nil }
            let start = p - 1
            while true {
                guard p < s.count else { return nil }
                let c = s[p]
                p += 1
                if c == "\\" {
                    guard p < s.count else { return nil }
                    p += 1
                } else if c == "\"" {
                    break
                }
            }
            return GoUnquote.doubleQuoted(RawArgument.bytes(TxnGrammar.text(s[start..<p])))
        }

        /// The whole format: the key, `)`, one or more spaces (or the end), the operator word, the value.
        mutating func keyOperatorValue() -> (key: [UInt8]?, op: String?, value: [UInt8]?) {
            guard let key = quoted() else { return (nil, nil, nil) }
            guard p < s.count, s[p] == ")" else { return (key, nil, nil) }
            p += 1
            // A lone space in the format needs at least one space in the input, or its end.
            if p < s.count && !GoUnquote.isSpace(s[p]) { return (key, nil, nil) }
            skipSpace()
            guard !atEnd else { return (key, nil, nil) }
            let start = p
            while p < s.count && !GoUnquote.isSpace(s[p]) { p += 1 }
            let op = TxnGrammar.text(s[start..<p])
            return (key, op, quoted())
        }
    }
}
