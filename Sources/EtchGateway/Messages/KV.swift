/// The KV messages' encodings (mvccpb.KeyValue, RangeResponse, PutResponse, DeleteRangeResponse, Event,
/// WatchResponse as etcdctl builds it), for `-w protobuf`. Their gateway decoding stays hand-written in
/// Models.swift, tuned for large ranges and watch streams.

extension KeyValue: Encodable {
    enum CodingKeys: Int, CodingKey { case key = 1, create_revision, mod_revision, version, value, lease }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(createRevision, forKey: .create_revision)
        try c.encode(modRevision, forKey: .mod_revision)
        try c.encode(version, forKey: .version)
        try c.encode(value, forKey: .value)
        try c.encode(lease, forKey: .lease)
    }
}

extension RangeResponse: Encodable {
    enum CodingKeys: Int, CodingKey { case header = 1, kvs, more, count }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(header, forKey: .header)
        try c.encode(kvs, forKey: .kvs)
        try c.encode(more, forKey: .more)
        try c.encode(count, forKey: .count)
    }
}

extension PutResponse: Encodable {
    enum CodingKeys: Int, CodingKey { case header = 1, prev_kv }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(header, forKey: .header)
        try c.encodeIfPresent(prevKV, forKey: .prev_kv)
    }
}

extension DeleteRangeResponse: Encodable {
    enum CodingKeys: Int, CodingKey { case header = 1, deleted, prev_kvs }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(header, forKey: .header)
        try c.encode(deleted, forKey: .deleted)
        try c.encode(prevKVs, forKey: .prev_kvs)
    }
}

extension Event: Encodable {
    enum CodingKeys: Int, CodingKey { case type = 1, kv, prev_kv }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Int32(type.rawValue), forKey: .type)
        try c.encode(kv, forKey: .kv)
        try c.encodeIfPresent(prevKV, forKey: .prev_kv)
    }
}
