/// One description of an etcd message, three wire forms.
///
/// A message is a Swift struct that is `Codable` with `enum CodingKeys: Int, CodingKey`: each case is named after
/// the proto field (which is also the gateway's and Go's JSON name) and its raw value is the proto field number.
/// From that one declaration:
/// - `MessageDecoder` reads the gateway's JSON (64-bit integers as strings, bytes as base64, enums by name, a
///   missing field is its zero value);
/// - `EncodedMessage` captures a value once and writes it as Go's encoding/json of the gogo struct (etcdctl's
///   `-w json`), as the gateway's request JSON, as JSON lines, or as protobuf (etcdctl's `-w protobuf`).
///
/// `[UInt8]` is proto `bytes`; a `ProtoEnum` is a proto enum; an `Optional` message is a Go pointer (nil is
/// omitted everywhere, a present empty message is not).

/// A proto enum: a number with names. A struct rather than a Swift enum, so a number this build does not know
/// survives a round trip.
public protocol ProtoEnum: Codable, Equatable, Sendable {
    var rawValue: Int32 { get }
    init(rawValue: Int32)
    /// The names of the known numbers, as the gateway writes them.
    static var names: [Int32: String] { get }
}

extension ProtoEnum {
    /// The proto name, or the number when it has none.
    public var name: String { Self.names[rawValue] ?? String(rawValue) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self.init(rawValue: 0); return }
        if let s = try? c.decode(String.self) {
            if let n = Self.names.first(where: { $0.value == s })?.key { self.init(rawValue: n); return }
            if let n = Int32(s) { self.init(rawValue: n); return }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown enum name \(s)")
        }
        self.init(rawValue: try c.decode(Int32.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// Types whose Go struct has fields without `omitempty` (etcdctl's own structs, such as `epHealth`): those
/// fields are written in JSON even when zero.
public protocol GoJSONKeepsZero {
    static var fieldsKeptWhenZero: Set<String> { get }
    /// The slices among those fields that Go makes with `make` rather than leaves nil, so an empty one is written
    /// `[]`, not `null` (etcdctl's lease list: `"leases":[]`).
    static var fieldsEmptyAsArray: Set<String> { get }
}

extension GoJSONKeepsZero {
    public static var fieldsEmptyAsArray: Set<String> { [] }

    /// The names `EncodedValue.message` keeps when zero: an empty-as-array slice is marked `[]name`.
    static var keepZeroMarks: Set<String> { fieldsKeptWhenZero.union(fieldsEmptyAsArray.map { "[]" + $0 }) }
}

// MARK: - Decoding the gateway's JSON

/// Decodes a message from the gateway's JSON. Every decoding rule of the gateway lives here.
public enum MessageDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from json: JSON, context: String = "reply") throws(GatewayError) -> T {
        do {
            return try T(from: GatewayJSONDecoder(json: json, path: []))
        } catch let e as GatewayError {
            throw e
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.dataCorrupted(c) {
            let path = c.codingPath.map { $0 is IndexKey ? "[\($0.intValue ?? 0)]" : "." + $0.stringValue }.joined()
            throw .malformedReply("\(context)\(path): \(c.debugDescription)")
        } catch {
            throw .malformedReply("\(context): \(error)")
        }
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct GatewayJSONDecoder: Decoder {
    let json: JSON
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch json {
        case .null: return KeyedDecodingContainer(Keyed<Key>(members: [], path: path))
        case let .object(m): return KeyedDecodingContainer(Keyed<Key>(members: m, path: path))
        default: throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: path, debugDescription: "not an object"))
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch json {
        case .null: return Unkeyed(items: [], path: path)
        case let .array(a): return Unkeyed(items: a, path: path)
        default: throw DecodingError.typeMismatch([Any].self, .init(codingPath: path, debugDescription: "not an array"))
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(json: json, path: path) }

    /// Values the decoder reads itself rather than through `T(from:)`: base64 bytes and enums by name.
    static func decode<T: Decodable>(_ type: T.Type, _ json: JSON, path: [any CodingKey]) throws -> T {
        if T.self == [UInt8].self {
            guard case let .string(s) = json else {
                if json == .null { return [UInt8]() as! T }
                throw DecodingError.typeMismatch(T.self, .init(codingPath: path, debugDescription: "bytes are not a base64 string"))
            }
            guard let b = Base64.decode(s) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "not valid base64"))
            }
            return b as! T
        }
        return try T(from: GatewayJSONDecoder(json: json, path: path))
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(String, JSON)]
        let path: [any CodingKey]
        var codingPath: [any CodingKey] { path }
        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }

        func value(_ key: Key) -> JSON {
            for (k, v) in members where k == key.stringValue { return v }
            return .null
        }
        func contains(_ key: Key) -> Bool { members.contains { $0.0 == key.stringValue } }
        func decodeNil(forKey key: Key) throws -> Bool { value(key) == .null }
        func single(_ key: Key) -> Single { Single(json: value(key), path: path + [key]) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try single(key).decode(type) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try single(key).decode(type) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try single(key).decode(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try single(key).decode(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try single(key).decode(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try single(key).decode(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try single(key).decode(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try single(key).decode(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try single(key).decode(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try single(key).decode(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try single(key).decode(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try single(key).decode(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try single(key).decode(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try single(key).decode(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try GatewayJSONDecoder.decode(type, value(key), path: path + [key])
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try GatewayJSONDecoder(json: value(key), path: path + [key]).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try GatewayJSONDecoder(json: value(key), path: path + [key]).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { GatewayJSONDecoder(json: .object(members), path: path) }
        func superDecoder(forKey key: Key) throws -> any Decoder { GatewayJSONDecoder(json: value(key), path: path + [key]) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSON]
        let path: [any CodingKey]
        var currentIndex = 0
        var codingPath: [any CodingKey] { path }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSON], path: [any CodingKey]) {
            self.items = items
            self.path = path
        }

        mutating func next() throws -> (JSON, [any CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: path, debugDescription: "array ended"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], path + [IndexKey(currentIndex)])
        }
        mutating func decodeNil() throws -> Bool {
            if !isAtEnd, items[currentIndex] == .null { currentIndex += 1; return true }
            return false
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, p) = try next()
            if let s = try? Single(json: v, path: p).decodePrimitive(type) { return s }
            return try GatewayJSONDecoder.decode(type, v, path: p)
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
            let (v, p) = try next()
            return try GatewayJSONDecoder(json: v, path: p).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, p) = try next()
            return try GatewayJSONDecoder(json: v, path: p).unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder {
            let (v, p) = try next()
            return GatewayJSONDecoder(json: v, path: p)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let json: JSON
        let path: [any CodingKey]
        var codingPath: [any CodingKey] { path }

        func mismatch(_ what: String) -> DecodingError {
            .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "not \(what)"))
        }
        func decodeNil() -> Bool { json == .null }
        func decode(_ type: Bool.Type) throws -> Bool {
            switch json {
            case .null: return false
            case let .bool(b): return b
            default: throw mismatch("a boolean")
            }
        }
        func decode(_ type: String.Type) throws -> String {
            switch json {
            case .null: return ""
            case let .string(s): return s
            default: throw mismatch("a string")
            }
        }
        /// An integer from a JSON number or, as the gateway writes 64-bit ones, a string; null is zero.
        func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            switch json {
            case .null: return 0
            case let .number(s), let .string(s):
                guard let v = I(s) else { throw mismatch("a \(I.bitWidth)-bit integer") }
                return v
            default: throw mismatch("an integer")
            }
        }
        func decode(_ type: Double.Type) throws -> Double {
            switch json {
            case .null: return 0
            case let .number(s), let .string(s):
                guard let v = Double(s) else { throw mismatch("a number") }
                return v
            default: throw mismatch("a number")
            }
        }
        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int.Type) throws -> Int { try integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if let v = try decodePrimitive(type) { return v }
            return try GatewayJSONDecoder.decode(type, json, path: path)
        }
        /// Strings, booleans and integers in a list (`repeated string`).
        func decodePrimitive<T>(_ type: T.Type) throws -> T? {
            switch type {
            case is String.Type: return try decode(String.self) as? T
            case is Bool.Type: return try decode(Bool.self) as? T
            case is Int64.Type: return try decode(Int64.self) as? T
            case is UInt64.Type: return try decode(UInt64.self) as? T
            case is Int32.Type: return try decode(Int32.self) as? T
            default: return nil
            }
        }
    }
}

// MARK: - Encoding

/// A message captured once, with its field names, numbers and types, ready to be written in any form.
public indirect enum EncodedValue: Equatable, Sendable {
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case string(String)
    case bytes([UInt8])
    case enumeration(Int32, name: String?)
    case list([EncodedValue])
    /// A message's fields in declaration order; `keepZero` names the Go fields without `omitempty` (and marks
    /// `[]name` those of them written `[]` when empty; see `GoJSONKeepsZero`).
    case message([EncodedField], keepZero: Set<String>)
    /// A double (`took` in seconds and the like; not in etcd's messages).
    case double(Double)

    public var isZero: Bool {
        switch self {
        case let .int(v): return v == 0
        case let .uint(v): return v == 0
        case let .bool(v): return !v
        case let .string(v): return v.isEmpty
        case let .bytes(v): return v.isEmpty
        case let .enumeration(v, _): return v == 0
        case let .list(v): return v.isEmpty
        case .message: return false
        case let .double(v): return v == 0
        }
    }

    /// Captures any `Encodable` value.
    public static func of<T: Encodable>(_ value: T) -> EncodedValue { CapturingEncoder.capture(value) }

    /// Values written natively rather than through their own `encode(to:)`. (`[UInt8]` by its static type: an
    /// empty array of anything casts to `[UInt8]`.)
    static func special<T>(_ value: T) -> EncodedValue? {
        if T.self == [UInt8].self, let b = value as? [UInt8] { return .bytes(b) }
        if let e = value as? any ProtoEnum { return .enumeration(e.rawValue, name: type(of: e).names[e.rawValue]) }
        return nil
    }
}

/// One field of an `EncodedValue.message`.
public struct EncodedField: Equatable, Sendable {
    public var name: String
    /// The proto field number (nil for etcdctl's own structs, which have no protobuf form).
    public var number: Int?
    public var value: EncodedValue

    public init(name: String, number: Int?, value: EncodedValue) {
        self.name = name
        self.number = number
        self.value = value
    }
}

/// What one value's `encode(to:)` produced: a single value, a message's fields or a list's items.
private final class ValueBox {
    var value: EncodedValue?
    var fields: [EncodedField] = []
    var items: [EncodedValue] = []
    var keepZero: Set<String> = []
    var isMessage = false
    var isList = false

    func finish() -> EncodedValue? {
        if isMessage { return .message(fields, keepZero: keepZero) }
        if isList { return .list(items) }
        return value
    }
}

private struct CapturingEncoder: Encoder {
    let box: ValueBox
    let keepZero: Set<String>
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.isMessage = true
        box.keepZero = keepZero
        return KeyedEncodingContainer(KeyedCapture<Key>(encoder: self))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        box.isList = true
        return UnkeyedCapture(encoder: self)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleCapture(encoder: self) }

    /// Captures a nested value.
    static func capture<T: Encodable>(_ value: T) -> EncodedValue {
        if let v = EncodedValue.special(value) { return v }
        let child = ValueBox()
        try? value.encode(to: CapturingEncoder(box: child, keepZero: (T.self as? GoJSONKeepsZero.Type)?.keepZeroMarks ?? []))
        return child.finish() ?? .message([], keepZero: [])
    }

    func set(_ v: EncodedValue) { box.value = v }
}

private struct KeyedCapture<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: CapturingEncoder
    var codingPath: [any CodingKey] { [] }

    func add(_ key: Key, _ v: EncodedValue) {
        encoder.box.fields.append(EncodedField(name: key.stringValue, number: key.intValue, value: v))
    }
    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { add(key, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { add(key, .double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(key, .int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { add(key, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { add(key, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(key, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(key, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { add(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { add(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { add(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { add(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { add(key, .uint(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { add(key, CapturingEncoder.capture(value)) }
    mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
        fatalError("nested containers are not used by messages")
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        fatalError("nested containers are not used by messages")
    }
    mutating func superEncoder() -> any Encoder { encoder }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
}

private struct UnkeyedCapture: UnkeyedEncodingContainer {
    let encoder: CapturingEncoder
    var codingPath: [any CodingKey] { [] }
    var count: Int { encoder.box.items.count }

    func add(_ v: EncodedValue) { encoder.box.items.append(v) }
    mutating func encodeNil() throws {}
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(.double(value)) }
    mutating func encode(_ value: Float) throws { add(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.int(value)) }
    mutating func encode(_ value: UInt) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { add(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { add(CapturingEncoder.capture(value)) }
    mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> {
        fatalError("nested containers are not used by messages")
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        fatalError("nested containers are not used by messages")
    }
    mutating func superEncoder() -> any Encoder { encoder }
}

private struct SingleCapture: SingleValueEncodingContainer {
    let encoder: CapturingEncoder
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil() throws {}
    mutating func encode(_ value: Bool) throws { encoder.set(.bool(value)) }
    mutating func encode(_ value: String) throws { encoder.set(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.set(.double(value)) }
    mutating func encode(_ value: Float) throws { encoder.set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { encoder.set(.int(value)) }
    mutating func encode(_ value: UInt) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { encoder.set(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.set(CapturingEncoder.capture(value)) }
}

// MARK: - Writers

extension EncodedValue {
    /// The gateway's request JSON: proto field names, 64-bit integers as strings, enums by name, bytes as
    /// base64, zero fields left out.
    public func gatewayJSON() -> [UInt8] {
        var out: [UInt8] = []
        writeGateway(&out)
        return out
    }

    private func writeGateway(_ out: inout [UInt8]) {
        switch self {
        case let .int(v): out.append(contentsOf: "\"\(v)\"".utf8)
        case let .uint(v): out.append(contentsOf: "\"\(v)\"".utf8)
        case let .bool(v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case let .string(s): GoJSON.appendString(Array(s.utf8), to: &out, escapeHTML: false)
        case let .bytes(b): out.append(0x22); Base64.encode(b, into: &out); out.append(0x22)
        case let .enumeration(v, name):
            if let name { out.append(contentsOf: "\"\(name)\"".utf8) } else { out.append(contentsOf: "\(v)".utf8) }
        case let .double(d): out.append(contentsOf: "\(d)".utf8)
        case let .list(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.writeGateway(&out)
            }
            out.append(UInt8(ascii: "]"))
        case let .message(fields, _):
            out.append(UInt8(ascii: "{"))
            var first = true
            for f in fields where !f.value.isZero {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                GoJSON.appendString(Array(f.name.utf8), to: &out, escapeHTML: false)
                out.append(UInt8(ascii: ":"))
                f.value.writeGateway(&out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Go's `json.Marshal` of the gogo struct, as etcdctl's `-w json` prints it: fields in declaration order,
    /// zero fields omitted (`omitempty`), integers and enums as numbers, bytes as base64, strings escaped as Go
    /// escapes them.
    public func goJSON() -> [UInt8] {
        var out: [UInt8] = []
        writeGo(&out)
        return out
    }

    private func writeGo(_ out: inout [UInt8]) {
        switch self {
        case let .int(v): out.append(contentsOf: "\(v)".utf8)
        case let .uint(v): out.append(contentsOf: "\(v)".utf8)
        case let .bool(v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case let .string(s): GoJSON.appendString(Array(s.utf8), to: &out, escapeHTML: true)
        case let .bytes(b): out.append(0x22); Base64.encode(b, into: &out); out.append(0x22)
        case let .enumeration(v, _): out.append(contentsOf: "\(v)".utf8)
        case let .double(d): out.append(contentsOf: GoJSON.float(d).utf8)
        case let .list(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.writeGo(&out)
            }
            out.append(UInt8(ascii: "]"))
        case let .message(fields, keepZero):
            out.append(UInt8(ascii: "{"))
            var first = true
            for f in fields where !f.value.isZero || keepZero.contains(f.name) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                GoJSON.appendString(Array(f.name.utf8), to: &out, escapeHTML: true)
                out.append(UInt8(ascii: ":"))
                if case .list(let items) = f.value, items.isEmpty, keepZero.contains(f.name) {
                    // A nil Go slice without omitempty, or an empty one made with `make`.
                    out.append(contentsOf: (keepZero.contains("[]" + f.name) ? "[]" : "null").utf8)
                } else {
                    f.value.writeGo(&out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// etch's JSON lines: like Go's JSON, but every field is written (a zero is `0`, `false` or `""`, never
    /// missing), 64-bit IDs are decimal strings (jq reads numbers as doubles), enums are names, and bytes are
    /// text when they are UTF-8 (`key`), else base64 under `<name>_base64`.
    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        writeLine(&out, name: "")
        return out
    }

    /// Whether a field holds an ID (or another uint64 jq would round): written as a string.
    static func isIdentifier(_ name: String) -> Bool {
        name == "ID" || name == "id" || name.hasSuffix("_id") || name.hasSuffix("ID") || name.hasSuffix("Id")
            || name == "leader" || name == "targetID"
    }

    private func writeLine(_ out: inout [UInt8], name: String) {
        switch self {
        case let .int(v): out.append(contentsOf: (EncodedValue.isIdentifier(name) ? "\"\(v)\"" : "\(v)").utf8)
        case let .uint(v): out.append(contentsOf: (EncodedValue.isIdentifier(name) ? "\"\(v)\"" : "\(v)").utf8)
        case let .enumeration(v, n): out.append(contentsOf: "\"\(n ?? String(v))\"".utf8)
        case let .list(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.writeLine(&out, name: name)
            }
            out.append(UInt8(ascii: "]"))
        case let .message(fields, _):
            out.append(UInt8(ascii: "{"))
            for (i, f) in fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                var fieldName = f.name
                var value = f.value
                if case let .bytes(b) = f.value {
                    if let text = String(validating: b, as: UTF8.self) { value = .string(text) } else { fieldName += "_base64" }
                }
                GoJSON.appendString(Array(fieldName.utf8), to: &out, escapeHTML: false)
                out.append(UInt8(ascii: ":"))
                value.writeLine(&out, name: f.name)
            }
            out.append(UInt8(ascii: "}"))
        default:
            writeGo(&out)
        }
    }

    /// The protobuf encoding, as gogo's `Marshal` writes it: fields by number, zero scalars and empty lists
    /// left out, present messages written even when empty, repeated numbers packed.
    ///
    /// `proto2`: as gogo writes a proto2 message whose fields are `nullable=false` (raft's, the WAL's, etcd's
    /// member `Metadata`): every scalar written, zero included; each number of a repeated field its own field
    /// (not packed); bytes written when present, even empty; a field absent from the value (a nil optional) is
    /// left out.
    public func protobuf(proto2: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        guard case let .message(fields, _) = self else { return out }
        for f in fields.sorted(by: { ($0.number ?? 0) < ($1.number ?? 0) }) {
            guard let number = f.number else { continue }
            EncodedValue.writeField(number, f.value, proto2: proto2, &out)
        }
        return out
    }

    private static func varint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func scalarVarint(_ v: EncodedValue) -> UInt64? {
        switch v {
        case let .int(x): return UInt64(bitPattern: x)
        case let .uint(x): return x
        case let .bool(x): return x ? 1 : 0
        case let .enumeration(x, _): return UInt64(bitPattern: Int64(x))
        default: return nil
        }
    }

    /// One field's protobuf encoding (nothing for a zero scalar), for messages written piece by piece.
    public static func protobufField(_ number: Int, _ value: EncodedValue) -> [UInt8] {
        var out: [UInt8] = []
        writeField(number, value, &out)
        return out
    }

    private static func writeField(_ number: Int, _ value: EncodedValue, proto2: Bool = false, _ out: inout [UInt8]) {
        let tag = UInt64(number) << 3
        if let v = scalarVarint(value) {
            if v == 0 && !proto2 { return }
            varint(tag, &out)
            varint(v, &out)
            return
        }
        switch value {
        case let .string(s):
            if s.isEmpty && !proto2 { return }
            varint(tag | 2, &out); varint(UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case let .bytes(b):
            if b.isEmpty && !proto2 { return }
            varint(tag | 2, &out); varint(UInt64(b.count), &out); out.append(contentsOf: b)
        case .message:
            let body = value.protobuf(proto2: proto2)
            varint(tag | 2, &out); varint(UInt64(body.count), &out); out.append(contentsOf: body)
        case let .list(items):
            if items.isEmpty { return }
            if proto2 {
                for item in items { writeField(number, item, proto2: true, &out) }
            } else if scalarVarint(items[0]) != nil {
                var packed: [UInt8] = []
                for item in items { varint(scalarVarint(item) ?? 0, &packed) }
                varint(tag | 2, &out); varint(UInt64(packed.count), &out); out.append(contentsOf: packed)
            } else {
                for item in items {
                    // A repeated string or message: each element is its own field, empty ones included.
                    switch item {
                    case let .string(s): varint(tag | 2, &out); varint(UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
                    case let .bytes(b): varint(tag | 2, &out); varint(UInt64(b.count), &out); out.append(contentsOf: b)
                    default:
                        let body = item.protobuf()
                        varint(tag | 2, &out); varint(UInt64(body.count), &out); out.append(contentsOf: body)
                    }
                }
            }
        default:
            return
        }
    }
}

/// Go's encoding/json rules for strings and floats.
public enum GoJSON {
    /// A JSON string as Go writes it: `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, else
    /// `\u00XX`), with `escapeHTML` also `<`, `>`, `&`, and U+2028/U+2029 always; invalid UTF-8 becomes U+FFFD.
    public static func appendString(_ s: [UInt8], to out: inout [UInt8], escapeHTML: Bool) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(0x22)
        var i = 0
        while i < s.count {
            let b = s[i]
            if b < 0x80 {
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x3C, 0x3E, 0x26 where escapeHTML:
                    out.append(contentsOf: "\\u00".utf8); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
                case 0..<0x20:
                    out.append(contentsOf: "\\u00".utf8); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
                default: out.append(b)
                }
                i += 1
                continue
            }
            guard let (scalar, length) = decodeUTF8(s, at: i) else {
                out.append(contentsOf: "\\ufffd".utf8)
                i += 1
                continue
            }
            if scalar == 0x2028 || scalar == 0x2029 {
                out.append(contentsOf: "\\u202".utf8); out.append(hex[Int(scalar & 0xF)])
            } else {
                out.append(contentsOf: s[i..<i + length])
            }
            i += length
        }
        out.append(0x22)
    }

    /// One UTF-8 sequence at `i` as Go's decoder accepts it (no surrogates, no overlongs), or nil.
    static func decodeUTF8(_ s: [UInt8], at i: Int) -> (UInt32, Int)? {
        let b0 = UInt32(s[i])
        func cont(_ k: Int) -> UInt32? {
            guard i + k < s.count, s[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(s[i + k] & 0x3F)
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return nil }
            return ((b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            guard let c1 = cont(1), let c2 = cont(2) else { return nil }
            let v = (b0 & 0x0F) << 12 | c1 << 6 | c2
            guard v >= 0x800, !(0xD800...0xDFFF).contains(v) else { return nil }
            return (v, 3)
        case 0xF0...0xF4:
            guard let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) else { return nil }
            let v = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard v >= 0x10000, v <= 0x10FFFF else { return nil }
            return (v, 4)
        default:
            return nil
        }
    }

    /// A float64 as Go's encoding/json writes it (shortest form; integers without a fraction).
    public static func float(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e21 { return String(Int64(d)) }
        return "\(d)"
    }
}
