@testable import EtchCLI
import EtchGateway
import XCTest

/// txn's stdin grammar, line by line, with etcdctl 3.4.23's results and messages (observed side by side; the
/// integration tests run the same cases through both binaries).
final class TxnGrammarTests: XCTestCase {
    let k = Array("k".utf8)

    func compare(_ line: String) throws -> Compare { try TxnGrammar.compare(line) }

    func compareError(_ line: String, file: StaticString = #filePath, line l: UInt = #line) -> CLIError? {
        do {
            _ = try TxnGrammar.compare(line)
            XCTFail("\(line) parsed", file: file, line: l)
            return nil
        } catch {
            XCTAssertEqual(error.code, .invalidInput, line, file: file, line: l)
            return error
        }
    }

    func testCompareTargetsAndAliases() throws {
        XCTAssertEqual(try compare(#"mod("k") > "0""#), Compare(key: k, result: .greater, target: .mod(0)))
        XCTAssertEqual(try compare(#"m("k") = "2""#), Compare(key: k, result: .equal, target: .mod(2)))
        XCTAssertEqual(try compare(#"ver("k") != "1""#), Compare(key: k, result: .notEqual, target: .version(1)))
        XCTAssertEqual(try compare(#"version("k") < "-3""#), Compare(key: k, result: .less, target: .version(-3)))
        XCTAssertEqual(try compare(#"c("k") = "+7""#), Compare(key: k, result: .equal, target: .create(7)))
        XCTAssertEqual(try compare(#"create("k") = "7""#), Compare(key: k, result: .equal, target: .create(7)))
        XCTAssertEqual(try compare(#"val("k") = "v""#), Compare(key: k, result: .equal, target: .value(Array("v".utf8))))
        XCTAssertEqual(try compare(#"value("k") > """#), Compare(key: k, result: .greater, target: .value([])))
        XCTAssertEqual(try compare(#"lease("k") = "694d77aa9e38260f""#),
                       Compare(key: k, result: .equal, target: .lease(0x694d77aa9e38260f)), "etcdctl panics on lease")
        XCTAssertEqual(try compare(#"lease("k") = "0""#), Compare(key: k, result: .equal, target: .lease(0)))
    }

    func testCompareKeysAndValuesAreGoStrings() throws {
        XCTAssertEqual(try compare(#"val("a\tb\x00\xff\u00e9\101") = "\"q\"""#),
                       Compare(key: [0x61, 0x09, 0x62, 0x00, 0xFF, 0xC3, 0xA9, 0x41], result: .equal, target: .value(Array("\"q\"".utf8))))
        XCTAssertEqual(try compare("val(`a\\tb`) = `x y`"), Compare(key: Array("a\\tb".utf8), result: .equal, target: .value(Array("x y".utf8))), "raw strings")
        XCTAssertEqual(try compare("mod(\"k\")\t=\t\"2\""), Compare(key: k, result: .equal, target: .mod(2)), "tabs are spaces")
        XCTAssertEqual(try compare(#"mod("k") =   "2" extra"#), Compare(key: k, result: .equal, target: .mod(2)), "what follows the value is ignored, as by Sscanf")
        XCTAssertEqual(try compare(#"mod("k") = "2"x"#), Compare(key: k, result: .equal, target: .mod(2)))
        XCTAssertEqual(try compare(#"val("k") = "v" = "w""#), Compare(key: k, result: .equal, target: .value(Array("v".utf8))))
    }

    func testMalformedComparesSayWhatSscanfGot() {
        let cases: [(String, String)] = [
            ("mod", "malformed comparison: mod"),
            ("mod k = 2", "malformed comparison: mod k = 2"),
            (#"mod("k")>"0""#, #"malformed comparison: mod("k")>"0"; got mod("k")  """#),
            (#"mod( "k" ) > "0""#, #"malformed comparison: mod( "k" ) > "0"; got mod("k")  """#),
            (#"mod("k")"#, #"malformed comparison: mod("k"); got mod("k")  """#),
            (#"mod("k") ="#, #"malformed comparison: mod("k") =; got mod("k") = """#),
            (#"mod("k") = 2"#, #"malformed comparison: mod("k") = 2; got mod("k") = """#),
            (#"mod("k") ="2""#, #"malformed comparison: mod("k") ="2"; got mod("k") ="2" """#),
            (#"mod("k")= "2""#, #"malformed comparison: mod("k")= "2"; got mod("k")  """#),
            (#"(k) = "2""#, #"malformed comparison: (k) = "2"; got ("")  """#),
            (#"val("k\q") = "v""#, #"malformed comparison: val("k\q") = "v"; got val("")  """#),
            (#"val("k") = "\400""#, #"malformed comparison: val("k") = "\400"; got val("k") = """#),
            (#"val("k") = "v"#, #"malformed comparison: val("k") = "v; got val("k") = """#),
            ("val(`k) = \"v\"", "malformed comparison: val(`k) = \"v\"; got val(\"\")  \"\""),
            (#"val("a\nb") = "v"#, #"malformed comparison: val("a\nb") = "v; got val("a\nb") = """#),
            (#"foo("k") = "2""#, #"malformed comparison: foo("k") = "2" (unknown target foo)"#),
            (#"MOD("k") = "2""#, #"malformed comparison: MOD("k") = "2" (unknown target MOD)"#),
            (#"mod ("k") = "2""#, #"malformed comparison: mod ("k") = "2" (unknown target mod )"#),
            (#"mod("k") = "x""#, #"invalid txn compare request: mod("k") = "x""#),
            (#"mod("k") = """#, #"invalid txn compare request: mod("k") = """#),
            (#"ver("k") = "99999999999999999999""#, #"invalid txn compare request: ver("k") = "99999999999999999999""#),
            (#"mod("k") >= "x""#, #"invalid txn compare request: mod("k") >= "x""#),
        ]
        for (input, message) in cases { XCTAssertEqual(compareError(input)?.message, message, input) }
    }

    /// Where etcdctl panics (exit 2), etch says what is wrong.
    func testOperatorsAndLeasesEtcdctlCrashesOn() {
        XCTAssertEqual(compareError(#"mod("k") >= "2""#)?.message,
                       #"invalid txn compare request: mod("k") >= "2" (unknown operator ">=": etcd compares with =, !=, < or >)"#)
        XCTAssertNotNil(compareError(#"val("k") == "v""#))
        XCTAssertEqual(compareError(#"lease("k") = "xyz""#)?.message,
                       #"invalid txn compare request: lease("k") = "xyz" (a lease ID is hexadecimal, as lease grant prints it; 0 for no lease)"#)
    }

    func op(_ line: String) throws -> RequestOp { try TxnGrammar.operation(line) }

    func opError(_ line: String, file: StaticString = #filePath, line l: UInt = #line) -> CLIError? {
        do {
            _ = try TxnGrammar.operation(line)
            XCTFail("\(line) parsed", file: file, line: l)
            return nil
        } catch let e as CLIError {
            return e
        } catch {
            XCTFail("\(error)", file: file, line: l)
            return nil
        }
    }

    func testOperationsUseTheCommandsOwnFlags() throws {
        var get = RangeRequest(key: Array("/a/".utf8))
        get.rangeEnd = Array("/a0".utf8)
        get.keysOnly = true
        get.revision = 3
        XCTAssertEqual(try op("get /a/ --prefix --keys-only --rev=3"), .range(get))
        XCTAssertEqual(try op("ge k"), .range(RangeRequest(key: k)), "a unique prefix, as cobra's prefix matching")
        XCTAssertEqual(try op("g k"), .range(RangeRequest(key: k)))
        XCTAssertEqual(try op("--prefix=true get k"), try op("get k --prefix"), "a flag with = before the command")
        var put = PutRequest(key: k, value: Array("-v".utf8))
        put.prevKV = true
        put.lease = 0x1f
        XCTAssertEqual(try op("put --prev-kv --lease=1f -- k -v"), .put(put))
        XCTAssertEqual(try op("p k v extra"), .put(PutRequest(key: k, value: Array("v".utf8))), "extra words are ignored, as by put")
        var ignore = PutRequest(key: k, value: [])
        ignore.ignoreValue = true
        XCTAssertEqual(try op("put --ignore-value k"), .put(ignore))
        var del = DeleteRangeRequest(key: k)
        del.rangeEnd = [0]
        del.prevKV = true
        XCTAssertEqual(try op("d k --from-key --prev-kv"), .deleteRange(del))
        XCTAssertEqual(try op("get k --print-value-only"), .range(RangeRequest(key: k)), "accepted and, as in etcdctl, without effect")
    }

    func testOperationWordsAreArgified() throws {
        XCTAssertEqual(try op(#"put "key \"with\" space" "value \x23""#), .put(PutRequest(key: Array("key \"with\" space".utf8), value: Array("value #".utf8))))
        XCTAssertEqual(try op("put k 'abcdef'"), .put(PutRequest(key: k, value: Array("abcdef".utf8))), "etcdctl stores a")
        XCTAssertEqual(try op("put 'a b' 'c d'"), .put(PutRequest(key: Array("a b".utf8), value: Array("c d".utf8))))
        XCTAssertEqual(try op(#"put k "ab"#), .put(PutRequest(key: k, value: Array("ab".utf8))), "a quote never closed is skipped")
        XCTAssertEqual(try op(#"put k ab"cd"#), .put(PutRequest(key: k, value: Array("ab\"cd".utf8))))
        XCTAssertEqual(try op("put k \"\""), .put(PutRequest(key: k, value: [])), "an empty value given as a word")
    }

    func testOperationErrorsAreEtcdctls() {
        let cases: [(String, ExitCode, String)] = [
            ("put", .invalidInput, "invalid txn compare request: put"),
            ("get", .invalidInput, "invalid txn compare request: get"),
            ("foo k", .invalidInput, "invalid txn request: foo k"),
            ("GET k", .invalidInput, "invalid txn request: GET k"),
            ("--prefix get k", .invalidInput, "invalid txn request: --prefix get k"),
            ("-x get k", .invalidInput, "invalid txn request: -x get k"),
            ("get k -w json", .invalidInput, "invalid txn request: get k -w json"),
            ("get k --rev=x", .invalidInput, "invalid txn request: get k --rev=x"),
            ("put k --lease", .invalidInput, "invalid txn request: put k --lease"),
            ("put k v --help", .invalidInput, "invalid txn request: put k v --help"),
            ("help put", .invalidInput, "invalid txn request: help put"),
            (#"put "\q" v"#, .invalidInput, "invalid syntax"),
            ("get --prefix", .badArgs, "get command needs one argument as key and an optional argument as range_end"),
            ("put k", .badArgs, "put command needs 1 argument and input from stdin or 2 arguments"),
            ("put --ignore-value k v", .badArgs, "put command needs only 1 argument when 'ignore-value' is set"),
            ("put --lease=zz k v", .badArgs, "bad lease ID (strconv.ParseInt: parsing \"zz\": invalid syntax), expecting ID in Hex"),
            ("del a b c", .badArgs, "del command needs one argument as key and an optional argument as range_end"),
            ("del --prefix --from-key k", .badArgs, "`--prefix` and `--from-key` cannot be set at the same time, choose one"),
            ("get k l --prefix", .badArgs, "too many arguments, only accept one argument when `--prefix` or `--from-key` is set"),
            ("get k --consistency=q", .badFeature, "unknown consistency flag \"q\""),
            ("get k --sort-by=x", .badFeature, "bad sort target x"),
            ("get k --order=x", .badFeature, "bad sort order x"),
        ]
        for (line, code, message) in cases {
            let e = opError(line)
            XCTAssertEqual(e?.code, code, line)
            XCTAssertEqual(e?.message, message, line)
        }
    }

    func testCommandWordIsCobrasStripFlags() {
        XCTAssertEqual(TxnGrammar.commandWord(["get", "k"]), "get")
        XCTAssertEqual(TxnGrammar.commandWord(["--x", "get", "k"]), "k", "a --flag without = takes the next word")
        XCTAssertEqual(TxnGrammar.commandWord(["--x=1", "get", "k"]), "get")
        XCTAssertEqual(TxnGrammar.commandWord(["-ab", "get"]), "get")
        XCTAssertNil(TxnGrammar.commandWord(["--x", "get"]), "the last word after a flag is never the command")
        XCTAssertNil(TxnGrammar.commandWord(["--", "get", "k"]))
        XCTAssertNil(TxnGrammar.commandWord(["", "-"]))
    }

    func testArgifyFollowsEtcdctlsPattern() throws {
        XCTAssertEqual(try Argify.split("watch  --prefix k"), ["watch", "--prefix", "k"])
        XCTAssertEqual(try Argify.split("watch 'a b' \"c\\\"d\""), ["watch", "a b", "c\"d"])
        XCTAssertEqual(try Argify.split(""), [])
        XCTAssertEqual(try Argify.split(" a\u{0C}b\rc\td\u{0B}e "), ["a", "b", "c", "d\u{0B}e"], "Go's \\s has no vertical tab")
        XCTAssertEqual(try Argify.split("\"ab cd"), ["ab", "cd"], "an unclosed quote is skipped")
        XCTAssertEqual(try Argify.split("'ab cd"), ["ab", "cd"])
        XCTAssertEqual(try Argify.split("\"a\"b 'c'd"), ["a", "b", "c", "d"])
        XCTAssertEqual(try Argify.split("x''y '' \"\""), ["x''y", "", ""])
        XCTAssertEqual(try Argify.split(#""\x41\101\u00e9\U0001F600\a\v\\""#), ["AA\u{e9}\u{1F600}\u{07}\u{0B}\\"])
        XCTAssertEqual(RawArgument.bytes(try Argify.split(#""\xff""#)[0]), [0xFF], "a byte, not a code point")
        for bad in [#""\q""#, #""\'""#, #""\x4""#, #""\ud800""#, #""\U00110000""#, #""\400""#] {
            XCTAssertThrowsError(try Argify.split(bad), bad) { XCTAssertEqual(($0 as? CLIError)?.message, "invalid syntax") }
        }
        XCTAssertEqual(try Argify.split("\"a\\\""), ["a\\\""], "an escaped last quote leaves the quote open: skipped, the rest is a word")
    }

    func testTrimSpaceIsGos() {
        XCTAssertEqual(TxnGrammar.trimmed(" \t\r\u{0B}\u{0C}\u{85}\u{A0}\u{3000}x y\u{2028} "), "x y")
        XCTAssertEqual(TxnGrammar.trimmed("\u{200B}"), "\u{200B}", "zero width space is not a space to Go")
    }

    /// The three parts, read line by line: each line is checked as it is read, the prompts come before their
    /// part, and the end of input before the third empty line is `EOF`.
    func testReadingThePartsInOrder() throws {
        func read(_ lines: [String]) -> (TxnRequest?, String?, [String]) {
            var rest = lines[...]
            var prompts: [String] = []
            do {
                let r = try TxnCommand.read(prompt: { prompts.append($0) }, nextLine: {
                    guard let l = rest.popFirst() else { throw CLIError(.invalidInput, "EOF") }
                    return l
                })
                return (r, nil, prompts)
            } catch {
                return (nil, (error as? CLIError)?.message, prompts)
            }
        }
        let all = ["compares:", "success requests (get, put, del):", "failure requests (get, put, del):"]
        let (r, e, p) = read([#"mod("k") > "0""#, #" val("k") = "v" "#, " \t", "get k", "", "put k v", "del k", "", "never read"])
        XCTAssertNil(e)
        XCTAssertEqual(p, all)
        XCTAssertEqual(r?.compare.count, 2)
        XCTAssertEqual(r?.success, [.range(RangeRequest(key: k))])
        XCTAssertEqual(r?.failure.count, 2)
        XCTAssertEqual(read(["", "", ""]).0, TxnRequest())
        XCTAssertEqual(read(["", ""]).1, "EOF")
        XCTAssertEqual(read(["", ""]).2, all)
        let bad = read(["bad", ""])
        XCTAssertEqual(bad.1, "malformed comparison: bad")
        XCTAssertEqual(bad.2, ["compares:"], "a bad line stops at once")
        XCTAssertEqual(read(["", "foo k"]).1, "invalid txn request: foo k", "before the end of input is seen")
    }

    func testRequestBodyIsTheGatewaysJSON() {
        let r = TxnRequest(compare: [Compare(key: k, result: .greater, target: .mod(0)),
                                     Compare(key: k, result: .notEqual, target: .value(Array("v".utf8))),
                                     Compare(key: k, result: .less, target: .lease(31))],
                           success: [.put(PutRequest(key: k, value: Array("v".utf8)))],
                           failure: [.range(RangeRequest(key: k)), .deleteRange(DeleteRangeRequest(key: k))])
        XCTAssertEqual(String(decoding: r.body(), as: UTF8.self),
                       #"{"compare":[{"result":"GREATER","target":"MOD","key":"aw==","mod_revision":"0"},{"result":"NOT_EQUAL","target":"VALUE","key":"aw==","value":"dg=="},{"result":"LESS","target":"LEASE","key":"aw==","lease":"31"}],"success":[{"request_put":{"key":"aw==","value":"dg=="}}],"failure":[{"request_range":{"key":"aw=="}},{"request_delete_range":{"key":"aw=="}}]}"#)
        XCTAssertEqual(String(decoding: TxnRequest().body(), as: UTF8.self), "{}")
    }
}
