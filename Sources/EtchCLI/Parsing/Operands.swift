/// A Go strconv error, worded as Go words it (`strconv.ParseUint: parsing "zz": invalid syntax`).
struct StrconvError: Error {
    var message: String
    init(_ function: String, _ s: String, _ why: String) {
        message = "strconv.\(function): parsing \(goQuote(s)): \(why)"
    }
}

/// Parsing of the operands etcdctl's commands share, with Go's strconv messages, so errors read as etcdctl's.
enum Operands {
    /// Go's `strconv.ParseUint(s, 16, 64)`: hex digits only (no sign, no `0x`).
    static func hexUInt64(_ s: String) throws(StrconvError) -> UInt64 {
        guard !s.isEmpty, s.allSatisfy(\.isHexDigit) else { throw StrconvError("ParseUint", s, "invalid syntax") }
        guard let v = UInt64(s, radix: 16) else { throw StrconvError("ParseUint", s, "value out of range") }
        return v
    }

    /// Go's `strconv.ParseInt(s, 16, 64)`: an optional sign and hex digits, no `0x` (lease IDs).
    static func hexInt64(_ s: String) throws(StrconvError) -> Int64 {
        var body = Substring(s)
        var negative = false
        if body.first == "+" || body.first == "-" { negative = body.first == "-"; body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy(\.isHexDigit) else { throw StrconvError("ParseInt", s, "invalid syntax") }
        guard let magnitude = UInt64(body, radix: 16),
              magnitude <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) else {
            throw StrconvError("ParseInt", s, "value out of range")
        }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    /// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
    static func int64(_ s: String) throws(StrconvError) -> Int64 {
        let digits = s.first == "+" || s.first == "-" ? s.dropFirst() : Substring(s)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw StrconvError("ParseInt", s, "invalid syntax")
        }
        guard let v = Int64(s.first == "+" ? String(digits) : s) else { throw StrconvError("ParseInt", s, "value out of range") }
        return v
    }

    /// A member ID in hex as etcdctl takes it; etch also takes a member's name when exactly one member has it
    /// (`names` is asked only then, so a hex ID costs no extra request). `badID` words the error for an operand
    /// that is neither, as the command's etcdctl counterpart does (member's by default).
    static func memberID(_ s: String, names: () throws -> [(String, UInt64)],
                         badID wording: (StrconvError) -> CLIError = { CLIError(.badArgs, "bad member ID arg (\($0.message)), expecting ID in Hex") }) throws -> UInt64 {
        do {
            return try hexUInt64(s)
        } catch {
            let badID = wording(error)
            guard !s.isEmpty else { throw badID }
            let matches = try names().filter { $0.0 == s }
            if matches.count == 1 { return matches[0].1 }
            if matches.count > 1 {
                throw CLIError(.badArgs, "\(matches.count) members are named \(goQuote(s)): give the member's ID in hex")
            }
            throw badID
        }
    }

    /// The operands of a command that takes exactly `count` names (users, roles), else etcdctl's `usage`
    /// error, exit 128. Each must be UTF-8 (`utf8Text`).
    static func names(_ positionals: [String], count: Int, usage: String) throws(CLIError) -> [String] {
        guard positionals.count == count else { throw CLIError(.badArgs, usage) }
        for p in positionals { _ = try utf8Text(p, "name") }
        return positionals
    }

    /// Text the gateway can carry: its JSON strings are UTF-8, so an argument of other bytes (which etcdctl
    /// would send as they are) is refused rather than sent changed.
    static func utf8Text(_ s: String, _ what: String) throws(CLIError) -> String {
        guard String(validating: RawArgument.bytes(s), as: UTF8.self) != nil else {
            throw CLIError(.badArgs, "the \(what) \(goQuote(s)) is not valid UTF-8, which etcd's JSON gateway cannot carry")
        }
        return s
    }

    /// A password as the gateway can carry it; the error never shows it.
    static func password(_ bytes: [UInt8]) throws(CLIError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw CLIError(.badArgs, "the password is not valid UTF-8, which etcd's JSON gateway cannot carry")
        }
        return s
    }
}
