import EtchGateway

/// One endpoint's health as etcdctl reports it: its own `epHealth` struct, whose JSON keys have no `omitempty`
/// except `error`.
public struct EndpointHealth: Encodable, Sendable, Equatable, GoJSONKeepsZero {
    /// The endpoint as given in `--endpoints`, or a member's client URL with `--cluster`.
    public var endpoint: String
    public var health: Bool
    /// Go's `Duration.String` of the time the check took.
    public var took: String
    public var error: String
    enum CodingKeys: String, CodingKey { case endpoint, health, took, error }
    public static let fieldsKeptWhenZero: Set<String> = ["endpoint", "health", "took"]

    public init(endpoint: String, health: Bool, took: String, error: String = "") {
        self.endpoint = endpoint
        self.health = health
        self.took = took
        self.error = error
    }
}

/// One endpoint's status as etcdctl prints it: its `epStatus` struct, `{"Endpoint":..,"Status":{...}}`.
public struct EndpointStatus: Encodable, Sendable, Equatable, GoJSONKeepsZero {
    public var endpoint: String
    public var status: StatusResponse
    enum CodingKeys: String, CodingKey { case endpoint = "Endpoint", status = "Status" }
    public static let fieldsKeptWhenZero: Set<String> = ["Endpoint", "Status"]

    public init(endpoint: String, status: StatusResponse) {
        self.endpoint = endpoint
        self.status = status
    }
}

/// One endpoint's HashKV as etcdctl prints it: its `epHashKV` struct, `{"Endpoint":..,"HashKV":{...}}`.
public struct EndpointHashKV: Encodable, Sendable, Equatable, GoJSONKeepsZero {
    public var endpoint: String
    public var hashKV: HashKVResponse
    enum CodingKeys: String, CodingKey { case endpoint = "Endpoint", hashKV = "HashKV" }
    public static let fieldsKeptWhenZero: Set<String> = ["Endpoint", "HashKV"]

    public init(endpoint: String, hashKV: HashKVResponse) {
        self.endpoint = endpoint
        self.hashKV = hashKV
    }
}

/// What `move-leader` did: the leader it asked, the member it asked for, and the server's reply.
public struct LeaderMove: Sendable, Equatable {
    public var leader: UInt64
    public var target: UInt64
    public var response: HeaderOnlyResponse

    public init(leader: UInt64, target: UInt64, response: HeaderOnlyResponse) {
        self.leader = leader
        self.target = target
        self.response = response
    }
}

/// The maintenance family (`endpoint health/status`, `alarm list/disarm`, `defrag`, `move-leader`) in each
/// format etcdctl has for it.
public enum MaintenanceOutput {
    /// A JSON-lines item for one endpoint's reply: `endpoint`, the header's fields, then the reply's (given
    /// without its header).
    static func endpointLine<T: Encodable>(_ endpoint: String, _ reply: T, header: ResponseHeader?) -> EncodedValue {
        .message([EncodedField(name: "endpoint", number: nil, value: .string(endpoint))]
                 + EncodedValue.line(reply, header: header).fields, keepZero: [])
    }

    // MARK: endpoint health

    /// `endpoint health`, in the order the answers came. etcdctl writes `simple` to stderr: the command passes
    /// its stderr buffer for that format.
    public static let health = Output<[EndpointHealth]>(
        simple: { list, out in
            for h in list {
                if h.error.isEmpty {
                    out.append("\(h.endpoint) is healthy: successfully committed proposal: took = \(h.took)\n")
                } else {
                    out.append("\(h.endpoint) is unhealthy: failed to commit proposal: \(h.error)\n")
                }
            }
        },
        fields: { list, out in
            for h in list {
                out.append("\"Endpoint\" : \(FieldsFormat.quoted(h.endpoint))\n\"Health\" : \(h.health)\n")
                out.append("\"Took\" : \(h.took)\n\"Error\" : \(h.error)\n\n")
            }
        },
        table: { list in
            Table(header: ["endpoint", "health", "took", "error"],
                  rows: list.map { [$0.endpoint, "\($0.health)", $0.took, $0.error] })
        },
        json: { EncodedValue.of($0) },
        jsonl: { list in list.map { EncodedValue.of($0) } }
    )

    // MARK: endpoint status

    /// `makeEndpointStatusTable`'s rows, which `simple` joins with ", ".
    static func statusRows(_ list: [EndpointStatus]) -> [[String]] {
        list.map { e in
            let s = e.status
            let member = s.header?.memberID ?? 0
            return [e.endpoint, String(member, radix: 16), s.version, GoFormat.bytes(UInt64(bitPattern: s.dbSize)),
                    "\(s.leader == member)", "\(s.isLearner)", "\(s.raftTerm)", "\(s.raftIndex)", "\(s.raftAppliedIndex)",
                    s.errors.joined(separator: ", ")]
        }
    }

    public static let status = Output<[EndpointStatus]>(
        simple: { list, out in
            for row in statusRows(list) { out.append(row.joined(separator: ", ") + "\n") }
        },
        fields: { list, out in
            for e in list {
                let s = e.status
                try FieldsFormat.header(s.header, out)
                out.append("\"Version\" : \(FieldsFormat.quoted(s.version))\n\"DBSize\" : \(s.dbSize)\n")
                out.append("\"Leader\" : \(s.leader)\n\"IsLearner\" : \(s.isLearner)\n\"RaftIndex\" : \(s.raftIndex)\n")
                out.append("\"RaftTerm\" : \(s.raftTerm)\n\"RaftAppliedIndex\" : \(s.raftAppliedIndex)\n")
                // Go's Println of a []string: `[a b]`.
                out.append("\"Errors\" : [\(s.errors.joined(separator: " "))]\n")
                out.append("\"Endpoint\" : \(FieldsFormat.quoted(e.endpoint))\n\n")
            }
        },
        table: { list in
            Table(header: ["endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term", "raft index",
                           "raft applied index", "errors"], rows: statusRows(list))
        },
        json: { EncodedValue.of($0) },
        jsonl: { list in
            list.map { e in
                var status = e.status
                status.header = nil
                return endpointLine(e.endpoint, status, header: e.status.header)
            }
        }
    )

    // MARK: endpoint hashkv

    /// `endpoint hashkv`: simple, fields, table and json as etcdctl (no protobuf), and jsonl.
    public static let hashKV = Output<[EndpointHashKV]>(
        simple: { list, out in
            for h in list { out.append("\(h.endpoint), \(h.hashKV.hash)\n") }
        },
        fields: { list, out in
            for h in list {
                try FieldsFormat.header(h.hashKV.header, out)
                out.append("\"Endpoint\" : \(FieldsFormat.quoted(h.endpoint))\n\"Hash\" : \(h.hashKV.hash)\n\n")
            }
        },
        table: { list in Table(header: ["endpoint", "hash"], rows: list.map { [$0.endpoint, "\($0.hashKV.hash)"] }) },
        json: { EncodedValue.of($0) },
        jsonl: { list in
            list.map { h in
                var r = h.hashKV
                r.header = nil
                return endpointLine(h.endpoint, r, header: h.hashKV.header)
            }
        }
    )

    // MARK: alarm

    /// gogo's compact text of an `AlarmMember` (`%+v` of the pointer): each non-zero field as `name:value `.
    public static func compactText(_ a: AlarmMember) -> String {
        var s = ""
        if a.memberID != 0 { s += "memberID:\(a.memberID) " }
        if a.alarm != .none { s += "alarm:\(a.alarm.name) " }
        return s
    }

    static func alarmLines(_ r: AlarmResponse) -> [EncodedValue] {
        r.alarms.map { EncodedValue.line($0, header: r.header) }
    }

    /// `alarm list`: etcdctl has simple, json, protobuf and (when the reply has a header: etcd 3.5) fields.
    public static let alarmList = Output<AlarmResponse>.message(
        simple: { r, out in
            for a in r.alarms { out.append(compactText(a) + "\n") }
        },
        fields: { r, out in
            try FieldsFormat.header(r.header, out)
            for a in r.alarms { out.append("\"MemberID\" : \(a.memberID)\n\"AlarmType\" : \(a.alarm.name)\n\n") }
        },
        jsonl: alarmLines
    )

    /// `alarm disarm`: the alarms it deactivated. etcdctl builds this reply itself, without a header, so its
    /// fields printer always crashes: etch refuses fields before disarming anything.
    public static var alarmDisarm: Output<AlarmResponse> {
        var o = alarmList
        o.fields = nil
        return o
    }

    // MARK: defrag

    /// `defrag`: one line per member defragmented, whatever the format.
    public static let defrag = Output<String>.text(
        { endpoint, out in out.append("Finished defragmenting etcd member[\(endpoint)]\n") },
        jsonl: { endpoint in [.object([("endpoint", .string(endpoint)), ("defragmented", .bool(true))])] }
    )

    // MARK: move-leader

    /// `move-leader`: simple says who moved where (types.ID: hex); json and protobuf are the reply; etcdctl has
    /// no fields or table.
    public static let moveLeader = Output<LeaderMove>(
        simple: { m, out in
            out.append("Leadership transferred from \(String(m.leader, radix: 16)) to \(String(m.target, radix: 16))\n")
        },
        json: { EncodedValue.of($0.response) },
        protobuf: { EncodedValue.of($0.response) },
        jsonl: { m in
            var fields: [(String, EncodedValue)] = [("leaderID", .uint(m.leader)), ("targetID", .uint(m.target))]
            if let h = m.response.header { fields += EncodedValue.of(h).fields.map { ($0.name, $0.value) } }
            return [.object(fields)]
        }
    )
}
