import EtchGateway

/// `txn` in each format etcdctl has for it (simple, json, fields, protobuf; no table), and etch's `jsonl`.
///
/// etcdctl's txn printers print each operation's result with its get, put and del printers, so the simple and
/// fields forms reuse `SimplePrinter` and `FieldsPrinter`. Its json is Go's encoding/json of the gogo struct,
/// where the oneof shows as `{"Response":{"ResponsePut":{...}}}` (the Go field of the interface, then the Go
/// field of the case), not the gateway's `{"response_put":{...}}`; its protobuf is the message itself.
public enum TxnOutput {
    /// The output for the reply to `request` (jsonl leaves out the values a `get --keys-only` did not ask for);
    /// `hex` is `--hex`, which simple applies to keys and values.
    public static func output(for request: TxnRequest, hex: Bool) -> Output<TxnResponse> {
        Output(
            simple: { r, out in
                out.append(r.succeeded ? "SUCCESS\n" : "FAILURE\n")
                let printer = SimplePrinter(hex: hex, valueOnly: false)
                for op in r.responses {
                    out.append(0x0A)
                    print(op, printer, out)
                }
            },
            fields: { r, out in
                try FieldsFormat.header(r.header, out)
                out.append(r.succeeded ? "\"Succeeded\" : true\n" : "\"Succeeded\" : false\n")
                let printer = FieldsPrinter()
                for op in r.responses { print(op, printer, out) }
            },
            json: { goJSON($0) },
            protobuf: { EncodedValue.of($0) },
            jsonl: { [line($0, request: request)] }
        )
    }

    private static func print(_ op: ResponseOp, _ printer: Printer, _ out: OutputBuffer) {
        switch op {
        case let .range(r): printer.get(r, to: out)
        case let .put(r): printer.put(r, to: out)
        case let .deleteRange(r): printer.delete(r, to: out)
        }
    }

    /// etcdctl's `-w json`: `{"header":{...},"succeeded":true,"responses":[{"Response":{"ResponseRange":{...}}}]}`.
    static func goJSON(_ r: TxnResponse) -> EncodedValue {
        let responses: [EncodedValue] = r.responses.map { op in
            let (name, value): (String, EncodedValue)
            switch op {
            case let .range(g): (name, value) = ("ResponseRange", .of(g))
            case let .put(p): (name, value) = ("ResponsePut", .of(p))
            case let .deleteRange(d): (name, value) = ("ResponseDeleteRange", .of(d))
            }
            return .object([("Response", .object([(name, value)]))])
        }
        return .object([("header", .of(r.header)), ("succeeded", .bool(r.succeeded)), ("responses", .list(responses))])
    }

    /// etch's JSON line for a txn: one object with the header's revision and IDs, whether the compares held,
    /// and one object per operation of the branch that ran, in order:
    /// `{"op":"get","count":N,"more":false,"kvs":[...]}`, `{"op":"put"[,"prev_kv":{...}]}`,
    /// `{"op":"del","deleted":N[,"prev_kvs":[...]]}`. Key-values are those of get's JSON lines (text or
    /// `_base64`, the lease in hex, no value for `get --keys-only`).
    static func line(_ r: TxnResponse, request: TxnRequest) -> EncodedValue {
        let branch = r.succeeded ? request.success : request.failure
        let responses: [EncodedValue] = r.responses.enumerated().map { i, op in
            switch op {
            case let .range(g):
                var keysOnly = false
                if i < branch.count, case let .range(asked) = branch[i] { keysOnly = asked.keysOnly }
                return .object([("op", .string("get")), ("count", .int(g.count)), ("more", .bool(g.more)),
                                ("kvs", .list(g.kvs.map { kv($0, withValue: !keysOnly) }))])
            case let .put(p):
                var fields: [(String, EncodedValue)] = [("op", .string("put"))]
                if let prev = p.prevKV { fields.append(("prev_kv", kv(prev, withValue: true))) }
                return .object(fields)
            case let .deleteRange(d):
                var fields: [(String, EncodedValue)] = [("op", .string("del")), ("deleted", .int(d.deleted))]
                if !d.prevKVs.isEmpty { fields.append(("prev_kvs", .list(d.prevKVs.map { kv($0, withValue: true) }))) }
                return .object(fields)
            }
        }
        return .object([("succeeded", .bool(r.succeeded)), ("revision", .int(r.header.revision)),
                        ("cluster_id", .uint(r.header.clusterID)), ("member_id", .uint(r.header.memberID)),
                        ("raft_term", .uint(r.header.raftTerm)), ("responses", .list(responses))])
    }

    /// A key-value as get's JSON lines print it.
    static func kv(_ kv: KeyValue, withValue: Bool) -> EncodedValue {
        var fields: [(String, EncodedValue)] = [("key", .bytes(kv.key))]
        if withValue { fields.append(("value", .bytes(kv.value))) }
        fields += [("create_revision", .int(kv.createRevision)), ("mod_revision", .int(kv.modRevision)),
                   ("version", .int(kv.version))]
        if kv.lease != 0 { fields.append(("lease", .string(String(UInt64(bitPattern: kv.lease), radix: 16)))) }
        return .object(fields)
    }
}
