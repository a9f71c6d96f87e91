/// Why a bbolt file cannot be read or written: every problem with the file is one of these, never a crash.
public struct BoltError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem, for callers that choose an exit code or a retry.
    public enum Kind: Sendable, Equatable {
        /// The file does not exist or cannot be opened, read or written (the message names the system error).
        case io
        /// Not a bbolt file, or one of another version: both meta pages are unusable.
        case invalid
        /// The file ends before a page the database refers to.
        case truncated
        /// A page or element contradicts the format (bad type, bounds, order, cycles, double references).
        case corrupt
        /// Another process holds the file's lock.
        case locked
        /// A caller broke the writer's contract (keys out of order, oversized entries).
        case usage
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func corrupt(_ page: UInt64, _ what: String) -> BoltError {
        BoltError(.corrupt, "corrupt database: page \(page): \(what)")
    }
}
