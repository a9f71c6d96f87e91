import EtchGateway
import EtchOutput
import Glibc

/// `etch txn`: reads a transaction from stdin in etcdctl's grammar and applies it in one request.
enum TxnCommand {
    static let spec = CommandSpec(
        name: "txn",
        summary: "Txn processes all the requests in one transaction",
        arguments: "[options]",
        description: """
        Reads a transaction from standard input in three parts, each ended by an empty line: the compares, the \
        operations to run when every compare holds, and those to run otherwise. A compare is \
        <target>("<key>") <op> "<value>": targets ver (or version), c (create), m (mod), val (value) and lease \
        (a lease ID in hex), operators =, !=, < and >; keys and values are Go strings ("a\\tb", `raw`). An \
        operation is a get, put or del line with that command's own flags (words in '...' or "..." may hold \
        spaces). Prints SUCCESS or FAILURE, then each operation's result as that command prints it. The \
        transaction is a write: when its outcome is unknown, etch says so and does not send it again. Input \
        that ends before the third empty line is an error (EOF, exit 3).
        """,
        examples: [
            ("printf 'mod(\"k\") = \"0\"\\n\\nput k first\\n\\nget k\\n\\n' | etch txn", "create k only if it does not exist; else print it"),
            ("rev=$(etch get cfg -w jsonl | jq .mod_revision); printf 'mod(\"cfg\") = \"%s\"\\n\\nput cfg new\\n\\n\\n' \"$rev\" | etch txn", "compare-and-swap: replace cfg only if nobody changed it since it was read"),
            ("printf 'ver(\"lock\") = \"0\"\\n\\nput lock me --lease=694d77aa9e38260f\\n\\n\\n' | etch txn -w jsonl | jq .succeeded", "take a key if free, as a JSON boolean"),
            ("etch txn -i", "type the transaction, with prompts"),
        ],
        flags: [
            FlagSpec("interactive", short: "i", .bool, "Input transaction in interactive mode"),
        ]
    )

    /// The three parts of the input, each line checked as it is read, as etcdctl does (so the first bad line
    /// is the one reported, and `-i` prompts for each part in turn). `prompt` prints a prompt; `nextLine`
    /// returns the next line without its newline, or throws (EOF included).
    static func read(prompt: (String) -> Void, nextLine: () throws -> String) throws -> TxnRequest {
        /// One part: lines parsed by `parse` up to the first empty one.
        func part<T>(_ parse: (String) throws -> T) throws -> [T] {
            var items: [T] = []
            while true {
                let line = TxnGrammar.trimmed(try nextLine())
                if line.isEmpty { return items }
                items.append(try parse(line))
            }
        }
        prompt("compares:")
        let compare = try part { line throws(CLIError) in try TxnGrammar.compare(line) }
        prompt("success requests (get, put, del):")
        let success = try part(TxnGrammar.operation)
        prompt("failure requests (get, put, del):")
        let failure = try part(TxnGrammar.operation)
        return TxnRequest(compare: compare, success: success, failure: failure)
    }

    static func run(_ ctx: Context) throws -> ExitCode {
        if !ctx.arguments.positionals.isEmpty { throw CLIError(.badArgs, "txn command does not accept argument") }
        // A format txn lacks (table) is refused before anything is read or sent; etcdctl applies the
        // transaction, then refuses.
        let format = try ctx.format(for: TxnOutput.output(for: TxnRequest(), hex: false))
        // As etcdctl: the client first (bad endpoints, TLS files or credentials fail before input is read).
        let client = try ctx.makeClient()
        let interactive = ctx.arguments.bool("interactive")
        var input = StandardInputLines(ctx: ctx)
        let request = try read(
            prompt: { text in
                guard interactive else { return }
                // With -w jsonl the prompts go to stderr, so stdout stays JSON lines.
                let out = format == .jsonl ? ctx.stderr : ctx.stdout
                out.append(text + "\n")
                out.flush()
            },
            nextLine: { try input.next() })
        let response = try ctx.write("txn") { () throws(GatewayError) in try client.txn(request) }
        try ctx.emit(response, TxnOutput.output(for: request, hex: ctx.globals.hex), as: format)
        return .success
    }

    /// Standard input line by line, as Go's `bufio.Reader.ReadString('\n')` gives it to etcdctl: a line
    /// must end with a newline, and the end of input before one is the error `EOF` (exit 3). Reads wait
    /// in poll, which a signal interrupts (read would be restarted), so Ctrl-C ends etch at a prompt.
    struct StandardInputLines {
        /// Asked whether SIGINT or SIGTERM arrived while waiting for input.
        let ctx: Context
        private var buffer: [UInt8] = []
        private var ended = false

        init(ctx: Context) { self.ctx = ctx }

        mutating func next() throws -> String {
            while true {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    let line = RawArgument.decode(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    return line
                }
                if ended { throw CLIError(.invalidInput, "EOF") }
                if ctx.interrupted { ctx.exitBySignal() }
                var fd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                if poll(&fd, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    throw CLIError(.invalidInput, "read /dev/stdin: \(StandardInputLines.describe(errno))")
                }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffer += chunk[0..<n]
                } else if n == 0 {
                    ended = true
                } else if errno != EINTR && errno != EAGAIN {
                    throw CLIError(.invalidInput, "read /dev/stdin: \(StandardInputLines.describe(errno))")
                }
            }
        }

        /// strerror as Go words it (lower case first letter).
        static func describe(_ code: Int32) -> String {
            let s = String(cString: strerror(code))
            guard let first = s.first else { return s }
            return first.lowercased() + s.dropFirst()
        }
    }
}
