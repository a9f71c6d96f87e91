import EtchGateway

/// What `snapshot status` prints about a database file: etcd's `snapshot.Status`, whose JSON keys have no
/// `omitempty`.
public struct SnapshotFileStatus: Encodable, Sendable, Equatable, GoJSONKeepsZero {
    public var hash: UInt32
    public var revision: Int64
    public var totalKey: Int
    public var totalSize: Int64
    enum CodingKeys: String, CodingKey { case hash, revision, totalKey, totalSize }
    public static let fieldsKeptWhenZero: Set<String> = ["hash", "revision", "totalKey", "totalSize"]

    public init(hash: UInt32, revision: Int64, totalKey: Int, totalSize: Int64) {
        self.hash = hash
        self.revision = revision
        self.totalKey = totalKey
        self.totalSize = totalSize
    }
}

/// `snapshot status` in each format etcdctl has for it (simple, fields, table, json; not protobuf) and jsonl.
public enum SnapshotStatusOutput {
    /// `makeDBStatusTable`'s row: hash in hex, size in go-humanize's SI bytes.
    static func row(_ s: SnapshotFileStatus) -> [String] {
        [String(s.hash, radix: 16), "\(s.revision)", "\(s.totalKey)", GoFormat.bytes(UInt64(max(0, s.totalSize)))]
    }

    public static let status = Output<SnapshotFileStatus>(
        simple: { s, out in out.append(row(s).joined(separator: ", ") + "\n") },
        fields: { s, out in
            out.append("\"Hash\" : \(s.hash)\n\"Revision\" : \(s.revision)\n\"Keys\" : \(s.totalKey)\n\"Size\" : \(s.totalSize)\n")
        },
        table: { s in Table(header: ["hash", "revision", "total keys", "total size"], rows: [row(s)]) },
        json: { EncodedValue.of($0) },
        jsonl: { s in
            [.object([("hash", .uint(UInt64(s.hash))), ("revision", .int(s.revision)),
                      ("total_key", .int(Int64(s.totalKey))), ("total_size", .int(s.totalSize))])]
        }
    )
}
