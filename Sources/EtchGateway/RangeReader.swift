import EtchTransport
import Glibc
import Synchronization

/// Where a range read delivers what it reads, in key order: the header once, batches of key-values as they
/// arrive, then the totals. A printer adapts to it (etch get); so does anything that consumes a snapshot.
/// `page` may be called from a reader's thread, one page at a time, in key order.
public protocol RangeSink: AnyObject {
    func begin(_ header: ResponseHeader)
    func page(_ kvs: [KeyValue], first: Bool)
    func end(more: Bool, count: Int64, anyKVs: Bool)
}

/// Reads a range of any size as one consistent snapshot with bounded memory, as fast as the server can build
/// its replies: small ranges in one request; large ones in pages at the first page's revision, with the next
/// page in flight while one is delivered (pipelined pages with KeySplitter boundaries, the last one read from
/// both ends). The delivered key-values are byte for byte those of one unpaginated range request.
public enum RangeReader {
    /// Why a page that goes back to keys already read is refused.
    public static let notContinuing = "a page of the range does not continue after the previous page"

    /// Reads `request` into `sink`; `log` gets --debug lines.
    public static func read(_ request: RangeRequest, client: GatewayClient, into sink: RangeSink,
                            log: (String) -> Void = { _ in }) throws {
        if !pageable(request) {
            let r = try client.range(request)
            sink.begin(r.header)
            if !r.kvs.isEmpty { sink.page(r.kvs, first: true) }
            sink.end(more: r.more, count: r.count, anyKVs: !r.kvs.isEmpty)
            return
        }
        try getInPages(request, client: client, sink: sink, log: log)
    }

    /// Keys in the first page of a large range; later pages are sized from the bytes per key seen so far.
    static let pageSize: Int64 = 5000
    /// About this many bytes of reply per page. Replies are decoded as they arrive, so a page costs no memory;
    /// the limit only keeps each request modest for the server, which builds the whole reply at once.
    static let pageBytes = 32 << 20

    /// A range read in key order (the server's own) can be paged by continuing after the last key.
    static func pageable(_ r: RangeRequest) -> Bool {
        !r.rangeEnd.isEmpty && !r.countOnly && r.sortOrder == .none && r.sortTarget == .key
            && (r.limit == 0 || r.limit > pageSize)
    }

    /// Reads a range in pages at the revision of the first page and prints each reply as it arrives, so memory
    /// stays bounded by one key-value while the output is byte for byte that of one unpaginated get.
    static func getInPages(_ request: RangeRequest, client: GatewayClient, sink: RangeSink,
                           log: (String) -> Void = { _ in }) throws {
        var r = request
        var printed: Int64 = 0
        var count: Int64 = 0
        var more = false
        var began = false
        var size = pageSize
        var bytesSeen = 0
        var sample: [[UInt8]] = []  // the first page's keys: they teach the page splitter the key alphabet
        var pipelineStopped = false
        var bothEndsStopped = false
        while true {
            r.limit = request.limit == 0 ? size : min(size, request.limit - printed)
            var lastKey: [UInt8]?
            var pagePrinted: Int64 = 0
            // Keys come in order, each page after the last key of the one before: a server that repeats keys
            // would otherwise have them printed again, page after page, without end.
            var backwards = false
            let page = try client.rangeStreaming(r, onHeader: { header in
                if !began {
                    began = true
                    sink.begin(header)
                }
            }, onKVs: { kvs in
                if backwards || kvs.contains(where: { $0.key.lexicographicallyPrecedes(r.key) }) {
                    backwards = true
                    return
                }
                sink.page(kvs, first: printed == 0)
                printed += Int64(kvs.count)
                pagePrinted += Int64(kvs.count)
                lastKey = kvs.last?.key
                if sample.count < pageSize { sample += kvs.prefix(Int(pageSize) - sample.count).map(\.key) }
                // Base64 makes bytes 4/3 larger; about 120 bytes of field names and numbers per key-value.
                for kv in kvs { bytesSeen += (kv.key.count + kv.value.count) * 4 / 3 + 120 }
            })
            if backwards { throw GatewayError.malformedReply(RangeReader.notContinuing) }
            if count == 0 && printed == pagePrinted {
                count = page.count
                // One snapshot: later pages read at the first page's revision (or the one asked for).
                if r.revision == 0 { r.revision = page.header.revision }
            }
            if printed > 0 { size = Int64(min(1_000_000, max(100, pageBytes / max(1, bytesSeen / Int(printed))))) }
            guard page.more, let last = lastKey else { more = false; break }
            if request.limit != 0 && printed >= request.limit { more = true; break }
            r.key = last + [0]
            // The rest fits in one page and is large: read it from both ends at once (see readFromBothEnds).
            let rest = count - printed
            if request.limit == 0 && rest >= bothEndsMinimum && rest <= size && !bothEndsStopped {
                guard let goOnAt = try readFromBothEnds(r, keys: rest, client: client, sink: sink,
                                                        printed: &printed) else {
                    more = false
                    break
                }
                r.key = goOnAt
                bothEndsStopped = true
                continue
            }
            // More than a page is left: the next page is requested while the current one prints. Where no page
            // boundary can be found, pages go on one after the other from where the pipeline stopped.
            if request.limit == 0 && rest > size && size >= bothEndsMinimum && !pipelineStopped {
                guard let stoppedAt = try readPipelined(r, keys: rest, pageKeys: size, sample: sample, client: client,
                                                        sink: sink, printed: &printed, log: log) else {
                    more = false
                    break
                }
                r.key = stoppedAt
                pipelineStopped = true
                bothEndsStopped = true
            }
        }
        sink.end(more: more, count: count, anyKVs: printed > 0)
    }

    /// Below this many keys one request is as fast as two.
    static let bothEndsMinimum: Int64 = 2_000

    /// Reads the last `keys` key-values of a range, [r.key, r.rangeEnd) at r.revision, as two requests in
    /// flight at once: the first half in key order, printed as it arrives, and the second half sorted
    /// descending on a connection of its own, held (at most half a page) and printed after the first, in key
    /// order. etcd builds each JSON reply whole before sending it, on one core per request, so two halves come
    /// back in about two thirds of the time of one request. The halves cannot overlap or leave a gap: the
    /// revision is fixed and `keys` is the exact number of keys in the range there (it is checked).
    ///
    /// The held half is capped at `heldBytes` of keys and values: values larger than the first page's make a
    /// half page of keys far more bytes. Past the cap the second request is dropped, and the key to go on from
    /// one page at a time after the first half is returned; nil when the range is out.
    static func readFromBothEnds(_ r: RangeRequest, keys: Int64, client: GatewayClient, sink: RangeSink,
                                 printed: inout Int64) throws -> [UInt8]? {
        final class Back: @unchecked Sendable {
            var kvs: [KeyValue] = []
            var bytes = 0
            var overBudget = false
            var error: (any Error)?
        }
        var front = r
        front.limit = keys - keys / 2
        var backRequest = r
        backRequest.limit = keys / 2
        backRequest.sortOrder = .descend
        backRequest.sortTarget = .key
        let back = Back()
        let sibling = client.sibling()
        let work = BackgroundWork {
            do {
                _ = try sibling.rangeStreaming(backRequest, onHeader: { _ in }, onKVs: { kvs in
                    back.kvs += kvs
                    for kv in kvs { back.bytes += kv.key.count + kv.value.count + 64 }
                    if back.bytes > heldBytes { back.overBudget = true }
                }, stop: { back.overBudget })
            } catch {
                if !back.overBudget { back.error = error }
            }
        }
        defer { work.join() }
        var frontCount: Int64 = 0
        var lastFront: [UInt8] = []
        _ = try client.rangeStreaming(front, onHeader: { _ in }, onKVs: { kvs in
            sink.page(kvs, first: printed == 0)
            printed += Int64(kvs.count)
            frontCount += Int64(kvs.count)
            if let k = kvs.last?.key { lastFront = k }
        })
        work.join()
        if let e = back.error { throw e }
        if back.overBudget {
            back.kvs = []
            guard frontCount == front.limit else {
                throw GatewayError.malformedReply("the first half of the range held \(frontCount) key-values, not \(front.limit)")
            }
            return lastFront + [0]
        }
        guard frontCount == front.limit, Int64(back.kvs.count) == backRequest.limit,
              let firstBack = back.kvs.last?.key, lastFront.lexicographicallyPrecedes(firstBack) else {
            throw GatewayError.malformedReply("the two halves of the range do not meet (\(frontCount) + \(back.kvs.count) key-values for \(keys))")
        }
        var i = back.kvs.count
        while i > 0 {
            let lo = max(0, i - 1000)
            sink.page(back.kvs[lo..<i].reversed(), first: printed == 0)
            printed += Int64(i - lo)
            i = lo
        }
        return nil
    }

    /// The most key and value bytes the second half of a range read from both ends may hold.
    static let heldBytes = 12 << 20

    /// Reads the last `keys` key-values of [r.key, r.rangeEnd) at r.revision in pages of about `pageKeys`,
    /// each page requested while the one before it prints: pages are key ranges whose boundaries are chosen
    /// with `count_only` requests (KeySplitter), each fetched on a connection and thread of its own and
    /// printed in turn. The server builds the next page while the current one streams; a page waiting for
    /// its turn is held back by TCP, not in memory. The last page is read from both ends. Each page is
    /// checked to hold exactly the keys its count promised.
    ///
    /// Returns nil when the range is out; otherwise the key to go on from one page at a time, when no page
    /// boundary turned up within a few counts.
    static func readPipelined(_ r: RangeRequest, keys: Int64, pageKeys: Int64, sample: [[UInt8]],
                              client: GatewayClient, sink: RangeSink,
                              printed: inout Int64, log: (String) -> Void) throws -> [UInt8]? {
        var start = r.key
        var left = keys
        var pageKeys = pageKeys
        var current: PageFetch?
        var pending: PageFetch?
        defer {  // on an error: release and wait for whatever is still running
            for page in [current, pending].compactMap({ $0 }) { page.abandon() }
        }
        var stopped = false
        while left > pageKeys {
            let splitter = KeySplitter(start: start, end: r.rangeEnd, sample: sample)
            let from = start
            let boundary = try splitter.split(want: pageKeys, total: left, guess: nil) { key in
                var q = r
                q.key = from
                q.rangeEnd = key
                q.countOnly = true
                q.keysOnly = false
                q.limit = 0
                return try client.range(q).count
            }
            guard let (end, count) = boundary else {
                log("no page boundary found after \("\"" + String(decoding: start, as: UTF8.self) + "\""); reading page by page")
                stopped = true
                break
            }
            log("pipelined page of \(count) keys from \("\"" + String(decoding: start, as: UTF8.self) + "\""), requested while the one before prints")
            var q = r
            q.key = start
            q.rangeEnd = end
            q.limit = 0
            // A page's request runs while it waits for its turn, at most the time of the page before it, so it
            // gets twice the command timeout.
            let fetcher = client.sibling()
            fetcher.commandTimeoutMilliseconds = client.commandTimeoutMilliseconds.multipliedReportingOverflow(by: 2).overflow
                ? Int.max : client.commandTimeoutMilliseconds * 2
            pending = PageFetch(q, expected: count, client: fetcher, sink: sink)
            if let page = current {
                try page.finish()
                printed += page.printed
                // Size later pages by what this one held: values may grow along the range.
                if page.printed > 0 {
                    pageKeys = Int64(min(1_000_000, max(Int(bothEndsMinimum), pageBytes / max(1, page.replyBytes / Int(page.printed)))))
                }
            }
            pending?.start()
            current = pending
            pending = nil
            start = end
            left -= count
        }
        if let page = current {
            try page.finish()
            printed += page.printed
            current = nil
        }
        if stopped { return start }
        if left == 0 { return nil }
        var rest = r
        rest.key = start
        if left >= bothEndsMinimum {
            return try readFromBothEnds(rest, keys: left, client: client, sink: sink, printed: &printed)
        }
        rest.limit = 0
        var got: Int64 = 0
        _ = try client.rangeStreaming(rest, onHeader: { _ in }, onKVs: { kvs in
            sink.page(kvs, first: printed + got == 0)
            got += Int64(kvs.count)
        })
        printed += got
        guard got == left else {
            throw GatewayError.malformedReply("the last page held \(got) key-values, not the \(left) counted")
        }
        return nil
    }
}

/// One page of a pipelined get: fetched on its own connection in a thread as soon as it is created, printed
/// once it is given its turn (`start`), until then held back by TCP flow control.
final class PageFetch: @unchecked Sendable {
    private(set) var printed: Int64 = 0
    /// Estimated reply bytes of what was printed (as getInPages estimates them), to size later pages.
    private(set) var replyBytes = 0
    private var failure: (any Error)?
    private let abandoned = Atomic<Bool>(false)
    private let turn = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var work: BackgroundWork?
    private let expected: Int64

    init(_ request: RangeRequest, expected: Int64, client: GatewayClient, sink: RangeSink) {
        self.expected = expected
        sem_init(turn, 0, 0)
        work = BackgroundWork { [self] in
            var waited = false
            do {
                _ = try client.rangeStreaming(request, onHeader: { _ in }, onKVs: { kvs in
                    if !waited { sem_wait(turn); waited = true }
                    if abandoned.load(ordering: .acquiring) { return }
                    sink.page(kvs, first: false)
                    printed += Int64(kvs.count)
                    for kv in kvs { replyBytes += (kv.key.count + kv.value.count) * 4 / 3 + 120 }
                })
            } catch {
                failure = error
            }
        }
    }

    /// Lets the page print.
    func start() { sem_post(turn) }

    /// Waits until the page is out; throws what went wrong, or a count that does not match.
    func finish() throws {
        work?.join()
        work = nil
        if let failure { throw failure }
        if printed != expected {
            throw GatewayError.malformedReply("a page held \(printed) key-values, not the \(expected) counted")
        }
    }

    /// Stops printing and waits for the thread (after an error elsewhere).
    func abandon() {
        guard let w = work else { return }
        abandoned.store(true, ordering: .releasing)
        sem_post(turn)
        w.join()
        work = nil
    }

    deinit {
        abandon()
        sem_destroy(turn)
        turn.deallocate()
    }
}
