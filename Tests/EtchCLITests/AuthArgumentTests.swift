@testable import EtchCLI
import EtchGateway
import EtchOutput
import XCTest

/// The pure parts of auth, user and role: etcdctl's argument rules and how it reads a password from stdin.
final class AuthArgumentTests: XCTestCase {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testUserAddArguments() throws {
        func add(_ args: [String], flag: String? = nil, interactive: Bool = true, noPassword: Bool = false) throws -> (String, UserCommands.PasswordSource) {
            let r = try UserCommands.addArguments(args, newUserPassword: flag, interactive: interactive, noPassword: noPassword)
            return (r.name, r.password)
        }
        XCTAssertTrue(try add(["alice:pw"]) == ("alice", .given(b("pw"))))
        XCTAssertTrue(try add(["alice:p:w"]) == ("alice", .given(b("p:w"))), "only the first colon splits")
        XCTAssertTrue(try add(["alice:"]) == ("alice", .given([])), "an empty password is the server's business")
        XCTAssertTrue(try add(["alice"]) == ("alice", .prompt))
        XCTAssertTrue(try add(["alice"], interactive: false) == ("alice", .standardInputWord))
        XCTAssertTrue(try add(["a:b"], flag: "pw") == ("a:b", .given(b("pw"))), "with --new-user-password the name is whole")
        XCTAssertTrue(try add(["a:b"], flag: "") == ("a", .given(b("b"))), "an empty flag counts as none, as in etcdctl")
        XCTAssertTrue(try add(["a:b"], flag: "pw", noPassword: true) == ("a:b", .none), "--no-password wins, name whole")
        for (args, message) in [([String](), "user add command requires user name as its argument"),
                                (["a", "b"], "user add command requires user name as its argument"),
                                ([":pw"], "empty user name is not allowed")] {
            XCTAssertThrowsError(try add(args)) { XCTAssertEqual($0 as? CLIError, CLIError(.badArgs, message)) }
        }
    }

    func testPermissionTypes() throws {
        XCTAssertEqual(try RoleCommands.permissionType("read"), .read)
        XCTAssertEqual(try RoleCommands.permissionType("Write"), .write)
        XCTAssertEqual(try RoleCommands.permissionType("READWRITE"), .readwrite)
        XCTAssertThrowsError(try RoleCommands.permissionType("rw")) {
            XCTAssertEqual($0 as? CLIError, CLIError(.badArgs, "invalid permission type: rw"))
        }
    }

    func testPermissionRangesAsEtcdctlsPermRange() throws {
        func range(_ args: [String], prefix: Bool = false, fromKey: Bool = false) throws -> [[UInt8]] {
            let r = try RoleCommands.permissionRange(args.map(b), prefix: prefix, fromKey: fromKey)
            return [r.key, r.rangeEnd]
        }
        XCTAssertEqual(try range(["/a"]), [b("/a"), []])
        XCTAssertEqual(try range(["/a", "/c"]), [b("/a"), b("/c")])
        XCTAssertEqual(try range(["/a", "/c", "/ignored"]), [b("/a"), b("/c")])
        XCTAssertEqual(try range(["/p"], prefix: true), [b("/p"), b("/q")])
        XCTAssertEqual(try range(["/f"], fromKey: true), [b("/f"), [0]])
        XCTAssertEqual(try RoleCommands.permissionRange([[0x61, 0xFF]], prefix: true, fromKey: false).rangeEnd, [0x62])
        XCTAssertEqual(try RoleCommands.permissionRange([[0xFF]], prefix: true, fromKey: false).rangeEnd, [0])
        // An empty key is \0; with --prefix or --from-key every key; an end after it is ignored.
        XCTAssertEqual(try range([""]), [[0], []])
        XCTAssertEqual(try range(["", "/z"]), [[0], []])
        XCTAssertEqual(try range([""], prefix: true), [[0], [0]])
        XCTAssertEqual(try range([""], fromKey: true), [[0], [0]])
        for (args, prefix, fromKey, message) in [
            (["/a"], true, true, "--from-key and --prefix flags are mutually exclusive"),
            ([""], true, true, "--from-key and --prefix flags are mutually exclusive"),
            (["/a", "/b"], true, false, "unexpected endkey argument with --prefix flag"),
            (["/a", "/b"], false, true, "unexpected endkey argument with --from-key flag"),
        ] {
            XCTAssertThrowsError(try range(args, prefix: prefix, fromKey: fromKey)) {
                XCTAssertEqual($0 as? CLIError, CLIError(.badArgs, message), "\(args)")
            }
        }
    }

    func testRevokedLines() {
        func text(_ key: String, _ end: [UInt8]) -> String {
            String(decoding: RoleCommands.revokedText(role: "r1", key: b(key), rangeEnd: end), as: UTF8.self)
        }
        XCTAssertEqual(text("/a", []), "Permission of key /a is revoked from role r1\n")
        XCTAssertEqual(text("/b", b("/c")), "Permission of range [/b, /c) is revoked from role r1\n")
        XCTAssertEqual(text("/f", [0]), "Permission of range [/f, <open ended> is revoked from role r1\n")
        XCTAssertEqual(text("", [0]), "Permission of range [, <open ended> is revoked from role r1\n", "the key as given")
    }

    /// `fmt.Scanf("%s")` on a byte string.
    func word(_ bytes: [UInt8]) -> [UInt8] {
        var input = bytes[...]
        return PasswordInput.firstWord { input.popFirst() }
    }

    func testNonInteractivePasswordIsScanfsFirstWord() {
        XCTAssertEqual(word(b("pw\n")), b("pw"))
        XCTAssertEqual(word(b("pw")), b("pw"), "no newline needed")
        XCTAssertEqual(word(b(" \t\r\u{0B}\u{0C}pw rest\n")), b("pw"), "blanks before are skipped, the word ends at a space")
        XCTAssertEqual(word(b("p\u{00A0}w")), b("p"), "Unicode white space ends it too")
        XCTAssertEqual(word(b("\u{3000}pw")), b("pw"))
        XCTAssertEqual(word(b("\npw\n")), [], "a newline before the word: Scanf fails, the password is empty")
        XCTAssertEqual(word(b("  \r\npw")), [])
        XCTAssertEqual(word([]), [])
        XCTAssertEqual(word(b("  ")), [])
        XCTAssertEqual(word(b("é🔑x y")), b("é🔑x"))
        XCTAssertEqual(word([0x61, 0xFF, 0x62]), [0x61, 0xEF, 0xBF, 0xBD, 0x62], "an invalid byte is U+FFFD, as Go's scanner reads it")
        XCTAssertEqual(word([0xF0, 0x9F, 0x94, 0x20, 0x61]), [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD],
                       "a cut 4-byte sequence is one U+FFFD per byte, and the space still ends the word")
    }

    func line(_ bytes: [UInt8]) -> [UInt8] {
        var input = bytes[...]
        return PasswordInput.line { input.popFirst() }
    }

    func testPromptedPasswordIsSpeakeasysTrimmedLine() {
        XCTAssertEqual(line(b("pw\nsecond\n")), b("pw"))
        XCTAssertEqual(line(b("  p w \t\r\n")), b("p w"), "trimmed at both ends, inner spaces kept")
        XCTAssertEqual(line(b("pw")), b("pw"), "the end of input ends the line")
        XCTAssertEqual(line(b("\n")), [])
        XCTAssertEqual(line(b("\u{3000}pw\u{2003}")), b("pw"))
        XCTAssertEqual(line([0xFF, 0x20, 0x61, 0x20, 0xFE]), [0xFF, 0x20, 0x61, 0x20, 0xFE], "invalid bytes are kept and stop the trim")
        XCTAssertEqual(PasswordInput.trimSpace([0x61, 0xE3, 0x80, 0x80, 0x20]), [0x61])
        XCTAssertEqual(PasswordInput.trimSpace([0x61, 0x80, 0x80, 0x20]), [0x61, 0x80, 0x80])
    }
}
