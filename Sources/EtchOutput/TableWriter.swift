import Glibc

/// etcdctl's tables (`-w table`): olekukonko/tablewriter as etcdctl configures it, byte for byte. Borders of
/// `+`, `-` and `|`; headers upper-cased (`_` as a space) and centred; cells right-aligned with one space of
/// padding; a cell wider than 30 columns wraps at spaces onto more lines (a longer word widens the column).
public struct Table: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    static let maxCellWidth = 30

    public func render() -> String {
        var widths = [Int](repeating: 0, count: header.count)
        func measure(_ cell: String, _ column: Int) -> [String] {
            let lines = Table.wrapCell(cell)
            // tablewriter keeps the width it wrapped at (the cell's, at most 30) even when the wrapped lines
            // come out narrower, and widens it for a longer word.
            let wrappedAt = min(cell.split(separator: "\n", omittingEmptySubsequences: false).map { Table.width(String($0)) }.max() ?? 0,
                                Table.maxCellWidth)
            let w = max(wrappedAt, lines.map(Table.width).max() ?? 0)
            if column >= widths.count { widths.append(contentsOf: [Int](repeating: 0, count: column - widths.count + 1)) }
            widths[column] = max(widths[column], w)
            return lines
        }
        let headerLines = header.enumerated().map { measure($0.element, $0.offset) }
        let rowLines = rows.map { row in row.enumerated().map { measure($0.element, $0.offset) } }

        var out = ""
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined() + "\n"
        out += rule
        let headerHeight = headerLines.map(\.count).max() ?? 0
        for x in 0..<headerHeight {
            out += "|"
            for (y, w) in widths.enumerated() {
                let h = y < headerLines.count && x < headerLines[y].count ? Table.title(headerLines[y][x]) : ""
                out += " " + Table.center(h, w) + " |"
            }
            out += "\n"
        }
        out += rule
        for cells in rowLines {
            let height = cells.map(\.count).max() ?? 0
            for x in 0..<height {
                for (y, lines) in cells.enumerated() {
                    let s = x < lines.count ? lines[x] : "  "
                    out += "| " + Table.padLeft(s, widths[y]) + " "
                }
                out += "|\n"
            }
        }
        out += rule
        return out
    }

    /// tablewriter's `Title`: `_` (and a `.` not between digits) becomes a space, trimmed, upper-cased.
    static func title(_ s: String) -> String {
        let chars = Array(s)
        var out = chars
        func numOrSpace(_ c: Character) -> Bool { ("0"..."9").contains(c) || c == " " }
        for (i, c) in chars.enumerated() {
            if c == "_" { out[i] = " " }
            if c == ".", (i != 0 && !numOrSpace(chars[i - 1])) || (i != chars.count - 1 && !numOrSpace(chars[i + 1])) {
                out[i] = " "
            }
        }
        var t = String(out)
        while t.first == " " { t.removeFirst() }
        while t.last == " " { t.removeLast() }
        if t.isEmpty && !s.isEmpty { t = " " }
        return t.uppercased()
    }

    static func width(_ s: String) -> Int { s.unicodeScalars.count }

    static func center(_ s: String, _ w: Int) -> String {
        let gap = w - width(s)
        guard gap > 0 else { return s }
        return String(repeating: " ", count: gap / 2) + s + String(repeating: " ", count: gap - gap / 2)
    }

    static func padLeft(_ s: String, _ w: Int) -> String {
        let gap = w - width(s)
        return gap > 0 ? String(repeating: " ", count: gap) + s : s
    }

    /// tablewriter's `parseDimension` with auto-wrap and reflow: the lines of a cell joined into one paragraph,
    /// wrapped at `maxCellWidth` (or at the cell's width when narrower).
    static func wrapCell(_ cell: String) -> [String] {
        let raw = cell.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let limit = min(raw.map(width).max() ?? 0, maxCellWidth)
        return wrapString(raw.joined(separator: " "), limit)
    }

    /// tablewriter's `WrapString`: words split on single spaces, lines chosen to minimise the squared slack
    /// (a line over the limit costs 1e5 more), the limit widened to the longest word.
    static func wrapString(_ s: String, _ limit: Int) -> [String] {
        let words = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var lim = limit
        for w in words where width(w) > lim { lim = width(w) }
        let n = words.count
        var length = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for i in 0..<n {
            length[i][i] = width(words[i])
            var j = i + 1
            while j < n { length[i][j] = length[i][j - 1] + 1 + width(words[j]); j += 1 }
        }
        var nbrk = [Int](repeating: 0, count: n)
        var cost = [Int](repeating: Int(Int32.max), count: n)
        var i = n - 1
        while i >= 0 {
            if length[i][n - 1] <= lim {
                cost[i] = 0
                nbrk[i] = n
            } else {
                var j = i + 1
                while j < n {
                    let d = lim - length[i][j - 1]
                    var c = d * d + cost[j]
                    if length[i][j - 1] > lim { c += 100_000 }
                    if c < cost[i] { cost[i] = c; nbrk[i] = j }
                    j += 1
                }
            }
            i -= 1
        }
        var lines: [String] = []
        var k = 0
        while k < n {
            lines.append(words[k..<nbrk[k]].joined(separator: " "))
            k = nbrk[k]
        }
        return lines
    }
}

/// Go-flavoured renderings etcdctl's output uses.
public enum GoFormat {
    /// go-humanize's `Bytes`: SI units (`25 kB`, `1.2 MB`), one decimal under 10.
    public static func bytes(_ s: UInt64) -> String {
        if s < 10 { return "\(s) B" }
        let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        let e = (log(Double(s)) / log(1000.0)).rounded(.down)
        let val = ((Double(s) / pow(1000.0, e)) * 10 + 0.5).rounded(.down) / 10
        let suffix = sizes[Int(e)]
        if val < 10 {
            let tenths = Int((val * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) \(suffix)"
        }
        return "\(Int(val.rounded(.toNearestOrEven))) \(suffix)"
    }

    /// Go's `time.Duration.String`: `1.589206ms`, `847.601µs`, `5.001059521s`, `1m2.5s`, `0s`.
    public static func duration(nanoseconds d: Int64) -> String {
        if d == 0 { return "0s" }
        let negative = d < 0
        let u = d.magnitude
        var out: String
        if u < 1_000_000_000 {
            let (unit, scale): (String, UInt64) = u < 1000 ? ("ns", 1) : u < 1_000_000 ? ("µs", 1000) : ("ms", 1_000_000)
            out = fraction(u, scale) + unit
        } else {
            let seconds = u / 1_000_000_000
            out = fraction(u % 60_000_000_000, 1_000_000_000) + "s"
            let minutes = seconds / 60
            if minutes > 0 {
                out = "\(minutes % 60)m" + out
                if minutes >= 60 { out = "\(minutes / 60)h" + out }
            }
        }
        return negative ? "-" + out : out
    }

    /// `v / scale` with the fraction's trailing zeros removed.
    static func fraction(_ v: UInt64, _ scale: UInt64) -> String {
        let whole = v / scale
        var frac = v % scale
        guard frac != 0 else { return "\(whole)" }
        var digits = String(scale).count - 1
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }
}
