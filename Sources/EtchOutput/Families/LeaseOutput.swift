import EtchGateway

/// clientv3's lease response structs as etcdctl's `-w json` writes them: the response header is embedded, so its
/// fields come first and flat (`omitempty`), then the struct's own fields, which have no `omitempty`.
struct EtcdctlLeaseJSON: Encodable, GoJSONKeepsZero {
    var header: ResponseHeader?
    /// The struct's own fields, in declaration order.
    var fields: [(String, Field)]
    /// etcdctl's `LeaseLeasesResponse.Leases` is made with `make`: `[]` when empty, not `null`.
    static let fieldsEmptyAsArray: Set<String> = ["leases"]
    static let fieldsKeptWhenZero: Set<String> = ["ID", "TTL", "Error", "id", "ttl", "granted-ttl", "keys", "leases"]

    enum Field {
        case int(Int64)
        case string(String)
        case bytesList([[UInt8]])
        case ids([Int64])
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// `{"id":N}`, clientv3's `LeaseStatus`.
    struct Status: Encodable, GoJSONKeepsZero {
        var id: Int64
        static let fieldsKeptWhenZero: Set<String> = ["id"]
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        if let h = header {
            try c.encode(h.clusterID, forKey: Key("cluster_id"))
            try c.encode(h.memberID, forKey: Key("member_id"))
            try c.encode(h.revision, forKey: Key("revision"))
            try c.encode(h.raftTerm, forKey: Key("raft_term"))
        }
        for (name, value) in fields {
            switch value {
            case let .int(v): try c.encode(v, forKey: Key(name))
            case let .string(v): try c.encode(v, forKey: Key(name))
            case let .bytesList(v): try c.encode(v, forKey: Key(name))
            case let .ids(v): try c.encode(v.map { Status(id: $0) }, forKey: Key(name))
            }
        }
    }
}

/// The lease family (`lease grant/revoke/timetolive/list/keep-alive`) in each format etcdctl has for it.
///
/// etcdctl prints clientv3's structs, not the protobuf messages: `-w json` has the header flat (see
/// `EtcdctlLeaseJSON`), and `-w protobuf` writes only the header (the structs' one protobuf method is the
/// embedded header's); `revoke` has no protobuf (etcdctl exits 4 after revoking) and none has a table. In jsonl
/// lease IDs are hexadecimal strings, as `put --lease` takes them and `get -w jsonl` prints a key's lease.
public enum LeaseOutput {
    /// A lease ID as etcdctl prints it in text: Go's `%016x` of the int64.
    public static func hex(_ id: Int64) -> String { LeaseKeeper.hex(id) }

    /// A lease ID in jsonl: hex without padding, as JSONLinesPrinter writes a key's lease.
    static func lineID(_ id: Int64) -> EncodedValue { .string(String(UInt64(bitPattern: id), radix: 16)) }

    /// The header as the other families' JSON lines have it.
    static func headerFields(_ h: ResponseHeader?) -> [(String, EncodedValue)] { AuthOutput.headerFields(h) }

    /// etcdctl's fields lines of the header and then `"Name" : N` for each of `numbers`.
    static func fields(_ h: ResponseHeader?, _ numbers: [(String, Int64)], _ out: OutputBuffer) throws {
        try FieldsFormat.header(h, out)
        for (name, n) in numbers { out.append("\"\(name)\" : \(n)\n") }
    }

    /// `-w protobuf`: the header's encoding alone.
    static func headerProtobuf(_ h: ResponseHeader?) -> EncodedValue { h.map { EncodedValue.of($0) } ?? .message([], keepZero: []) }

    public static let grant = Output<LeaseGrantResponse>(
        simple: { r, out in out.append("lease \(hex(r.ID)) granted with TTL(\(r.TTL)s)\n") },
        fields: { r, out in try fields(r.header, [("ID", r.ID), ("TTL", r.TTL)], out) },
        json: { r in EncodedValue.of(EtcdctlLeaseJSON(header: r.header, fields: [("ID", .int(r.ID)), ("TTL", .int(r.TTL)), ("Error", .string(r.error))])) },
        protobuf: { r in headerProtobuf(r.header) },
        jsonl: { r in
            [.object([("id", lineID(r.ID)), ("ttl", .int(r.TTL))] + (r.error.isEmpty ? [] : [("error", .string(r.error))]) + headerFields(r.header))]
        })

    /// `lease revoke <id>`: etcdctl prints the ID it was given, and the message itself (`{"header":{..}}`) in json.
    public static func revoke(_ id: Int64) -> Output<HeaderOnlyResponse> {
        Output(
            simple: { _, out in out.append("lease \(hex(id)) revoked\n") },
            fields: { r, out in try FieldsFormat.header(r.header, out) },
            json: { EncodedValue.of($0) },
            jsonl: { r in [.object([("id", lineID(id)), ("revoked", .bool(true))] + headerFields(r.header))] })
    }

    /// `lease timetolive <id> [--keys]`: `keys` is whether simple lists the attached keys (json and fields show
    /// whatever the server sent).
    public static func timeToLive(keys: Bool) -> Output<LeaseTimeToLiveResponse> {
        Output(
            simple: { r, out in
                if r.grantedTTL == 0 && r.TTL == -1 {
                    out.append("lease \(hex(r.ID)) already expired\n")
                    return
                }
                out.append("lease \(hex(r.ID)) granted with TTL(\(r.grantedTTL)s), remaining(\(r.TTL)s)")
                if keys {
                    // Go's %v of a []string: the keys as they are, space-separated, in brackets.
                    out.append(", attached keys([")
                    for (i, k) in r.keys.enumerated() {
                        if i > 0 { out.append(" ") }
                        out.append(k)
                    }
                    out.append("])")
                }
                out.append("\n")
            },
            fields: { r, out in
                try fields(r.header, [("ID", r.ID), ("TTL", r.TTL), ("GrantedTTL", r.grantedTTL)], out)
                for k in r.keys { out.append("\"Key\" : \(FieldsFormat.quoted(k))\n") }
            },
            json: { r in
                EncodedValue.of(EtcdctlLeaseJSON(header: r.header, fields: [("id", .int(r.ID)), ("ttl", .int(r.TTL)),
                                                                            ("granted-ttl", .int(r.grantedTTL)), ("keys", .bytesList(r.keys))]))
            },
            protobuf: { r in headerProtobuf(r.header) },
            jsonl: { r in
                var item: [(String, EncodedValue)] = [("id", lineID(r.ID)), ("ttl", .int(r.TTL)), ("granted_ttl", .int(r.grantedTTL))]
                if keys {
                    let texts = r.keys.compactMap { String(validating: $0, as: UTF8.self) }
                    if texts.count == r.keys.count {
                        item.append(("keys", .list(texts.map { .string($0) })))
                    } else {
                        item.append(("keys_base64", .list(r.keys.map { .bytes($0) })))
                    }
                }
                return [.object(item + headerFields(r.header))]
            })
    }

    /// `lease list`: the count, then one ID a line.
    public static let list = Output<LeaseLeasesResponse>(
        simple: { r, out in
            out.append("found \(r.leases.count) leases\n")
            for l in r.leases { out.append(hex(l.ID) + "\n") }
        },
        fields: { r, out in try fields(r.header, r.leases.map { ("ID", $0.ID) }, out) },
        json: { r in EncodedValue.of(EtcdctlLeaseJSON(header: r.header, fields: [("leases", .ids(r.leases.map(\.ID)))])) },
        protobuf: { r in headerProtobuf(r.header) },
        jsonl: { r in r.leases.map { .object([("id", lineID($0.ID))]) } })

    /// One reply of `lease keep-alive`.
    public static let keepAlive = Output<LeaseKeepAliveResponse>(
        simple: { r, out in out.append("lease \(hex(r.ID)) keepalived with TTL(\(r.TTL))\n") },
        fields: { r, out in try fields(r.header, [("ID", r.ID), ("TTL", r.TTL)], out) },
        json: { r in EncodedValue.of(EtcdctlLeaseJSON(header: r.header, fields: [("ID", .int(r.ID)), ("TTL", .int(r.TTL))])) },
        protobuf: { r in headerProtobuf(r.header) },
        jsonl: { r in [.object([("id", lineID(r.ID)), ("ttl", .int(r.TTL))] + headerFields(r.header))] })
}
