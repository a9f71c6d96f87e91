/// Decoding helpers shared by the response models: a missing field is its zero value, a field of the wrong
/// type is a malformed reply.
struct Fields {
    let json: JSON
    let context: String

    init(_ json: JSON, _ context: String) throws(GatewayError) {
        guard json.isObject else { throw GatewayError.malformedReply("\(context) is not a JSON object") }
        self.json = json
        self.context = context
    }

    func int64(_ name: String) throws(GatewayError) -> Int64 {
        guard let v = json[name], v != .null else { return 0 }
        guard let n = v.int64Value else { throw GatewayError.malformedReply("\(context).\(name) is not a 64-bit integer") }
        return n
    }

    /// A revision: never negative, and below Int64.max so that the revision after it always exists (a watch
    /// resumes at the last one + 1).
    func revision(_ name: String) throws(GatewayError) -> Int64 {
        let n = try int64(name)
        guard n >= 0 && n < Int64.max else { throw GatewayError.malformedReply("\(context).\(name) is out of range (\(n))") }
        return n
    }

    /// A count or a version: never negative.
    func count(_ name: String) throws(GatewayError) -> Int64 {
        let n = try int64(name)
        guard n >= 0 else { throw GatewayError.malformedReply("\(context).\(name) is out of range (\(n))") }
        return n
    }

    func uint64(_ name: String) throws(GatewayError) -> UInt64 {
        guard let v = json[name], v != .null else { return 0 }
        guard let n = v.uint64Value else { throw GatewayError.malformedReply("\(context).\(name) is not an unsigned 64-bit integer") }
        return n
    }

    func bool(_ name: String) throws(GatewayError) -> Bool {
        guard let v = json[name], v != .null else { return false }
        guard let b = v.boolValue else { throw GatewayError.malformedReply("\(context).\(name) is not a boolean") }
        return b
    }

    func string(_ name: String) throws(GatewayError) -> String {
        guard let v = json[name], v != .null else { return "" }
        guard let s = v.stringValue else { throw GatewayError.malformedReply("\(context).\(name) is not a string") }
        return s
    }

    func bytes(_ name: String) throws(GatewayError) -> [UInt8] {
        let s = try string(name)
        if s.isEmpty { return [] }
        guard let b = Base64.decode(s) else { throw GatewayError.malformedReply("\(context).\(name) is not valid base64") }
        return b
    }

    func array(_ name: String) throws(GatewayError) -> [JSON] {
        guard let v = json[name], v != .null else { return [] }
        guard let a = v.arrayValue else { throw GatewayError.malformedReply("\(context).\(name) is not an array") }
        return a
    }

    func object(_ name: String) -> JSON? {
        guard let v = json[name], v != .null else { return nil }
        return v
    }
}

/// The header every etcd response carries.
public struct ResponseHeader: Equatable, Sendable {
    public var clusterID: UInt64 = 0
    public var memberID: UInt64 = 0
    public var revision: Int64 = 0
    public var raftTerm: UInt64 = 0

    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64 = 0, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }

    init(json: JSON?) throws(GatewayError) {
        guard let json else { return }
        let f = try Fields(json, "header")
        clusterID = try f.uint64("cluster_id")
        memberID = try f.uint64("member_id")
        revision = try f.revision("revision")
        raftTerm = try f.uint64("raft_term")
    }
}

/// One key and its value with their revisions; keys and values are bytes.
public struct KeyValue: Equatable, Sendable {
    public var key: [UInt8] = []
    public var createRevision: Int64 = 0
    public var modRevision: Int64 = 0
    public var version: Int64 = 0
    public var value: [UInt8] = []
    public var lease: Int64 = 0

    public init(key: [UInt8] = [], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
                value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "kv")
        key = try f.bytes("key")
        createRevision = try f.revision("create_revision")
        modRevision = try f.revision("mod_revision")
        version = try f.count("version")
        value = try f.bytes("value")
        lease = try f.int64("lease")
    }
}

/// The reply to `/kv/range`.
public struct RangeResponse: Equatable, Sendable {
    public var header = ResponseHeader()
    public var kvs: [KeyValue] = []
    public var more = false
    public var count: Int64 = 0

    public init(header: ResponseHeader = ResponseHeader(), kvs: [KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.header = header
        self.kvs = kvs
        self.more = more
        self.count = count
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "range response")
        header = try ResponseHeader(json: f.object("header"))
        for item in try f.array("kvs") { kvs.append(try KeyValue(json: item)) }
        more = try f.bool("more")
        count = try f.count("count")
    }
}

/// The reply to `/kv/put`.
public struct PutResponse: Equatable, Sendable {
    public var header = ResponseHeader()
    public var prevKV: KeyValue?

    public init(header: ResponseHeader = ResponseHeader(), prevKV: KeyValue? = nil) {
        self.header = header
        self.prevKV = prevKV
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "put response")
        header = try ResponseHeader(json: f.object("header"))
        if let p = f.object("prev_kv") { prevKV = try KeyValue(json: p) }
    }
}

/// The reply to `/kv/deleterange`.
public struct DeleteRangeResponse: Equatable, Sendable {
    public var header = ResponseHeader()
    public var deleted: Int64 = 0
    public var prevKVs: [KeyValue] = []

    public init(header: ResponseHeader = ResponseHeader(), deleted: Int64 = 0, prevKVs: [KeyValue] = []) {
        self.header = header
        self.deleted = deleted
        self.prevKVs = prevKVs
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "delete response")
        header = try ResponseHeader(json: f.object("header"))
        deleted = try f.count("deleted")
        for item in try f.array("prev_kvs") { prevKVs.append(try KeyValue(json: item)) }
    }
}

/// One change seen by a watch.
public struct Event: Equatable, Sendable {
    public enum Kind: Int, Sendable { case put = 0, delete = 1 }
    public var type: Kind = .put
    public var kv = KeyValue()
    public var prevKV: KeyValue?

    public init(type: Kind = .put, kv: KeyValue = KeyValue(), prevKV: KeyValue? = nil) {
        self.type = type
        self.kv = kv
        self.prevKV = prevKV
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "event")
        switch json["type"] {
        case nil, .some(.null), .some(.string("PUT")), .some(.number("0")): type = .put
        case .some(.string("DELETE")), .some(.number("1")): type = .delete
        default: throw GatewayError.malformedReply("event.type is not PUT or DELETE")
        }
        if let kv = f.object("kv") { self.kv = try KeyValue(json: kv) }
        if let p = f.object("prev_kv") { prevKV = try KeyValue(json: p) }
    }
}

/// One message of a watch stream.
public struct WatchResponse: Equatable, Sendable {
    /// Which piece of one message this is: a huge message is decoded and handed on in parts as its bytes
    /// arrive; printers render the parts of one message exactly as they would the whole.
    public enum Part: Sendable, Equatable {
        case whole
        /// The start (header and the first events; never empty).
        case first
        /// More events (never empty).
        case middle
        /// The end (perhaps more events).
        case last
    }
    public var part: Part = .whole
    public var header = ResponseHeader()
    public var watchID: Int64 = 0
    public var created = false
    public var canceled = false
    public var compactRevision: Int64 = 0
    public var cancelReason = ""
    public var fragment = false
    public var events: [Event] = []

    public init(header: ResponseHeader = ResponseHeader(), watchID: Int64 = 0, created: Bool = false,
                canceled: Bool = false, compactRevision: Int64 = 0, cancelReason: String = "",
                fragment: Bool = false, events: [Event] = []) {
        self.header = header
        self.watchID = watchID
        self.created = created
        self.canceled = canceled
        self.compactRevision = compactRevision
        self.cancelReason = cancelReason
        self.fragment = fragment
        self.events = events
    }

    public init(json: JSON) throws(GatewayError) {
        let f = try Fields(json, "watch response")
        header = try ResponseHeader(json: f.object("header"))
        watchID = try f.int64("watch_id")
        created = try f.bool("created")
        canceled = try f.bool("canceled")
        compactRevision = try f.revision("compact_revision")
        cancelReason = try f.string("cancel_reason")
        fragment = try f.bool("fragment")
        for item in try f.array("events") { events.append(try Event(json: item)) }
    }

    /// A progress notification: a header and nothing else (etcd's `IsProgressNotify`).
    public var isProgressNotify: Bool {
        part == .whole && events.isEmpty && !canceled && !created && compactRevision == 0 && header.revision != 0
    }
}

/// The server's version, from `GET /version`.
public struct ServerVersion: Equatable, Sendable {
    public var server: String
    public var cluster: String
}
