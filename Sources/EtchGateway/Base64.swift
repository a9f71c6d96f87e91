/// Standard base64 (RFC 4648, with padding), as the gateway encodes `bytes` fields.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        // The URL-safe alphabet is accepted too: some proxies re-encode.
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// The length of the encoding of `n` bytes, padding included.
    @inline(__always) public static func encodedCount(_ n: Int) -> Int { (n + 2) / 3 * 4 }

    /// Encodes bytes, appending to `out`. The buffer grows geometrically (no exact-size reserve per call,
    /// which would copy a large output buffer again for every short value).
    public static func encode(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        let n = bytes.count
        guard n > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: encodedCount(n)))
        let done: Void? = bytes.withContiguousStorageIfAvailable { src in
            out.withUnsafeMutableBufferPointer { dst in _ = encode(src, to: dst.baseAddress! + start) }
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in _ = encode(src, to: dst.baseAddress! + start) }
            }
        }
    }

    /// Writes the encoding of `src`, padding included, at `dst` (room for `encodedCount(src.count)` bytes);
    /// returns how many bytes it wrote.
    public static func encode(_ src: UnsafeBufferPointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = src.count
        guard n > 0, let s = src.baseAddress else { return 0 }
        return alphabet.withUnsafeBufferPointer { abc -> Int in
            var i = 0, o = 0
            while i + 3 <= n {
                let a = s[i], b = s[i + 1], c = s[i + 2]
                dst[o] = abc[Int(a >> 2)]
                dst[o + 1] = abc[Int((a & 0x03) << 4 | b >> 4)]
                dst[o + 2] = abc[Int((b & 0x0F) << 2 | c >> 6)]
                dst[o + 3] = abc[Int(c & 0x3F)]
                i += 3; o += 4
            }
            if i < n {
                let a = s[i], b: UInt8 = i + 1 < n ? s[i + 1] : 0
                dst[o] = abc[Int(a >> 2)]
                dst[o + 1] = abc[Int((a & 0x03) << 4 | b >> 4)]
                dst[o + 2] = i + 1 < n ? abc[Int((b & 0x0F) << 2)] : UInt8(ascii: "=")
                dst[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    /// Encodes bytes as a String.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64 text; nil when it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// Decodes base64 bytes; nil when they are not valid base64. Padding is optional (some encoders omit it),
    /// but what padding there is must be in the right place.
    public static func decode(_ src: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var n = src.count
        var padding = 0
        while n > 0 && src[n - 1] == UInt8(ascii: "=") && padding < 2 { n -= 1; padding += 1 }
        if n % 4 == 1 || (padding > 0 && (n + padding) % 4 != 0) { return nil }
        let capacity = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1)
        return reverse.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, count in
                var i = 0, o = 0
                while i + 4 <= n {
                    let a = table[Int(src[i])], b = table[Int(src[i + 1])]
                    let c = table[Int(src[i + 2])], d = table[Int(src[i + 3])]
                    if (a | b | c | d) & 0xC0 != 0 { valid = false; break }
                    dst[o] = a << 2 | b >> 4
                    dst[o + 1] = b << 4 | c >> 2
                    dst[o + 2] = c << 6 | d
                    i += 4; o += 3
                }
                if valid && i < n {
                    let a = table[Int(src[i])], b = table[Int(src[i + 1])]
                    let c = i + 2 < n ? table[Int(src[i + 2])] : 0
                    if (a | b | c) & 0xC0 != 0 { valid = false } else {
                        dst[o] = a << 2 | b >> 4; o += 1
                        if i + 2 < n { dst[o] = b << 4 | c >> 2; o += 1 }
                    }
                }
                count = valid ? o : 0
            }
            return valid ? out : nil
        }
    }
}
