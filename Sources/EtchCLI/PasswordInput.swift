import EtchOutput
import EtchTransport
import Glibc

/// The new password of `user add` and `user passwd`, read from standard input exactly as etcdctl reads it.
///
/// `--interactive=false` is Go's `fmt.Scanf("%s")`: the first word. Otherwise it is speakeasy's prompt: the
/// prompt on stdout (where etcdctl writes it, terminal or not), a line read with the terminal's echo off, a
/// newline after it, and the same asked again for confirmation.
enum PasswordInput {
    /// Go's `fmt.Scanf("%s", &password)`: blanks before the word are skipped, but a newline before it (or the
    /// end of input) leaves the password empty; the word ends at the first Unicode white space. Invalid UTF-8
    /// bytes come out as U+FFFD, as Go's rune reader turns them.
    static func firstWord(_ next: () -> UInt8?) -> [UInt8] {
        var reader = RuneReader()
        var word: [UInt8] = []
        while true {
            guard let r = reader.rune(next) else { return [] }
            if r.scalar == 0x0A { return [] }
            if isGoSpace(r.scalar) { continue }
            word = r.bytes
            break
        }
        while let r = reader.rune(next), !isGoSpace(r.scalar) { word += r.bytes }
        return word
    }

    /// speakeasy's line: the bytes up to a newline or the end of input, one trailing `\r` removed, then
    /// Go's `strings.TrimSpace` (Unicode white space at both ends; invalid bytes are kept).
    static func line(_ next: () -> UInt8?) -> [UInt8] {
        var bytes: [UInt8] = []
        while let b = next(), b != 0x0A { bytes.append(b) }
        if bytes.last == 0x0D { bytes.removeLast() }
        return trimSpace(bytes)
    }

    /// Go's `strings.TrimSpace` on bytes.
    static func trimSpace(_ bytes: [UInt8]) -> [UInt8] {
        var start = 0
        while start < bytes.count {
            guard let (scalar, width) = decode(bytes, at: start), isGoSpace(scalar) else { break }
            start += width
        }
        var end = bytes.count
        while end > start {
            // The last rune as Go's DecodeLastRune finds it: back to the nearest byte that can start a rune
            // (at most 4), and a valid sequence from there to the end, else an invalid byte (not a space).
            var runeStart = end - 1
            while runeStart > max(start, end - 4), bytes[runeStart] & 0xC0 == 0x80 { runeStart -= 1 }
            let tail = Array(bytes[runeStart..<end])
            guard let (scalar, width) = decode(tail, at: 0), width == tail.count, isGoSpace(scalar) else { break }
            end = runeStart
        }
        return Array(bytes[start..<end])
    }

    /// One rune at `i` as Go decodes it, ASCII included.
    private static func decode(_ b: [UInt8], at i: Int) -> (UInt32, Int)? {
        if b[i] < 0x80 { return (UInt32(b[i]), 1) }
        return GoQuote.decodeScalar(b, at: i).map { ($0.0.value, $0.1) }
    }

    /// Go's `unicode.IsSpace` (the White_Space property), which fmt's scanner and `TrimSpace` both use.
    static func isGoSpace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Runes from a byte source as Go's `fmt` reads them from a reader that is not a RuneScanner: one valid
    /// UTF-8 sequence, or U+FFFD for one invalid byte, the bytes after it kept for the next rune.
    struct RuneReader {
        private var pending: [UInt8] = []

        private mutating func byte(_ next: () -> UInt8?) -> UInt8? {
            pending.isEmpty ? next() : pending.removeFirst()
        }

        mutating func rune(_ next: () -> UInt8?) -> (scalar: UInt32, bytes: [UInt8])? {
            guard let lead = byte(next) else { return nil }
            if lead < 0x80 { return (UInt32(lead), [lead]) }
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 1
            }
            var sequence = [lead]
            while sequence.count < length, let b = byte(next) {
                guard b & 0xC0 == 0x80 else {
                    pending.insert(b, at: 0)
                    break
                }
                sequence.append(b)
            }
            if let (scalar, width) = GoQuote.decodeScalar(sequence, at: 0), width == sequence.count {
                return (scalar.value, sequence)
            }
            pending.insert(contentsOf: sequence.dropFirst(), at: 0)
            return (0xFFFD, [0xEF, 0xBF, 0xBD])
        }
    }

    /// etcdctl's `readPasswordInteractive`: asks for the password of `name` twice on `prompts`; an empty
    /// password or two different ones are bad arguments (exit 128), as there.
    static func askTwice(name: String, prompts: OutputBuffer) throws -> [UInt8] {
        let first = try ask("Password of \(name): ", prompts)
        if first.isEmpty { throw CLIError(.badArgs, "empty password") }
        let second = try ask("Type password of \(name) again for confirmation: ", prompts)
        if first != second { throw CLIError(.badArgs, "given passwords are different") }
        return first
    }

    /// speakeasy's `Ask`: the prompt, one line read from stdin with the terminal's echo off (when stdin is a
    /// terminal), then a newline. Ctrl-C restores the echo and ends etch as the signal would.
    static func ask(_ prompt: String, _ prompts: OutputBuffer) throws -> [UInt8] {
        prompts.append(prompt)
        prompts.flush()
        let terminal = isatty(0) != 0
        var saved = termios()
        if terminal {
            tcgetattr(0, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &quiet)
        }
        var input = StandardInput()
        let password = line { input.next() }
        if terminal { tcsetattr(0, TCSANOW, &saved) }
        prompts.append("\n")
        prompts.flush()
        try input.check()
        return password
    }

    /// `--interactive=false`: the first word of standard input.
    static func readWord() throws -> [UInt8] {
        var input = StandardInput()
        let word = firstWord { input.next() }
        try input.check()
        return word
    }

    /// Standard input one byte at a time, so nothing past the password is consumed, and a Ctrl-C while
    /// waiting is seen (poll is never restarted after a signal, unlike read).
    struct StandardInput {
        private(set) var interrupted = false
        private(set) var failure: Int32?

        mutating func next() -> UInt8? {
            while true {
                if Interrupt.requested {
                    interrupted = true
                    return nil
                }
                var fd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                if poll(&fd, 1, -1) < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return nil
                }
                var b: UInt8 = 0
                let n = read(0, &b, 1)
                if n == 1 { return b }
                if n == 0 { return nil }
                if errno == EINTR || errno == EAGAIN { continue }
                failure = errno
                return nil
            }
        }

        /// Ends etch by the signal after a Ctrl-C; a read error is etcdctl's `failed to ask password`.
        func check() throws {
            if interrupted { Interrupt.exitBySignal() }
            if let failure {
                throw CLIError(.badArgs, "failed to ask password: failed during password entry: \(String(cString: strerror(failure)))")
            }
        }
    }
}
