import EtchGateway

/// etch's `jsonl` format (`-w jsonl`), made for jq: one self-contained JSON object per line, one per key-value
/// (get, wait), per event (watch) and per result (put, del).
///
/// Unlike etcdctl's `json`, keys and values are plain strings when they are valid UTF-8 (`key`, `value`);
/// otherwise they come base64-encoded as `key_base64` / `value_base64`, so no byte is lost. Revisions, versions
/// and counts are numbers; cluster and member IDs are decimal strings and lease IDs hexadecimal strings (as
/// `put --lease` takes them), because jq reads numbers as doubles and would round 64-bit IDs. Event types are
/// `"PUT"` and `"DELETE"`, progress notifications `"PROGRESS"`.
public struct JSONLinesPrinter: Printer {
    /// Set for `get --keys-only`: the server sends no values, so none is printed (rather than a false `""`).
    public var keysOnly: Bool

    public init(keysOnly: Bool = false) {
        self.keysOnly = keysOnly
    }

    public func getBegin(_ header: ResponseHeader, to out: OutputBuffer) {}

    public func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer) {
        for item in kvs {
            Self.kv(item, withValue: !keysOnly, out)
            out.append(0x0A)
            out.flushIfLarge()
        }
    }

    public func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer) {}

    /// `{"revision":N,"cluster_id":"…","member_id":"…","raft_term":N[,"prev_kv":{…}]}`
    public func put(_ r: PutResponse, to out: OutputBuffer) {
        out.append("{\"revision\":")
        out.appendInt(r.header.revision)
        Self.ids(r.header, out)
        if let prev = r.prevKV {
            out.append(",\"prev_kv\":")
            Self.kv(prev, withValue: true, out)
        }
        out.append("}\n")
    }

    /// `{"deleted":N,"revision":N,"cluster_id":"…","member_id":"…","raft_term":N[,"prev_kvs":[…]]}`
    public func delete(_ r: DeleteRangeResponse, to out: OutputBuffer) {
        out.append("{\"deleted\":")
        out.appendInt(r.deleted)
        out.append(",\"revision\":")
        out.appendInt(r.header.revision)
        Self.ids(r.header, out)
        if !r.prevKVs.isEmpty {
            out.append(",\"prev_kvs\":[")
            for (i, prev) in r.prevKVs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.kv(prev, withValue: true, out)
                out.flushIfLarge()
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append("}\n")
    }

    /// One line per event: `{"type":"PUT","key":…,"value":…,"create_revision":N,"mod_revision":N,"version":N}`;
    /// a DELETE carries only the key and its `mod_revision` (the revision of the delete). `prev_kv` follows
    /// with `--prev-kv`. Parts of a huge message print the same lines as the whole would.
    public func watch(_ r: WatchResponse, to out: OutputBuffer) {
        for ev in r.events {
            if ev.type == .put {
                out.append("{\"type\":\"PUT\",")
                Self.kvFields(ev.kv, withValue: true, out)
            } else {
                out.append("{\"type\":\"DELETE\",")
                Self.bytesField("key", ev.kv.key, out)
                out.append(",\"mod_revision\":")
                out.appendInt(ev.kv.modRevision)
            }
            if let prev = ev.prevKV {
                out.append(",\"prev_kv\":")
                Self.kv(prev, withValue: true, out)
            }
            out.append("}\n")
            out.flushIfLarge()
        }
    }

    /// `{"type":"PROGRESS","revision":N}`, so a consumer can track how far the watch has seen.
    public func progressNotify(revision: Int64, to out: OutputBuffer) {
        out.append("{\"type\":\"PROGRESS\",\"revision\":")
        out.appendInt(revision)
        out.append("}\n")
    }

    static func ids(_ h: ResponseHeader, _ out: OutputBuffer) {
        out.append(",\"cluster_id\":\"")
        out.appendUInt(h.clusterID)
        out.append("\",\"member_id\":\"")
        out.appendUInt(h.memberID)
        out.append("\",\"raft_term\":")
        out.appendUInt(h.raftTerm)
    }

    static func kv(_ kv: KeyValue, withValue: Bool, _ out: OutputBuffer) {
        out.append(UInt8(ascii: "{"))
        kvFields(kv, withValue: withValue, out)
        out.append(UInt8(ascii: "}"))
    }

    /// The members of a key-value object without its braces; `lease` only when the key has one.
    static func kvFields(_ kv: KeyValue, withValue: Bool, _ out: OutputBuffer) {
        bytesField("key", kv.key, out)
        if withValue {
            out.append(UInt8(ascii: ","))
            bytesField("value", kv.value, out)
        }
        out.append(",\"create_revision\":")
        out.appendInt(kv.createRevision)
        out.append(",\"mod_revision\":")
        out.appendInt(kv.modRevision)
        out.append(",\"version\":")
        out.appendInt(kv.version)
        if kv.lease != 0 {
            out.append(",\"lease\":\"")
            out.append(String(UInt64(bitPattern: kv.lease), radix: 16))
            out.append(UInt8(ascii: "\""))
        }
    }

    /// `"name":"text"` when `bytes` are valid UTF-8, else `"name_base64":"…"`.
    static func bytesField(_ name: StaticString, _ bytes: [UInt8], _ out: OutputBuffer) {
        let label = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        out.append(UInt8(ascii: "\""))
        out.append(label)
        if isPlainASCII(bytes) {
            // Most keys and values: printable ASCII with nothing to escape, copied whole.
            out.write(upTo: bytes.count + 3) { p in
                p[0] = UInt8(ascii: "\"")
                p[1] = UInt8(ascii: ":")
                p[2] = UInt8(ascii: "\"")
                bytes.withUnsafeBufferPointer { b in if let src = b.baseAddress { (p + 3).update(from: src, count: b.count) } }
                return bytes.count + 3
            }
            out.append(UInt8(ascii: "\""))
        } else if isValidUTF8(bytes) {
            out.append("\":")
            out.appendDirectly { appendJSONString(bytes, to: &$0) }
        } else {
            out.append("_base64\":\"")
            out.write(upTo: Base64.encodedCount(bytes.count)) { p in bytes.withUnsafeBufferPointer { Base64.encode($0, to: p) } }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Whether `bytes` are all ASCII from space on, without `"` or `\`: a JSON string as they are.
    static func isPlainASCII(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            // Eight bytes at a time (a catch-up prints 100,000 keys and values), then byte by byte.
            if let base = b.baseAddress {
                while i + 8 <= b.count {
                    if plainFlags(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) != 0 { return false }
                    i += 8
                }
            }
            while i < b.count {
                let c = b[i]
                if c < 0x20 || c >= 0x80 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
                i += 1
            }
            return true
        }
    }

    /// Nonzero when any of the eight bytes of `w` is below 0x20, from 0x80 on, `"` or `\`. Exact as a yes/no
    /// answer: a borrow can only set a flag above a byte that truly matches.
    @inline(__always) static func plainFlags(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (w &- ones &* 0x20) & ~w
        return (zeroQuote | zeroBackslash | control | w) & highs
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string of UTF-8 bytes: `"` and `\` escaped, control characters as `\n`, `\t`, ... or `\u00XX`.
    static func appendJSONString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF): what
    /// a JSON string may carry.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            guard let (_, width) = GoQuote.decodeScalar(bytes, at: i) else { return false }
            i += width
        }
        return true
    }
}
