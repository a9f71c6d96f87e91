/// Decodes the event and key-value objects of large watch and range replies straight from their bytes, without
/// building a `JSON` tree: a catch-up of 100,000 events is 24 MB of them. It accepts exactly the shape etcd's
/// gateway writes (known members, each at most once; strings without escapes; integers as decimal strings or
/// numbers) and answers nil for anything else, which the caller then decodes with `JSONParser` and the models'
/// `init(json:)`: so any reply decodes to the same value, or fails with the same message, as before.
enum FastDecode {
    /// The event object `bytes` (from `{` to `}`), or nil when it is not in the gateway's plain shape.
    static func event(_ bytes: UnsafeBufferPointer<UInt8>) -> Event? {
        var r = Reader(bytes)
        guard let e = r.event(), r.atEnd() else { return nil }
        return e
    }

    /// The event object that starts at `start` in `bytes`: the event and the offset after it, or nil.
    static func event(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (Event, Int)? {
        var r = Reader(bytes)
        r.i = start
        guard let e = r.event() else { return nil }
        return (e, r.i)
    }

    /// The key-value object that starts at `start` in `bytes`: the key-value and the offset after it, or nil.
    static func keyValue(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (KeyValue, Int)? {
        var r = Reader(bytes)
        r.i = start
        guard let kv = r.keyValue() else { return nil }
        return (kv, r.i)
    }

    /// The key-value object `bytes`, or nil when it is not in the gateway's plain shape.
    static func keyValue(_ bytes: UnsafeBufferPointer<UInt8>) -> KeyValue? {
        var r = Reader(bytes)
        guard let kv = r.keyValue(), r.atEnd() else { return nil }
        return kv
    }

    private struct Reader {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        @inline(__always) mutating func space() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        @inline(__always) mutating func byte(_ c: UInt8) -> Bool {
            space()
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        mutating func atEnd() -> Bool {
            space()
            return i == b.count
        }

        /// A string without escapes or control characters: the range of its contents.
        mutating func string() -> Range<Int>? {
            guard byte(0x22) else { return nil }
            let start = i
            // Eight bytes at a time up to the word holding the closing quote (or a backslash or a control
            // character, which the byte loop below then handles): base64 values are most of a reply's bytes.
            if let base = b.baseAddress {
                while i + 8 <= b.count, !Reader.special(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { i += 8 }
            }
            while i < b.count {
                let c = b[i]
                if c == 0x22 {
                    i += 1
                    return start..<(i - 1)
                }
                if c == 0x5C || c < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        /// Whether any of the eight bytes of `w` is `"`, `\` or below 0x20 (exact as a yes/no answer: a false
        /// flag can only come from a borrow, above a byte that truly matches).
        @inline(__always) static func special(_ w: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let zeroQuote = (quote &- ones) & ~quote
            let zeroBackslash = (backslash &- ones) & ~backslash
            let control = (w &- ones &* 0x20) & ~w
            return (zeroQuote | zeroBackslash | control) & highs != 0
        }

        /// Whether the bytes in `r` are `word`.
        @inline(__always) func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
            guard r.count == word.utf8CodeUnitCount else { return false }
            let w = word.utf8Start
            for k in 0..<r.count where b[r.lowerBound + k] != w[k] { return false }
            return true
        }

        /// An integer as the gateway writes one ("123") or as a JSON number (123): digits only, optionally
        /// with a leading minus, that fit in Int64. Anything else (exponents, "+1", null) is nil.
        mutating func int64() -> Int64? {
            space()
            guard i < b.count else { return nil }
            let quoted = b[i] == 0x22
            if quoted { i += 1 }
            var negative = false
            if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            let start = i
            var v: UInt64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(b[i] - 0x30))
                if o1 || o2 { return nil }
                v = s
                i += 1
            }
            let digits = i - start
            // JSON numbers have no leading zeros; a quoted string is read by Int64(String), which allows them,
            // but keep to one form so that both paths agree trivially.
            guard digits > 0, digits == 1 || b[start] != 0x30 else { return nil }
            if quoted {
                guard i < b.count, b[i] == 0x22 else { return nil }
                i += 1
            } else if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                return nil
            }
            if negative {
                guard v <= UInt64(Int64.max) + 1 else { return nil }
                return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
            }
            guard v <= UInt64(Int64.max) else { return nil }
            return Int64(v)
        }

        /// Base64 text decoded as `Fields.bytes` decodes it.
        mutating func bytes() -> [UInt8]? {
            guard let r = string() else { return nil }
            if r.isEmpty { return [] }
            return Base64.decode(UnsafeBufferPointer(rebasing: b[r]))
        }

        /// Loops over an object's members: `member` reads the value of the member it is given the name of and
        /// returns that name's bit, or nil to fail. A name met twice fails too: JSON lookups take the first, so
        /// such an object is left to the general path.
        mutating func object(_ member: (inout Reader, Range<Int>) -> UInt8?) -> Bool {
            guard byte(UInt8(ascii: "{")) else { return false }
            if byte(UInt8(ascii: "}")) { return true }
            var seen: UInt8 = 0
            while true {
                guard let name = string(), byte(UInt8(ascii: ":")), let bit = member(&self, name), seen & bit == 0 else { return false }
                seen |= bit
                if byte(UInt8(ascii: ",")) { continue }
                return byte(UInt8(ascii: "}"))
            }
        }

        /// Stores a member's value read by the caller and answers its bit, or nil when it could not be read.
        @inline(__always) func set<T>(_ value: T?, _ target: inout T, _ bit: UInt8) -> UInt8? {
            guard let value else { return nil }
            target = value
            return bit
        }

        /// A revision as `Fields.revision` accepts it: from 0 to below Int64.max.
        mutating func revision() -> Int64? { int64().flatMap { $0 >= 0 && $0 < Int64.max ? $0 : nil } }

        mutating func keyValue() -> KeyValue? {
            var kv = KeyValue()
            let ok = object { r, name in
                if r.equals(name, "key") { return r.set(r.bytes(), &kv.key, 1) }
                if r.equals(name, "value") { return r.set(r.bytes(), &kv.value, 2) }
                if r.equals(name, "create_revision") { return r.set(r.revision(), &kv.createRevision, 4) }
                if r.equals(name, "mod_revision") { return r.set(r.revision(), &kv.modRevision, 8) }
                if r.equals(name, "version") { return r.set(r.int64().flatMap { $0 >= 0 ? $0 : nil }, &kv.version, 16) }
                if r.equals(name, "lease") { return r.set(r.int64(), &kv.lease, 32) }
                return nil
            }
            return ok ? kv : nil
        }

        mutating func event() -> Event? {
            var e = Event()
            let ok = object { r, name in
                if r.equals(name, "kv") { return r.set(r.keyValue(), &e.kv, 1) }
                if r.equals(name, "type") {
                    guard let t = r.string() else { return nil }
                    if r.equals(t, "DELETE") { e.type = .delete } else if r.equals(t, "PUT") { e.type = .put } else { return nil }
                    return 2
                }
                if r.equals(name, "prev_kv") { return r.set(r.keyValue().map { Optional($0) }, &e.prevKV, 4) }
                return nil
            }
            return ok ? e : nil
        }
    }
}

extension Event {
    /// Decodes one event object of a watch reply, through `FastDecode` when it can.
    static func decode(_ object: UnsafeBufferPointer<UInt8>) throws -> Event {
        if let e = FastDecode.event(object) { return e }
        return try Event(json: JSONParser.parse(object))
    }
}

extension KeyValue {
    /// Decodes one key-value object of a range reply, through `FastDecode` when it can.
    static func decode(_ object: UnsafeBufferPointer<UInt8>) throws -> KeyValue {
        if let kv = FastDecode.keyValue(object) { return kv }
        return try KeyValue(json: JSONParser.parse(object))
    }
}
