/// The result of parsing one command line with pflag's grammar.
public struct ParsedArguments: Equatable, Sendable {
    /// Last value given for each flag (for slices, all values in order), by long name.
    public var values: [String: [String]] = [:]
    /// Positional arguments in order, including those after `--`.
    public var positionals: [String] = []
    /// Index into `positionals` of the first argument after `--`, if `--` was given.
    public var dashDashIndex: Int?

    public init() {}

    public func isSet(_ name: String) -> Bool { values[name] != nil }

    public func string(_ name: String) -> String? { values[name]?.last }

    public func bool(_ name: String) -> Bool { values[name]?.last == "true" }
}

/// Why a command line could not be parsed, worded as pflag words it so scripts see the same messages.
public enum ParseError: Error, Equatable, Sendable {
    case unknownFlag(String)
    case unknownShorthand(Character, in: String)
    case needsArgument(String)
    case needsArgumentShort(Character, in: String)
    case badSyntax(String)
    case invalidValue(value: String, flag: String, reason: String)

    public var message: String {
        switch self {
        case let .unknownFlag(name): return "unknown flag: --\(name)"
        case let .unknownShorthand(c, arg): return "unknown shorthand flag: '\(c)' in \(arg)"
        case let .needsArgument(name): return "flag needs an argument: --\(name)"
        case let .needsArgumentShort(c, arg): return "flag needs an argument: '\(c)' in \(arg)"
        case let .badSyntax(arg): return "bad flag syntax: \(arg)"
        case let .invalidValue(value, flag, reason): return "invalid argument \(goQuote(value)) for \"\(flag)\" flag: \(reason)"
        }
    }
}

/// Go's %q for a Swift string, used in messages that quote user input as etcdctl does; a byte of invalid
/// UTF-8 kept by `RawArgument` is shown as Go shows it, `\xff`.
func goQuote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        if let byte = RawArgument.escapedByte(scalar) {
            out += "\\x" + String(byte, radix: 16)
            continue
        }
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// spf13/pflag's grammar, as etcdctl uses it with interspersed flags.
///
/// `--name=v`, `--name v`, `-n v`, `-nv`, `-n=v`, grouped short booleans (`-hi`), booleans only take a value
/// with `=`, a non-boolean flag takes the next argument whatever it looks like, `--` ends flags, and `-` alone
/// is a positional.
public struct ArgumentParser {
    public let flags: [FlagSpec]

    public init(flags: [FlagSpec]) { self.flags = flags }

    private func long(_ name: String) -> FlagSpec? { flags.first { $0.name == name } }
    private func short(_ c: Character) -> FlagSpec? { flags.first { $0.short == c } }

    /// Parses `args` (without the program and command names).
    public func parse(_ args: [String]) throws(ParseError) -> ParsedArguments {
        var result = ParsedArguments()
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                result.dashDashIndex = result.positionals.count
                result.positionals.append(contentsOf: args[i...])
                break
            }
            if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                if body.isEmpty || body.hasPrefix("-") || body.hasPrefix("=") { throw .badSyntax(arg) }
                let parts = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard let flag = long(name) else { throw .unknownFlag(name) }
                let value: String
                if parts.count == 2 {
                    value = String(parts[1])
                } else if flag.kind == .bool {
                    value = "true"
                } else if i < args.count {
                    value = args[i]
                    i += 1
                } else {
                    throw .needsArgument(name)
                }
                try set(flag, value, &result)
                continue
            }
            if arg.hasPrefix("-"), arg.count > 1 {
                var rest = Substring(arg.dropFirst())
                while let c = rest.first {
                    rest = rest.dropFirst()
                    guard let flag = short(c) else { throw .unknownShorthand(c, in: arg) }
                    if rest.hasPrefix("=") {
                        try set(flag, String(rest.dropFirst()), &result)
                        break
                    }
                    if flag.kind == .bool {
                        try set(flag, "true", &result)
                        continue
                    }
                    if !rest.isEmpty {
                        try set(flag, String(rest), &result)
                        break
                    }
                    guard i < args.count else { throw .needsArgumentShort(c, in: arg) }
                    try set(flag, args[i], &result)
                    i += 1
                    break
                }
                continue
            }
            result.positionals.append(arg)
        }
        return result
    }

    /// Checks a value against the flag's type and records it.
    func set(_ flag: FlagSpec, _ value: String, _ result: inout ParsedArguments) throws(ParseError) {
        let display = "--" + flag.name
        switch flag.kind {
        case .bool:
            guard let b = ArgumentParser.parseBool(value) else {
                throw .invalidValue(value: value, flag: display, reason: "strconv.ParseBool: parsing \(goQuote(value)): invalid syntax")
            }
            result.values[flag.name] = [b ? "true" : "false"]
        case .int64:
            if Int64(value) == nil {
                let outOfRange = !value.isEmpty && value.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isASCII)
                    && value.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber)
                    && value.count > 1
                throw .invalidValue(value: value, flag: display,
                                    reason: "strconv.ParseInt: parsing \(goQuote(value)): " + (outOfRange ? "value out of range" : "invalid syntax"))
            }
            result.values[flag.name] = [value]
        case .duration:
            if GoDuration.parse(value) == nil {
                throw .invalidValue(value: value, flag: display, reason: "time: invalid duration \(goQuote(value))")
            }
            result.values[flag.name] = [value]
        case .string:
            result.values[flag.name] = [value]
        case .stringSlice:
            let items = value.isEmpty ? [] : value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            result.values[flag.name, default: []].append(contentsOf: items)
            if items.isEmpty, result.values[flag.name] == nil { result.values[flag.name] = [] }
        }
    }

    /// Go's strconv.ParseBool.
    public static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
