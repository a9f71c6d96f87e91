/// Builds the small JSON request bodies the gateway takes. Keys and values are base64; 64-bit numbers are
/// sent as strings, which the gateway accepts for every integer field.
struct JSONBody {
    private var out: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    private mutating func name(_ n: String) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: n.utf8)
        out.append(contentsOf: "\":".utf8)
    }

    mutating func bytes(_ n: String, _ value: [UInt8]) {
        name(n)
        out.append(UInt8(ascii: "\""))
        Base64.encode(value, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    mutating func int(_ n: String, _ value: Int64) {
        name(n)
        out.append(contentsOf: "\"\(value)\"".utf8)
    }

    mutating func bool(_ n: String, _ value: Bool) {
        name(n)
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func enumName(_ n: String, _ value: String) {
        name(n)
        out.append(contentsOf: "\"\(value)\"".utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    mutating func string(_ n: String, _ value: String) {
        name(n)
        out.append(UInt8(ascii: "\""))
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\")); out.append(b)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func raw(_ n: String, _ json: [UInt8]) {
        name(n)
        out.append(contentsOf: json)
    }

    func finish() -> [UInt8] { out + [UInt8(ascii: "}")] }
}

/// The range_end that selects every key with `prefix` (etcd's GetPrefixRangeEnd): the prefix with its last
/// byte below 0xff incremented; all keys (`\0`) when every byte is 0xff.
public func prefixRangeEnd(_ prefix: [UInt8]) -> [UInt8] {
    var end = prefix
    while let last = end.last {
        if last < 0xFF {
            end[end.count - 1] = last + 1
            return end
        }
        end.removeLast()
    }
    return [0]
}

/// The keys `<key> [range_end]` select with etcdctl's --prefix or --from-key: with --prefix every key that
/// starts with `key` (all keys when it is empty), with --from-key every key from `key` on.
public func resolveRange(key: [UInt8], rangeEnd: [UInt8], prefix: Bool, fromKey: Bool) -> (key: [UInt8], rangeEnd: [UInt8]) {
    var key = key, end = rangeEnd
    if prefix {
        if key.isEmpty { key = [0]; end = [0] } else { end = prefixRangeEnd(key) }
    }
    if fromKey {
        if key.isEmpty { key = [0] }
        end = [0]
    }
    return (key, end)
}

/// A `/kv/range` request.
public struct RangeRequest: Equatable, Sendable {
    public enum SortOrder: String, Sendable { case none = "NONE", ascend = "ASCEND", descend = "DESCEND" }
    public enum SortTarget: String, Sendable {
        case key = "KEY", version = "VERSION", create = "CREATE", mod = "MOD", value = "VALUE"
    }
    public var key: [UInt8]
    public var rangeEnd: [UInt8] = []
    public var limit: Int64 = 0
    public var revision: Int64 = 0
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key
    public var serializable = false
    public var keysOnly = false
    public var countOnly = false
    /// Only keys created at or before this revision (0: no bound); the lock and election recipes' predecessor.
    public var maxCreateRevision: Int64 = 0

    public init(key: [UInt8]) { self.key = key }

    public func body() -> [UInt8] {
        var b = JSONBody()
        b.bytes("key", key)
        if !rangeEnd.isEmpty { b.bytes("range_end", rangeEnd) }
        if limit != 0 { b.int("limit", limit) }
        if revision != 0 { b.int("revision", revision) }
        if sortOrder != .none { b.enumName("sort_order", sortOrder.rawValue) }
        if sortTarget != .key { b.enumName("sort_target", sortTarget.rawValue) }
        if serializable { b.bool("serializable", true) }
        if keysOnly { b.bool("keys_only", true) }
        if countOnly { b.bool("count_only", true) }
        if maxCreateRevision != 0 { b.int("max_create_revision", maxCreateRevision) }
        return b.finish()
    }
}

/// A `/kv/put` request.
public struct PutRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var lease: Int64 = 0
    public var prevKV = false
    public var ignoreValue = false
    public var ignoreLease = false

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public func body() -> [UInt8] {
        var b = JSONBody()
        b.bytes("key", key)
        if !value.isEmpty { b.bytes("value", value) }
        if lease != 0 { b.int("lease", lease) }
        if prevKV { b.bool("prev_kv", true) }
        if ignoreValue { b.bool("ignore_value", true) }
        if ignoreLease { b.bool("ignore_lease", true) }
        return b.finish()
    }
}

/// A `/kv/deleterange` request.
public struct DeleteRangeRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8] = []
    public var prevKV = false

    public init(key: [UInt8]) { self.key = key }

    public func body() -> [UInt8] {
        var b = JSONBody()
        b.bytes("key", key)
        if !rangeEnd.isEmpty { b.bytes("range_end", rangeEnd) }
        if prevKV { b.bool("prev_kv", true) }
        return b.finish()
    }
}

/// What one watch covers and from where; the `create_request` of the watch stream.
public struct WatchCreateRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8] = []
    public var startRevision: Int64 = 0
    public var prevKV = false
    public var progressNotify = false
    public var fragment = false
    public var watchID: Int64 = 0

    public init(key: [UInt8]) { self.key = key }

    public func body() -> [UInt8] {
        var c = JSONBody()
        c.bytes("key", key)
        if !rangeEnd.isEmpty { c.bytes("range_end", rangeEnd) }
        if startRevision != 0 { c.int("start_revision", startRevision) }
        if progressNotify { c.bool("progress_notify", true) }
        if prevKV { c.bool("prev_kv", true) }
        if watchID != 0 { c.int("watch_id", watchID) }
        if fragment { c.bool("fragment", true) }
        var outer = JSONBody()
        outer.raw("create_request", c.finish())
        return outer.finish()
    }
}
