/// Go's time.ParseDuration, to the nanosecond: `300ms`, `1.5h`, `2h45m`, `-1s`, `0`.
public enum GoDuration {
    /// Returns nanoseconds, or nil when the text is not a Go duration.
    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text)
        var negative = false
        if let f = s.first, f == "-" || f == "+" {
            negative = f == "-"
            s = s.dropFirst()
        }
        if s == "0" { return 0 }
        if s.isEmpty { return nil }
        var total: Double = 0
        while !s.isEmpty {
            var number = ""
            while let c = s.first, c.isASCII, c.isNumber || c == "." {
                number.append(c)
                s = s.dropFirst()
            }
            if number.isEmpty || number == "." { return nil }
            var unit = ""
            while let c = s.first, !(c.isASCII && (c.isNumber || c == ".")) {
                unit.append(c)
                s = s.dropFirst()
            }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            guard let v = Double(number) else { return nil }
            total += v * scale
        }
        // Double(Int64.max) is 2^63, one past the largest Int64: equal is out of range too.
        if !(total < Double(Int64.max)) { return nil }
        return negative ? -Int64(total) : Int64(total)
    }

    /// Milliseconds for a duration in nanoseconds, rounding up so a tiny positive timeout stays positive.
    public static func milliseconds(_ ns: Int64) -> Int {
        ns <= 0 ? 0 : Int(ns / 1_000_000 + (ns % 1_000_000 == 0 ? 0 : 1))
    }
}
