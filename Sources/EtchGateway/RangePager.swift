/// Reads a range in pages at one fixed revision, so the whole result is one consistent snapshot while memory
/// stays bounded by the page size: the first page fixes the revision, each next page starts just after the
/// last key of the previous one.
public struct RangePager {
    public let client: GatewayClient
    public var request: RangeRequest
    public var pageSize: Int64

    /// Why a page that goes back to keys already read is refused.
    public static let notContinuing = "a page of the range does not continue after the previous page"

    public init(client: GatewayClient, request: RangeRequest, pageSize: Int64 = 1000) {
        self.client = client
        self.request = request
        self.pageSize = pageSize
    }

    /// Calls `page` for each page in key order; returns the revision of the snapshot. `page` returns false
    /// to stop early.
    @discardableResult
    public func forEachPage(_ page: (RangeResponse) throws -> Bool) throws -> Int64 {
        var r = request
        r.limit = pageSize
        var revision: Int64 = 0
        while true {
            let response = try client.range(r)
            if revision == 0 { revision = response.header.revision; r.revision = revision }
            // Each page starts at or after its start key; a server that answered with earlier keys would have
            // them listed again, page after page, without end.
            if response.kvs.contains(where: { $0.key.lexicographicallyPrecedes(r.key) }) {
                throw GatewayError.malformedReply(RangePager.notContinuing)
            }
            if try !page(response) { return revision }
            guard response.more, let last = response.kvs.last else { return revision }
            r.key = last.key + [0]
        }
    }
}
