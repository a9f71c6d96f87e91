/// Go's `strconv.Unquote` of a double-quoted string, which is how etcdctl reads `"..."` in its stdin grammars
/// (txn's compares and operations, `watch -i`): `\a \b \f \n \r \t \v \\ \"`, `\xNN` and three-digit octal
/// escapes (one byte each, so any byte can be written), `\uNNNN` and `\UNNNNNNNN` (a code point, as UTF-8).
///
/// Works on the bytes an argument stands for (`RawArgument`), so a byte that is not UTF-8 comes out as the same
/// byte (Go's reader turns it into U+FFFD).
enum GoUnquote {
    /// The bytes `"<body>"` stands for, or nil when Go's Unquote fails with "invalid syntax" (an unknown or
    /// short escape, `\'`, a bare quote or newline inside, a code point that is a surrogate or too large).
    /// `token` includes both quotes.
    static func doubleQuoted(_ token: [UInt8]) -> [UInt8]? {
        guard token.count >= 2, token.first == 0x22, token.last == 0x22 else { return nil }
        let s = Array(token.dropFirst().dropLast())
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == 0x22 || c == 0x0A { return nil }
            if c != 0x5C {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < s.count else { return nil }
            let e = s[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case 0x22: out.append(0x22)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let n = e == UInt8(ascii: "x") ? 2 : e == UInt8(ascii: "u") ? 4 : 8
                guard i + n <= s.count else { return nil }
                var v: UInt32 = 0
                for j in 0..<n {
                    guard let d = hexValue(s[i + j]) else { return nil }
                    v = v << 4 | d
                }
                i += n
                if e == UInt8(ascii: "x") {
                    out.append(UInt8(v))
                } else {
                    guard let scalar = Unicode.Scalar(v) else { return nil }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard i + 2 <= s.count else { return nil }
                var v = UInt32(e - 0x30)
                for j in 0..<2 {
                    let d = s[i + j]
                    guard d >= 0x30 && d <= 0x37 else { return nil }
                    v = v << 3 | UInt32(d - 0x30)
                }
                i += 2
                guard v <= 255 else { return nil }
                out.append(UInt8(v))
            default:
                return nil
            }
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - 0x30)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - 0x61 + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - 0x41 + 10)
        default: return nil
        }
    }

    /// Go's `unicode.IsSpace` (also the space test of `fmt`'s scanner and of `strings.TrimSpace`).
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Go's `strings.TrimSpace`.
    static func trimSpace(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
