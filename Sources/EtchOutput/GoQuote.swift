/// Go's `%q` / `strconv.Quote` for a byte string, as etcdctl's fields printer and the watch exec variables
/// use it: printable runes kept, `\a \b \f \n \r \t \v \" \\` escaped, other control runes as `\xNN`,
/// non-printable runes as `\uNNNN` or `\UNNNNNNNN`, and each invalid UTF-8 byte as `\xNN`.
public enum GoQuote {
    private static let hex = Array("0123456789abcdef".utf8)

    public static func quote(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                appendASCII(b, to: &out)
                i += 1
                continue
            }
            guard let (scalar, width) = decodeScalar(bytes, at: i) else {
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                i += 1
                continue
            }
            if isPrint(scalar) {
                out.append(contentsOf: bytes[i..<(i + width)])
            } else if scalar.value < 0x10000 {
                out.append(contentsOf: "\\u".utf8)
                appendHex(scalar.value, digits: 4, to: &out)
            } else {
                out.append(contentsOf: "\\U".utf8)
                appendHex(scalar.value, digits: 8, to: &out)
            }
            i += width
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendASCII(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x07: out.append(contentsOf: [0x5C, UInt8(ascii: "a")])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x0B: out.append(contentsOf: [0x5C, UInt8(ascii: "v")])
        case 0x20..<0x7F: out.append(b)
        default: out.append(contentsOf: [0x5C, UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
        }
    }

    private static func appendHex(_ v: UInt32, digits: Int, to out: inout [UInt8]) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            out.append(hex[Int((v >> UInt32(shift)) & 0xF)])
        }
    }

    /// Decodes one well-formed UTF-8 sequence (no overlongs, no surrogates) as Go's utf8.DecodeRune does.
    public static func decodeScalar(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let c0 = b[i]
        func cont(_ k: Int) -> UInt32? {
            guard i + k < b.count, b[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(b[i + k] & 0x3F)
        }
        switch c0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return nil }
            return Unicode.Scalar(UInt32(c0 & 0x1F) << 6 | c1).map { ($0, 2) }
        case 0xE0...0xEF:
            guard let c1 = cont(1), let c2 = cont(2) else { return nil }
            let v = UInt32(c0 & 0x0F) << 12 | c1 << 6 | c2
            if v < 0x800 { return nil }
            return Unicode.Scalar(v).map { ($0, 3) }  // nil for surrogates
        case 0xF0...0xF4:
            guard let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) else { return nil }
            let v = UInt32(c0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            if v < 0x10000 || v > 0x10FFFF { return nil }
            return Unicode.Scalar(v).map { ($0, 4) }
        default:
            return nil
        }
    }

    /// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and the ASCII space.
    static func isPrint(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x20 && s.value < 0x7F }
        // etcdctl 3.4.23 is built with Go 1.19, whose tables are Unicode 13: a character added later is not
        // printable there, and is escaped.
        guard let age = s.properties.age, age.major < 13 || (age.major == 13 && age.minor == 0) else { return false }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}
