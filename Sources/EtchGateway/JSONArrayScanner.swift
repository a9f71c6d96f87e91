import Glibc

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
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var i = position
        defer { position = i }
        while i < n, !ended, !foundNonObject {
            if inString {
                if escaped {
                    escaped = false
                    i += 1
                    continue
                }
                // The rest of a string (base64 keys and values: most of the bytes) goes by memchr: find its
                // closing quote, then any backslash before it.
                guard let q = memchr(base + i, 0x22, n - i) else {
                    // No quote yet: all of it is string, ending perhaps in a backslash whose escape is to come.
                    if let bs = memchr(base + i, 0x5C, n - i) {
                        i = base.distance(to: bs.assumingMemoryBound(to: UInt8.self)) + 1
                        escaped = true
                        continue
                    }
                    i = n
                    break
                }
                let quote = base.distance(to: q.assumingMemoryBound(to: UInt8.self))
                if let bs = memchr(base + i, 0x5C, quote - i) {
                    i = base.distance(to: bs.assumingMemoryBound(to: UInt8.self)) + 1
                    escaped = true
                    continue
                }
                i = quote + 1
                inString = false
                continue
            }
            let c = base[i]
            i += 1
            if c == 0x22 {
                if depth == 0 { foundNonObject = true } else { inString = true }
            } else if c == UInt8(ascii: "{") {
                if depth == 0 { objectStart = i - 1 }
                depth += 1
            } else if c == UInt8(ascii: "}") {
                if depth == 0 { foundNonObject = true; continue }
                depth -= 1
                if depth == 0, objectStart >= 0 {
                    let whole = UnsafeBufferPointer(rebasing: bytes[objectStart..<i])
                    objectStart = -1
                    if !object(whole) { return }
                }
            } else if depth == 0 {
                if c == UInt8(ascii: "]") {
                    ended = true
                } else if c != UInt8(ascii: ",") && c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
                    foundNonObject = true
                }
            }
        }
    }

    /// Like `scan`, but offers each object first to `fast`, which decodes it straight from the buffer, without
    /// the scan: given the offset of its `{`, it returns the offset just after its `}`, or nil when it cannot
    /// (an object not complete yet, or not of the shape it knows), and the scan then finds the object's bytes for
    /// `object` as usual.
    @inline(__always)
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, fast: (UnsafeBufferPointer<UInt8>, Int) -> Int?,
                       _ object: (UnsafeBufferPointer<UInt8>) -> Bool) {
        while true {
            if objectStart < 0, depth == 0, !inString, !ended, !foundNonObject {
                var i = position
                while i < bytes.count, bytes[i] == UInt8(ascii: ",") || bytes[i] == 0x20 || bytes[i] == 0x0A
                        || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
                if i < bytes.count, bytes[i] == UInt8(ascii: "{"), let end = fast(bytes, i) {
                    position = end
                    continue
                }
            }
            var found = false, stop = false
            scan(bytes) { o in
                found = true
                if !object(o) { stop = true }
                return false
            }
            if !found || stop { return }
        }
    }

    /// Decodes the objects completed in `bytes`: each with `fast` straight from the buffer (given the offset of
    /// its `{`, the value and the offset after its `}`, or nil) and otherwise with `slow` from the bytes the scan
    /// found. Returns the values and the first failure of `slow`; `stopAtFailure` ends the scan there.
    @inline(__always)
    mutating func decode<T>(_ bytes: UnsafeBufferPointer<UInt8>, stopAtFailure: Bool,
                            fast: (UnsafeBufferPointer<UInt8>, Int) -> (T, Int)?,
                            slow: (UnsafeBufferPointer<UInt8>) throws -> T) -> ([T], Error?) {
        var items: [T] = []
        var failure: Error?
        scan(bytes, fast: { b, start in
            guard let (item, end) = fast(b, start) else { return nil }
            items.append(item)
            return end
        }) { object in
            do { items.append(try slow(object)) } catch {
                if failure == nil { failure = error }
                return !stopAtFailure
            }
            return true
        }
        return (items, failure)
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
