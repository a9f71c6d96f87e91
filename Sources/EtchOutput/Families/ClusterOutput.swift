import EtchGateway

/// The member family (`member list/add/remove/update/promote`) and compaction, in each format etcdctl has.
public enum ClusterOutput {
    /// etcdctl's `%16x`: hex, space-padded to 16 (`Member  c430877ba58d976 removed ...`).
    static func paddedHex(_ v: UInt64) -> String {
        let h = String(v, radix: 16)
        return String(repeating: " ", count: max(0, 16 - h.count)) + h
    }

    /// `makeMemberListTable`'s rows: ID, status, name, peer and client URLs, learner.
    static func memberRows(_ members: [Member]) -> [[String]] {
        members.map { m in
            [String(m.ID, radix: 16), m.name.isEmpty ? "unstarted" : "started", m.name,
             m.peerURLs.joined(separator: ","), m.clientURLs.joined(separator: ","), m.isLearner ? "true" : "false"]
        }
    }

    /// One JSON line per member, with the header's IDs.
    static func memberLines(_ members: [Member], _ header: ResponseHeader?) -> [EncodedValue] {
        members.map { m in
            let cluster = header.map { [EncodedField(name: "cluster_id", number: nil, value: .uint($0.clusterID))] } ?? []
            return .message(EncodedValue.of(m).fields + cluster, keepZero: [])
        }
    }

    public static let list = Output<MemberListResponse>.message(
        simple: { r, out in
            for row in memberRows(r.members) { out.append(row.joined(separator: ", ") + "\n") }
        },
        fields: { r, out in
            try FieldsFormat.header(r.header, out)
            for m in r.members {
                out.append("\"ID\" : \(m.ID)\n\"Name\" : \(FieldsFormat.quoted(m.name))\n")
                for u in m.peerURLs { out.append("\"PeerURL\" : \(FieldsFormat.quoted(u))\n") }
                for u in m.clientURLs { out.append("\"ClientURL\" : \(FieldsFormat.quoted(u))\n") }
                out.append("\"IsLearner\" : \(m.isLearner)\n\n")
            }
        },
        table: { r in Table(header: ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"], rows: memberRows(r.members)) },
        jsonl: { r in memberLines(r.members, r.header) }
    )

    /// `member add`: the new member's line and, in simple, the environment to start it with (`name` is the
    /// new member's; `peerURLs` the flag as given).
    public static func add(name: String, peerURLs: String) -> Output<MemberAddResponse> {
        .message(
            simple: { r, out in
                let id = r.member?.ID ?? 0
                out.append("Member \(paddedHex(id)) added to cluster \(paddedHex(r.header?.clusterID ?? 0))\n")
                var conf: [String] = []
                for m in r.members {
                    for u in m.peerURLs { conf.append("\(m.ID == id ? name : m.name)=\(u)") }
                }
                out.append("\nETCD_NAME=\(FieldsFormat.quoted(name))\n")
                out.append("ETCD_INITIAL_CLUSTER=\(FieldsFormat.quoted(conf.joined(separator: ",")))\n")
                out.append("ETCD_INITIAL_ADVERTISE_PEER_URLS=\(FieldsFormat.quoted(peerURLs))\n")
                out.append("ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
            },
            jsonl: { r in
                var m = r.member ?? Member()
                m.name = name
                return memberLines([m], r.header)
            }
        )
    }

    /// `member remove`, `update` and `promote`: `Member <id> <verb> cluster <cluster id>`. etcdctl has no json or
    /// protobuf for promote (it panics), so etch has none either.
    public static func changed(_ id: UInt64, verb: String, structured: Bool) -> Output<MemberListResponse> {
        var o = Output<MemberListResponse>.message(
            simple: { r, out in
                out.append("Member \(paddedHex(id)) \(verb) cluster \(paddedHex(r.header?.clusterID ?? 0))\n")
            },
            jsonl: { r in memberLines(r.members, r.header) }
        )
        if !structured {
            o.json = nil
            o.protobuf = nil
        }
        return o
    }

    /// `compaction`: one line in every format, as etcdctl.
    public static func compaction(_ revision: Int64) -> Output<HeaderOnlyResponse> {
        .text({ _, out in out.append("compacted revision \(revision)\n") },
              jsonl: { r in [.object([("compacted", .int(revision)), ("revision", .int(r.header?.revision ?? 0))])] })
    }
}
