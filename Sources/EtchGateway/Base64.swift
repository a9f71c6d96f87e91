import CAccel

/// Standard base64 (RFC 4648, with padding), as the gateway encodes `bytes` fields.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// The two characters of each 12-bit value, the first in the low byte (written as one UInt16 on a
    /// little-endian machine, as x86-64 and arm64 Linux are).
    private static let pairs: [UInt16] = (0..<4096).map { x in
        UInt16(littleEndian: UInt16(alphabet[x >> 6]) | UInt16(alphabet[x & 63]) << 8)
    }
    /// Four 256-entry tables: a character's six bits already shifted to its place in a group of four (18, 12, 6,
    /// 0), or bit 24 for a character outside the alphabet, so a group decodes with four loads and three ORs.
    private static let quads: [UInt32] = {
        var t = [UInt32](repeating: 1 << 24, count: 1024)
        for c in 0..<256 where reverse[c] != 0xFF {
            let v = UInt32(reverse[c])
            t[c] = v << 18; t[256 + c] = v << 12; t[512 + c] = v << 6; t[768 + c] = v
        }
        return t
    }()
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
    /// `vector: false` keeps to the portable loop (tests compare the two).
    public static func encode(_ src: UnsafeBufferPointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>,
                              vector: Bool = avx2) -> Int {
        let n = src.count
        guard n > 0, let s = src.baseAddress else { return 0 }
        return alphabet.withUnsafeBufferPointer { abc -> Int in
            var i = 0, o = 0
            // Long runs 24 bytes at a time with AVX2 where the CPU has it (CAccel); the loop below does the rest.
            if n >= 28 && vector {
                i = etch_base64_encode_avx2(s, n, dst)
                o = i / 3 * 4
            }
            // Three bytes are 24 bits: two 12-bit halves, each two characters from the pairs table.
            pairs.withUnsafeBufferPointer { pair in
                let out = UnsafeMutableRawPointer(dst)
                while i + 3 <= n {
                    let v = Int(s[i]) << 16 | Int(s[i + 1]) << 8 | Int(s[i + 2])
                    out.storeBytes(of: pair[v >> 12], toByteOffset: o, as: UInt16.self)
                    out.storeBytes(of: pair[v & 0xFFF], toByteOffset: o + 2, as: UInt16.self)
                    i += 3; o += 4
                }
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
        // Short text (keys and most values: a catch-up decodes 200,000 of them) decodes into a scratch buffer on
        // the stack, then into an array made by copying: the array initializers that let one write in place reach
        // the runtime's generic metadata lookup on every call and cost about twice as many instructions
        // (callgrind: 650 against 300 for a 20-byte array, allocation and release included).
        let capacity = decodedCapacity(src.count)
        if capacity <= 1024 {
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { dst in
                decode(src, into: dst).map { Array(UnsafeBufferPointer(rebasing: dst[..<$0])) }
            }
        }
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, count in
            if let n = decode(src, into: dst) { count = n } else { count = 0; valid = false }
        }
        return valid ? out : nil
    }

    /// Whether `encode` and `decode` may use the AVX2 versions (CAccel).
    public static let avx2 = etch_base64_avx2_available() != 0

    /// Room enough for the decoding of `n` base64 bytes.
    public static func decodedCapacity(_ n: Int) -> Int { (n + 3) / 4 * 3 }

    /// Decodes base64 bytes into `dst` (at least `decodedCapacity(src.count)` long) without allocating; returns
    /// the number of bytes written, nil when `src` is not valid base64. For streams of large blobs (snapshots).
    /// `vector: false` keeps to the portable loop (tests compare the two).
    public static func decode(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<UInt8>,
                              vector: Bool = avx2) -> Int? {
        var n = src.count
        var padding = 0
        while n > 0 && src[n - 1] == UInt8(ascii: "=") && padding < 2 { n -= 1; padding += 1 }
        if n % 4 == 1 || (padding > 0 && (n + padding) % 4 != 0) { return nil }
        precondition(dst.count >= n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1))
        return reverse.withUnsafeBufferPointer { table -> Int? in
            var i = 0, o = 0
            // Runs of 32 and 16 characters at a time with AVX2 where the CPU has it; it stops at anything but the
            // standard alphabet, and the loop below decodes the rest (or says what is wrong).
            if n >= 16 && vector, let s = src.baseAddress, let d = dst.baseAddress {
                i = etch_base64_decode_avx2(s, n, d)
                o = i / 4 * 3
            }
            let whole = quads.withUnsafeBufferPointer { q -> Bool in
                while i + 4 <= n {
                    let v = q[Int(src[i])] | q[256 + Int(src[i + 1])] | q[512 + Int(src[i + 2])] | q[768 + Int(src[i + 3])]
                    if v & (1 << 24) != 0 { return false }
                    dst[o] = UInt8(truncatingIfNeeded: v >> 16)
                    dst[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    dst[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4; o += 3
                }
                return true
            }
            if !whole { return nil }
            if i < n {
                let a = table[Int(src[i])], b = table[Int(src[i + 1])]
                let c = i + 2 < n ? table[Int(src[i + 2])] : 0
                if (a | b | c) & 0xC0 != 0 { return nil }
                dst[o] = a << 2 | b >> 4; o += 1
                if i + 2 < n { dst[o] = b << 4 | c >> 2; o += 1 }
            }
            return o
        }
    }
}
