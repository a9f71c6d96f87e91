import Glibc

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

        /// An integer as the gateway writes one ("123") or as a JSON number (123): digits only, optionally
        /// with a leading minus, that fit in Int64. Anything else (exponents, "+1", null) is nil.
        mutating func int64() -> Int64? {
            space()
            // In locals (the reader is inout: its fields would be stored back after every step).
            guard let p = b.baseAddress else { return nil }
            let n = b.count
            var j = i
            guard j < n else { return nil }
            let quoted = p[j] == 0x22
            if quoted { j += 1 }
            var negative = false
            if j < n, p[j] == UInt8(ascii: "-") { negative = true; j += 1 }
            let start = j
            var v: UInt64 = 0
            // Eighteen digits cannot overflow; more are checked one by one.
            let unchecked = min(n, start + 18)
            while j < unchecked {
                let d = p[j] &- 0x30
                if d > 9 { break }
                v = v &* 10 &+ UInt64(d)
                j += 1
            }
            while j < n, p[j] >= 0x30, p[j] <= 0x39 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(p[j] - 0x30))
                if o1 || o2 { return nil }
                v = s
                j += 1
            }
            let digits = j - start
            // JSON numbers have no leading zeros; a quoted string is read by Int64(String), which allows them,
            // but keep to one form so that both paths agree trivially.
            guard digits > 0, digits == 1 || p[start] != 0x30 else { return nil }
            if quoted {
                guard j < n, p[j] == 0x22 else { return nil }
                j += 1
            } else if j < n, p[j] == UInt8(ascii: ".") || p[j] == UInt8(ascii: "e") || p[j] == UInt8(ascii: "E") {
                return nil
            }
            i = j
            if negative {
                guard v <= UInt64(Int64.max) + 1 else { return nil }
                return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
            }
            guard v <= UInt64(Int64.max) else { return nil }
            return Int64(v)
        }

        /// Base64 text decoded as `Fields.bytes` decodes it. The closing quote is found by memchr, without a
        /// scan for escapes: the base64 decoder refuses a backslash or a control character anyway, so a string
        /// with either (or with an escaped quote, which memchr takes for its end) fails here and is left to the
        /// general path.
        mutating func bytes() -> [UInt8]? {
            guard byte(0x22), let base = b.baseAddress, i < b.count,
                  let q = memchr(base + i, 0x22, b.count - i) else { return nil }
            let start = i
            i = base.distance(to: q.assumingMemoryBound(to: UInt8.self)) + 1
            if i - 1 == start { return [] }
            return Base64.decode(UnsafeBufferPointer(rebasing: b[start..<(i - 1)]))
        }

        /// Loops over an object's members: `member` is called just after the opening quote of each member's
        /// name; it takes a known name with `name(_:)`, reads its value and returns the name's bit, or nil to
        /// fail (an unknown name too). A name met twice fails: JSON lookups take the first, so such an object is
        /// left to the general path.
        mutating func object(_ member: (inout Reader) -> UInt8?) -> Bool {
            guard byte(UInt8(ascii: "{")) else { return false }
            if byte(UInt8(ascii: "}")) { return true }
            var seen: UInt8 = 0
            while true {
                guard byte(0x22), let bit = member(&self), seen & bit == 0 else { return false }
                seen |= bit
                if byte(UInt8(ascii: ",")) { continue }
                return byte(UInt8(ascii: "}"))
            }
        }

        /// Whether the member name being read is `word`, followed by its colon: then the reader moves past both.
        /// `word` ends with the closing quote (`key"`), so a longer name that starts alike (`keys"`) does not
        /// match. A name with escapes never matches, which sends the object to the general path, as an unknown
        /// name does.
        @inline(__always) mutating func name(_ word: StaticString) -> Bool {
            let at = i
            if literal(word) && byte(UInt8(ascii: ":")) { return true }
            i = at
            return false
        }

        /// Whether the bytes at the reader are `word`: then the reader moves past them.
        @inline(__always) mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count, let base = b.baseAddress else { return false }
            // Inline, eight bytes at a time (memcmp's call costs more than these short names).
            let here = UnsafeRawPointer(base + i), there = UnsafeRawPointer(word.utf8Start)
            var k = 0
            while k + 8 <= n {
                if here.loadUnaligned(fromByteOffset: k, as: UInt64.self) != there.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                k += 8
            }
            while k < n {
                if here.load(fromByteOffset: k, as: UInt8.self) != there.load(fromByteOffset: k, as: UInt8.self) { return false }
                k += 1
            }
            i += n
            return true
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
            // The gateway's order first.
            let ok = object { r in
                if r.name("key\"") { return r.set(r.bytes(), &kv.key, 1) }
                if r.name("create_revision\"") { return r.set(r.revision(), &kv.createRevision, 4) }
                if r.name("mod_revision\"") { return r.set(r.revision(), &kv.modRevision, 8) }
                if r.name("version\"") { return r.set(r.int64().flatMap { $0 >= 0 ? $0 : nil }, &kv.version, 16) }
                if r.name("value\"") { return r.set(r.bytes(), &kv.value, 2) }
                if r.name("lease\"") { return r.set(r.int64(), &kv.lease, 32) }
                return nil
            }
            return ok ? kv : nil
        }

        mutating func event() -> Event? {
            var e = Event()
            let ok = object { r in
                if r.name("kv\"") { return r.set(r.keyValue(), &e.kv, 1) }
                if r.name("type\"") {
                    guard r.byte(0x22) else { return nil }
                    if r.literal("DELETE\"") { e.type = .delete } else if r.literal("PUT\"") { e.type = .put } else { return nil }
                    return 2
                }
                if r.name("prev_kv\"") { return r.set(r.keyValue().map { Optional($0) }, &e.prevKV, 4) }
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
