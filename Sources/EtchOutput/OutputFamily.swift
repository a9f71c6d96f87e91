import EtchGateway

/// How one kind of response prints in each format etcdctl has for it, in one place: etcdctl's `simple`,
/// `fields` and `table` written by hand; its `json` and `protobuf` from the message itself (Go's encoding/json
/// and gogo's Marshal of the same struct); etch's `jsonl` as one object per item.
///
/// A format left nil is one etcdctl does not have for this response: a command checks `supports` before it
/// sends anything, so `-w table` never applies a change and then complains.
public struct Output<Value>: Sendable {
    public var simple: (@Sendable (Value, OutputBuffer) throws -> Void)?
    public var fields: (@Sendable (Value, OutputBuffer) throws -> Void)?
    public var table: (@Sendable (Value) -> Table)?
    public var json: (@Sendable (Value) -> EncodedValue)?
    public var protobuf: (@Sendable (Value) -> EncodedValue)?
    public var jsonl: (@Sendable (Value) -> [EncodedValue])?
    /// etcdctl prints the simple text whatever `-w` says (compaction, defrag, auth enable).
    public var textInEveryFormat = false

    public init(simple: (@Sendable (Value, OutputBuffer) throws -> Void)? = nil,
                fields: (@Sendable (Value, OutputBuffer) throws -> Void)? = nil,
                table: (@Sendable (Value) -> Table)? = nil,
                json: (@Sendable (Value) -> EncodedValue)? = nil,
                protobuf: (@Sendable (Value) -> EncodedValue)? = nil,
                jsonl: (@Sendable (Value) -> [EncodedValue])? = nil) {
        self.simple = simple
        self.fields = fields
        self.table = table
        self.json = json
        self.protobuf = protobuf
        self.jsonl = jsonl
    }

    /// Output that is the same text in every format etcdctl has, and `jsonl`.
    public static func text(_ simple: @escaping @Sendable (Value, OutputBuffer) throws -> Void,
                            jsonl: (@Sendable (Value) -> [EncodedValue])?) -> Output {
        var o = Output(simple: simple, jsonl: jsonl)
        o.textInEveryFormat = true
        return o
    }

    /// Whether etcdctl (or etch, for jsonl) has this format for the response.
    public func supports(_ format: OutputFormat) -> Bool {
        if textInEveryFormat, format != .jsonl { return true }
        switch format {
        case .simple: return simple != nil
        case .fields: return fields != nil
        case .table: return table != nil
        case .json: return json != nil
        case .protobuf: return protobuf != nil
        case .jsonl: return jsonl != nil
        }
    }

    /// The formats this output has, for help and errors.
    public var formats: [OutputFormat] { OutputFormat.allCases.filter(supports) }

    /// Writes `value` in `format` (one the output supports).
    public func write(_ value: Value, as format: OutputFormat, to out: OutputBuffer) throws {
        if textInEveryFormat, format != .jsonl {
            try simple?(value, out)
            return
        }
        switch format {
        case .simple: try simple?(value, out)
        case .fields: try fields?(value, out)
        case .table: if let t = table?(value) { out.append(t.render()) }
        case .json:
            if let j = json?(value) { out.append(j.goJSON()); out.append(0x0A) }
        case .protobuf: if let p = protobuf?(value) { out.append(p.protobuf()) }
        case .jsonl:
            for item in jsonl?(value) ?? [] { out.append(item.jsonLine()); out.append(0x0A) }
        }
    }
}

extension Output where Value: Encodable {
    /// The output of a response message: `json` and `protobuf` are the message's own encodings.
    public static func message(simple: (@Sendable (Value, OutputBuffer) throws -> Void)?,
                               fields: (@Sendable (Value, OutputBuffer) throws -> Void)? = nil,
                               table: (@Sendable (Value) -> Table)? = nil,
                               jsonl: (@Sendable (Value) -> [EncodedValue])?) -> Output {
        Output(simple: simple, fields: fields, table: table, json: { EncodedValue.of($0) },
               protobuf: { EncodedValue.of($0) }, jsonl: jsonl)
    }
}

/// etcdctl's `fields` lines shared by every response.
public enum FieldsFormat {
    /// `"ClusterID" : N` and the rest of the header. etcdctl dereferences the header: a reply without one
    /// (etcd 3.4's alarm replies) makes it panic; etch says so instead.
    public static func header(_ h: ResponseHeader?, _ out: OutputBuffer) throws {
        guard let h else {
            throw OutputError("the server's reply has no header, which the fields format prints (etcd 3.4 sends none for this call); use -w simple or -w json")
        }
        out.append("\"ClusterID\" : \(h.clusterID)\n\"MemberID\" : \(h.memberID)\n\"Revision\" : \(h.revision)\n\"RaftTerm\" : \(h.raftTerm)\n")
    }

    /// Go's `%q` of a string's bytes.
    public static func quoted(_ s: String) -> String { GoQuote.quote(Array(s.utf8)) }
    public static func quoted(_ b: [UInt8]) -> String { GoQuote.quote(b) }
}

/// Output that cannot be written as asked (reported as `Error: ...`, exit 1).
public struct OutputError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension EncodedValue {
    /// A JSON-lines object made of named values (`header` fields flattened by the caller).
    public static func object(_ fields: [(String, EncodedValue)]) -> EncodedValue {
        .message(fields.map { EncodedField(name: $0.0, number: nil, value: $0.1) }, keepZero: [])
    }

    /// The fields of a message, or none.
    public var fields: [EncodedField] {
        if case let .message(f, _) = self { return f }
        return []
    }

    /// A JSON-lines item: `value`'s fields, with the header's `cluster_id`, `member_id`, `revision` and
    /// `raft_term` first, so each line is self-contained.
    public static func line<T: Encodable>(_ value: T, header: ResponseHeader?) -> EncodedValue {
        var all: [EncodedField] = []
        if let h = header { all += EncodedValue.of(h).fields }
        all += EncodedValue.of(value).fields
        return .message(all, keepZero: [])
    }
}
