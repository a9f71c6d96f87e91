import EtchOutput
import XCTest

/// The table writer and Go renderings against output printed by the Go libraries etcdctl uses
/// (olekukonko/tablewriter 0.0.5, go-humanize, time.Duration), captured once from a Go program.
final class TableAndGoFormatTests: XCTestCase {
    func testTableMatchesTablewriterIncludingWrappingAndLongWords() {
        let table = Table(header: ["endpoint", "ID", "db size", "raft applied index", "errors"], rows: [
            ["http://127.0.0.1:2379", "8e9e05c52164694d", "25 kB", "7", ""],
            ["127.0.0.1:1", "", "", "", "etcdserver: mvcc: database space exceeded, alarm:NOSPACE, another error that is long"],
            ["averyveryveryveryveryverylongwordwithoutanyspaces_exceeding30", "x", "1.2 MB", "123456", "short"],
        ])
        XCTAssertEqual(table.render(), """
        +---------------------------------------------------------------+------------------+---------+--------------------+--------------------------------+
        |                           ENDPOINT                            |        ID        | DB SIZE | RAFT APPLIED INDEX |             ERRORS             |
        +---------------------------------------------------------------+------------------+---------+--------------------+--------------------------------+
        |                                         http://127.0.0.1:2379 | 8e9e05c52164694d |   25 kB |                  7 |                                |
        |                                                   127.0.0.1:1 |                  |         |                    |     etcdserver: mvcc: database |
        |                                                               |                  |         |                    | space exceeded, alarm:NOSPACE, |
        |                                                               |                  |         |                    |     another error that is long |
        | averyveryveryveryveryverylongwordwithoutanyspaces_exceeding30 |                x |  1.2 MB |             123456 |                          short |
        +---------------------------------------------------------------+------------------+---------+--------------------+--------------------------------+

        """)
    }

    func testEmptyTableIsHeaderOnly() {
        XCTAssertEqual(Table(header: ["hash", "revision", "total keys", "total size"], rows: []).render(), """
        +------+----------+------------+------------+
        | HASH | REVISION | TOTAL KEYS | TOTAL SIZE |
        +------+----------+------------+------------+
        +------+----------+------------+------------+

        """)
    }

    func testBytesAreGoHumanizeSI() {
        let expected: [(UInt64, String)] = [
            (0, "0 B"), (9, "9 B"), (10, "10 B"), (999, "999 B"), (1000, "1.0 kB"), (1049, "1.0 kB"), (1050, "1.1 kB"),
            (24576, "25 kB"), (99999, "100 kB"), (999_999, "1000 kB"), (1_000_000, "1.0 MB"), (1_234_567, "1.2 MB"),
            (9_950_000, "10 MB"), (123_456_789_012, "124 GB"), (1 << 62, "4.6 EB"),
        ]
        for (n, s) in expected { XCTAssertEqual(GoFormat.bytes(n), s, "\(n)") }
    }

    func testDurationsAreGoDurationStrings() {
        let expected: [(Int64, String)] = [
            (0, "0s"), (1, "1ns"), (999, "999ns"), (1000, "1µs"), (1500, "1.5µs"), (847_601, "847.601µs"),
            (1_589_206, "1.589206ms"), (999_999_999, "999.999999ms"), (1_000_000_000, "1s"), (5_001_059_521, "5.001059521s"),
            (62_500_000_000, "1m2.5s"), (3_723_000_000_001, "1h2m3.000000001s"), (-1500, "-1.5µs"),
        ]
        for (n, s) in expected { XCTAssertEqual(GoFormat.duration(nanoseconds: n), s, "\(n)") }
    }
}
