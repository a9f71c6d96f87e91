/// Finds the objects of a JSON array in bytes that arrive a piece at a time, without parsing the whole:
/// tracks nesting and strings, and hands on each top-level object once its closing brace has arrived. The
/// streaming decoders of range and watch replies share it.
struct JSONArrayScanner {
    /// Position in the buffer up to which bytes have been scanned.
    private(set) var position = 0
    /// Start of the object being scanned, or -1 between objects.
    private(set) var objectStart = -1
    /// Whether the closing `]` of the array has been seen (`position` is then just after it).
    private(set) var ended = false
    /// Whether the array holds something other than an object (a number, a string, an array): the arrays
    /// scanned hold only objects, so the reply is malformed. Scanning stops there.
    private(set) var foundNonObject = false
    private var depth = 0
    private var inString = false
    private var escaped = false

    /// Starts scanning at `position` (just after the array's `[`).
    init(at position: Int = 0) { self.position = position }

    /// Scans what is new in `bytes`, calling `object` with each complete top-level object; stops at the
    /// array's end, or when `object` returns false.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ object: (UnsafeBufferPointer<UInt8>) -> Bool) {
        var i = position
        defer { position = i }
        while i < bytes.count, !ended, !foundNonObject {
            let c = bytes[i]
            i += 1
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if depth == 0 && c != UInt8(ascii: "{") && c != UInt8(ascii: "]") && c != UInt8(ascii: ",")
                        && c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
                foundNonObject = true
            } else if c == 0x22 {
                inString = true
            } else if c == UInt8(ascii: "{") {
                if depth == 0 { objectStart = i - 1 }
                depth += 1
            } else if c == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0, objectStart >= 0 {
                    let whole = UnsafeBufferPointer(rebasing: bytes[objectStart..<i])
                    objectStart = -1
                    if !object(whole) { return }
                }
            } else if c == UInt8(ascii: "]") && depth == 0 {
                ended = true
            }
        }
    }

    /// The first byte still needed: the start of the object being scanned, or the scan position.
    var firstNeeded: Int { objectStart >= 0 ? objectStart : position }

    /// Accounts for `count` bytes removed from the front of the buffer.
    mutating func dropFront(_ count: Int) {
        position -= count
        if objectStart >= 0 { objectStart -= count }
    }
}

/// Parses the start of a JSON reply up to `key` (which must be the first key of a nested array, such as
/// `"events":[`), closed with `closing`: the fields protobuf order puts before the array. Returns the parsed
/// prefix and the offset just after `key`, or nil when `key` has not arrived or the prefix is not JSON.
func parsePrefix(_ bytes: [UInt8], before key: [UInt8], closing: String) -> (JSON, Int)? {
    guard let range = bytes.firstRange(of: key) else { return nil }
    var prefix = Array(bytes[..<range.lowerBound])
    while let last = prefix.last, last == UInt8(ascii: ",") || last == 0x20 { prefix.removeLast() }
    prefix += Array(closing.utf8)
    guard let json = try? JSONParser.parse(prefix) else { return nil }
    return (json, range.upperBound)
}
