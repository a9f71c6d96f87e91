/// etcdctl's argument splitting of a line read from stdin (`watch -i`, and txn's operations).
enum Argify {
    /// etcdctl's Argify: words split on white space, '...' taken literally, "..." unescaped as a Go string.
    static func split(_ line: String) -> [String] {
        var args: [String] = []
        var chars = Substring(line)
        while true {
            chars = chars.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            guard let first = chars.first else { return args }
            if first == "'" {
                let body = chars.dropFirst()
                if let end = body.firstIndex(of: "'") {
                    args.append(String(body[..<end]))
                    chars = body[body.index(after: end)...]
                    continue
                }
            } else if first == "\"" {
                var word = ""
                var i = chars.index(after: chars.startIndex)
                var closed = false
                while i < chars.endIndex {
                    let c = chars[i]
                    if c == "\\", chars.index(after: i) < chars.endIndex {
                        let n = chars[chars.index(after: i)]
                        switch n {
                        case "n": word.append("\n")
                        case "t": word.append("\t")
                        case "r": word.append("\r")
                        default: word.append(n)
                        }
                        i = chars.index(i, offsetBy: 2)
                        continue
                    }
                    if c == "\"" { closed = true; break }
                    word.append(c)
                    i = chars.index(after: i)
                }
                if closed {
                    args.append(word)
                    chars = chars[chars.index(after: i)...]
                    continue
                }
            }
            let end = chars.firstIndex { $0 == " " || $0 == "\t" || $0 == "\r" } ?? chars.endIndex
            args.append(String(chars[..<end]))
            chars = chars[end...]
        }
    }
}
