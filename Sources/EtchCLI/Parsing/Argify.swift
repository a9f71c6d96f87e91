/// etcdctl's argument splitting of a line read from stdin (`watch -i`, and txn's operations).
enum Argify {
    /// etcdctl's Argify: the words its pattern `"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?` finds, a "..."
    /// word unquoted as a Go string, a '...' word taken literally.
    ///
    /// As there, white space is Go's `\s` (space, tab, newline, form feed, carriage return); a bare word runs
    /// to the next white space whatever quotes it holds (`ab"cd`); a quote that is never closed is skipped
    /// (`"ab` gives `ab`). Unlike etcdctl, a '...' word is kept whole: etcdctl cuts it to the characters
    /// between index 1 and the number of words on the line minus one (`put k 'abcdef'` stores `a`).
    /// A "..." word Go cannot unquote (`"\q"`) is etcdctl's `invalid syntax` error, exit 3.
    static func split(_ line: String) throws(CLIError) -> [String] {
        let s = Array(line.unicodeScalars)
        var args: [String] = []
        var p = 0
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\u{0C}" || c == "\r" }
        func text(_ range: Range<Int>) -> String {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s[range])
            return String(v)
        }
        while p < s.count {
            let c = s[p]
            if isSpace(c) {
                p += 1
                continue
            }
            if c == "\"" {
                var j = p + 1
                var end: Int?
                while j < s.count {
                    if s[j] == "\\" {
                        guard j + 1 < s.count, s[j + 1] != "\n" else { break }
                        j += 2
                    } else if s[j] == "\"" {
                        end = j
                        break
                    } else {
                        j += 1
                    }
                }
                guard let end else {
                    p += 1  // no match here: the pattern tries the next character
                    continue
                }
                guard let bytes = GoUnquote.doubleQuoted(RawArgument.bytes(text(p..<end + 1))) else {
                    throw CLIError(.invalidInput, "invalid syntax")
                }
                args.append(RawArgument.decode(bytes))
                p = end + 1
                continue
            }
            if c == "'" {
                guard let end = s[(p + 1)...].firstIndex(of: "'") else {
                    p += 1
                    continue
                }
                args.append(text(p + 1..<end))
                p = end + 1
                continue
            }
            var end = p + 1
            while end < s.count && !isSpace(s[end]) { end += 1 }
            args.append(text(p..<end))
            p = end
        }
        return args
    }
}
