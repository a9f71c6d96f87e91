import Glibc

/// Command-line arguments and environment values as etch receives them: bytes, not necessarily UTF-8.
///
/// etcdctl takes keys and values from argv byte for byte, so `put $'\xff' v` writes the key 0xFF. Swift's
/// `CommandLine.arguments` repairs invalid UTF-8 to U+FFFD, which would write EF BF BD instead. Arguments are
/// therefore decoded here so that every byte survives the trip through `String`: valid UTF-8 stays as it is,
/// and each byte of an invalid sequence becomes one scalar of a private-use range (U+10FE80...U+10FEFF,
/// like Python's surrogateescape). A valid sequence that itself encodes a scalar of that range is escaped byte
/// by byte as well, so `bytes(decode(b)) == b` for every byte string.
public enum RawArgument {
    /// The scalar that stands for byte `b` (0x80...0xFF) of an invalid sequence is `escapeBase + b`.
    static let escapeBase: UInt32 = 0x10FE00
    static let escapeRange: ClosedRange<UInt32> = (escapeBase + 0x80)...(escapeBase + 0xFF)

    /// The argument text for raw bytes.
    public static func decode(_ bytes: some Collection<UInt8>) -> String {
        let raw = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var i = 0
        func escape(_ range: Range<Int>) {
            for b in raw[range] { scalars.append(Unicode.Scalar(escapeBase + UInt32(b))!) }
        }
        while i < raw.count {
            var parser = Unicode.UTF8.ForwardParser()
            var input = raw[i...].makeIterator()
            switch parser.parseScalar(from: &input) {
            case let .valid(encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if escapeRange.contains(scalar.value) { escape(i..<i + encoded.count) } else { scalars.append(scalar) }
                i += encoded.count
            case let .error(length):
                escape(i..<i + length)
                i += length
            case .emptyInput:
                i = raw.count
            }
        }
        return String(scalars)
    }

    /// The bytes an argument stands for: the inverse of `decode`.
    public static func bytes(_ text: String) -> [UInt8] {
        // Escapes are 4-byte sequences starting with 0xF4; without one the text is its own UTF-8.
        if !text.utf8.contains(0xF4) { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = escapedByte(scalar) { out.append(byte) } else { out.append(contentsOf: UTF8.encode(scalar)!) }
        }
        return out
    }

    /// The byte `scalar` stands for when it is an escape, else nil.
    static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        escapeRange.contains(scalar.value) ? UInt8(scalar.value - escapeBase) : nil
    }

    /// The process's arguments after the program name, every byte kept.
    static func commandLine() -> [String] {
        // argc is 0 when a parent passes an empty argv.
        CommandLine.argc < 2 ? [] : (1..<Int(CommandLine.argc)).map { decode(cString: CommandLine.unsafeArgv[$0]!) }
    }

    /// The argument text of a C string's bytes.
    static func decode(cString p: UnsafePointer<CChar>) -> String {
        decode(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
    }
}
