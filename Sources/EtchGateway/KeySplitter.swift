/// Picks page boundaries inside a key range without reading it: keys are read as numbers (their first bytes
/// after the prefix the range's ends share), a boundary is guessed by interpolation, and `count_only`
/// requests, which cost the server far less than reading the keys, say how many keys fall below it.
///
/// A boundary only has to be roughly right: a page of half or twice the wanted size is as correct as any other,
/// since pages are consecutive key ranges at one revision.
public struct KeySplitter {
    /// Where the range starts (inclusive) and ends (exclusive; `[0]` for "no end").
    public let start: [UInt8]
    public let end: [UInt8]
    private let prefixLength: Int
    /// The byte values keys use after the prefix, in order (learnt from keys already seen: a range of
    /// `job/000123` keys uses ten), so that positions spread the keys evenly instead of leaving most of the
    /// number line empty. Digit 0 stands for "the key ends here", digit d for `alphabet[d - 1]`.
    private let alphabet: [UInt8]
    private let rank: [Double]
    private let base: Double
    private let width: Int
    /// Positions per key in the sample (keys written in sequence are evenly spaced once their bytes are read
    /// as digits of the alphabet they use): the first guess at a boundary.
    private var spacing: Double?

    /// `sample`: keys of the range already seen (any number; the bytes of start and end are added).
    public init(start: [UInt8], end: [UInt8], sample: [[UInt8]] = []) {
        self.start = start
        self.end = end
        var n = 0
        if end != [0] {
            while n < start.count && n < end.count && start[n] == end[n] { n += 1 }
        }
        prefixLength = n
        var seen = [Bool](repeating: false, count: 256)
        for key in sample + [start] + (end == [0] ? [] : [end]) where key.count > n {
            for b in key[n...] { seen[Int(b)] = true }
        }
        if sample.isEmpty { seen = [Bool](repeating: true, count: 256) }
        alphabet = (0..<256).filter { seen[$0] }.map { UInt8($0) }
        // rank[b]: the digit of byte b; a byte outside the alphabet sits halfway between its neighbours.
        var r = [Double](repeating: 0, count: 256)
        var below = 0
        for b in 0..<256 {
            if seen[b] { below += 1; r[b] = Double(below) } else { r[b] = Double(below) + 0.5 }
        }
        rank = r
        base = Double(alphabet.count + 1)
        var w = 0, capacity: Double = 1
        while w < 16 && capacity * base < 9.0e15 { capacity *= base; w += 1 }
        width = max(1, w)
        if sample.count >= 2, let first = sample.first, let last = sample.last {
            let span = position(last) - position(first)
            if span > 0 { spacing = span / Double(sample.count - 1) }
        }
    }

    /// The key's position on the range's number line: its digits after the shared prefix.
    public func position(_ key: [UInt8]) -> Double {
        var v: Double = 0
        for i in 0..<width {
            let j = prefixLength + i
            v = v * base + (j < key.count ? rank[Int(key[j])] : 0)
        }
        return v
    }

    /// The position of the range's end (for no end: the top of the number line).
    public var endPosition: Double {
        if end == [0] {
            var top: Double = 1
            for _ in 0..<width { top *= base }
            return top
        }
        return position(end)
    }

    /// The key at `position` (rounded down), under the shared prefix.
    public func key(at position: Double) -> [UInt8] {
        var digits = [Int](repeating: 0, count: width)
        var v = max(0, position.rounded(.down))
        for i in stride(from: width - 1, through: 0, by: -1) {
            let d = v.truncatingRemainder(dividingBy: base)
            digits[i] = Int(d)
            v = (v - d) / base
        }
        var key = Array(start.prefix(prefixLength))
        for d in digits {
            if d == 0 { break }  // the key ends here
            key.append(alphabet[min(d, alphabet.count) - 1])
        }
        return key
    }

    /// Whether `key` lies strictly inside the range (after start, before end): a usable boundary.
    public func isInside(_ key: [UInt8]) -> Bool {
        start.lexicographicallyPrecedes(key) && (end == [0] || key.lexicographicallyPrecedes(end))
    }

    /// Finds a boundary with about `want` keys between `start` and it, given `total` keys in the whole range.
    /// `count(key)` answers how many keys lie in [start, key); `guess` is a first position to try (from the
    /// previous page's density). At most `probes` counts; nil when no boundary within half to twice `want`
    /// turned up (the caller then reads by limit).
    public func split(want: Int64, total: Int64, guess: Double?, probes: Int = 6,
                      count: ([UInt8]) throws -> Int64) rethrows -> (key: [UInt8], keys: Int64)? {
        var lo = (pos: position(start), keys: Int64(0))
        var hi = (pos: endPosition, keys: total)
        var next = guess ?? spacing.map { lo.pos + $0 * Double(want) }
        for probe in 0..<probes {
            // Interpolate between the closest known points, and every other probe halve instead: keys crowd
            // into a small part of the number line (`bulk/004999` uses 10 of 256 byte values), where
            // interpolation alone creeps.
            let interpolated = lo.pos + (hi.pos - lo.pos) * Double(want - lo.keys) / Double(max(1, hi.keys - lo.keys))
            var p = next ?? (probe % 2 == 0 ? interpolated : (lo.pos + hi.pos) / 2)
            next = nil
            if !(p > lo.pos && p < hi.pos) { p = (lo.pos + hi.pos) / 2 }
            let candidate = key(at: p)
            guard isInside(candidate), p > lo.pos, p < hi.pos else { return nil }
            let c = try count(candidate)
            if c * 2 >= want && c <= want * 2 { return (candidate, c) }
            if c < want { lo = (p, c) } else { hi = (p, c) }
        }
        return nil
    }

}
