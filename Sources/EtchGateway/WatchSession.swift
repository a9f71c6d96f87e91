import EtchTransport
import Glibc

/// Where a watch must restart so that no event is lost or repeated (GATEWAY.md, "Watch stream").
///
/// After events: the last event's mod_revision + 1 (never the header's revision, which during catch-up is the
/// store's current revision, ahead of the events). After a progress notification: header revision + 1.
/// For a watch started at "now": the created header's revision + 1.
///
/// After a stream cut in the middle of a message, the complete events received so far are delivered too; then
/// the last revision may be only partly seen (a transaction's events share one revision), so the point stays
/// at that revision and remembers how many of its events were delivered, to drop them when they come again.
public struct ResumePoint: Equatable, Sendable {
    /// The revision to start from on reconnect; 0 until known ("now").
    public private(set) var nextRevision: Int64
    /// How many events of `nextRevision` were already delivered (after a salvaged partial message).
    public private(set) var deliveredAtNext = 0

    public init(startRevision: Int64) { nextRevision = startRevision }

    /// Advances the point past the events of a message cut short: the last revision may be incomplete.
    public mutating func observePartial(_ events: [Event]) {
        guard let last = events.last?.kv.modRevision else { return }
        let atLast = events.reversed().prefix { $0.kv.modRevision == last }.count
        // New events never precede the point, so when the last is at it, all of them are.
        if last == nextRevision { deliveredAtNext += atLast } else { nextRevision = last; deliveredAtNext = atLast }
    }

    /// The message whose parts were observed with `observePartial` is complete: its last revision was seen whole.
    public mutating func messageComplete() {
        if deliveredAtNext > 0 {
            nextRevision += 1
            deliveredAtNext = 0
        }
    }

    /// Events of `nextRevision` a previous connection delivered, still to be dropped on this one.
    public private(set) var toDrop = 0

    /// A new connection starts at `nextRevision`: its first events of that revision were already delivered.
    public mutating func beginConnection() { toDrop = deliveredAtNext }

    /// Drops the events a previous connection already delivered, from the first responses of a new one.
    public mutating func dropRedelivered(_ events: inout [Event]) {
        guard toDrop > 0 else { return }
        var dropped = 0
        while dropped < toDrop, dropped < events.count, events[dropped].kv.modRevision == nextRevision { dropped += 1 }
        if dropped > 0 { events.removeFirst(dropped) }
        toDrop = events.isEmpty ? toDrop - dropped : 0
    }

    /// Advances the point past what `response` delivered.
    public mutating func observe(_ response: WatchResponse) {
        if let last = response.events.last {
            nextRevision = max(nextRevision, last.kv.modRevision + 1)
            deliveredAtNext = 0
        } else if response.created {
            if nextRevision == 0 { nextRevision = response.header.revision + 1 }
        } else if response.isProgressNotify {
            nextRevision = max(nextRevision, response.header.revision + 1)
        }
    }
}

/// Joins `fragment:true` watch messages into the one response they split.
public struct FragmentJoiner: Sendable {
    private var pending: WatchResponse?

    public init() {}

    /// Returns the whole response once its last fragment has arrived, nil while more are due.
    public mutating func add(_ response: WatchResponse) -> WatchResponse? {
        if response.fragment {
            if pending == nil { pending = response } else { pending!.events += response.events }
            return nil
        }
        guard var whole = pending else { return response }
        pending = nil
        whole.events += response.events
        whole.header = response.header
        whole.fragment = false
        return whole
    }
}

/// The complete events at the start of a watch message that was cut off: the header and each event object
/// that arrived whole. Used only after a broken stream, so a connection cut every few KB still makes progress
/// through a catch-up message of hundreds of KB.
public func salvageEvents(_ partial: [UInt8]) -> (ResponseHeader, [Event])? {
    // The header comes before the events (protobuf field order), so the prefix up to them parses once closed.
    guard let (outer, start) = parsePrefix(partial, before: Array("\"events\":[".utf8), closing: "}}"),
          let result = outer["result"], let header = try? ResponseHeader(json: result["header"]) else { return nil }
    var events: [Event] = []
    var whole = true
    var scanner = JSONArrayScanner(at: start)
    partial.withUnsafeBufferPointer { b in
        scanner.scan(b) { object in
            guard let json = try? JSONParser.parse(object), let event = try? Event(json: json) else {
                whole = false
                return false
            }
            events.append(event)
            return true
        }
    }
    return whole && !scanner.foundNonObject ? (header, events) : nil
}

/// How one watch connection ended.
public enum WatchEnd: Sendable, Equatable {
    /// The consumer had enough (returned false).
    case stoppedByConsumer
    /// Ctrl-C or SIGTERM.
    case interrupted
    /// The server canceled the watch (compaction, auth, no leader); the response says why.
    case canceled(WatchResponse)
    /// The stream ended or broke after it was established; nil when it closed without a word.
    case broken(GatewayError?)
    /// The caller's deadline passed.
    case deadline
}

/// Timing rules of a watch connection.
public struct WatchTiming: Sendable {
    /// The server must confirm the watch (`created`) within this many milliseconds of the request.
    public var createMilliseconds: Int
    /// After this long without a byte, ask the server for a progress notification.
    public var probeAfterMilliseconds = 5_000
    /// After this long without a byte, even after a probe, the connection is taken as dead.
    public var deadAfterMilliseconds = 15_000
    /// Stop at this CLOCK_MONOTONIC time (nanoseconds), for `--timeout`; nil for never.
    public var stopAt: UInt64?

    public init(createMilliseconds: Int) { self.createMilliseconds = createMilliseconds }
}

/// A watch over the gateway's `/v3/watch` stream: decodes messages as bytes arrive, joins fragments, and
/// keeps the resume point so a broken stream can be re-created without losing or repeating events.
///
/// The request body stays open so that, when the stream has been silent for a while, a
/// `{"progress_request":{}}` can be sent: any answer proves the connection alive. Its answer (watch_id -1)
/// never moves the resume point, since before etcd 3.4.25 it may come before the watcher caught up.
public final class WatchSession {
    public let client: GatewayClient
    public private(set) var request: WatchCreateRequest
    public private(set) var resumePoint: ResumePoint
    /// Whether the server has confirmed the watch on some connection.
    public private(set) var established = false
    /// Set by the owner when a cancel that a stale token explains will be retried after authenticating again:
    /// such a cancel then ends the connection without being delivered.
    public var withholdTokenCancels = false
    /// Whether the last connection delivered a confirmation (so the reconnect backoff can start over).
    public private(set) var lastConnectionDelivered = false
    /// The endpoint of the last connection, for messages.
    public private(set) var lastEndpoint = ""
    /// Multiplies the dead-stream limit: doubled after a connection was given up as silent without delivering
    /// anything, because etcd 3.4 does not answer progress requests while a watcher is still catching up, and a
    /// big catch-up can take long to start; reset once data flows.
    public private(set) var patience = 1

    /// `resuming`: the watch continues one the command already had, or follows a read that reached the
    /// cluster (list-then-watch, wait), so failed connections are retried from the start, as after a break.
    public init(client: GatewayClient, request: WatchCreateRequest, resuming: Bool = false) {
        self.client = client
        self.established = resuming
        // Not `fragment: true`: through etcd 3.4.23's gateway a fragmented response never arrives (a revision
        // of 100,000 events: nothing in 35 s with it, the whole 7.4 MB line within 5 s without; measured with
        // curl). Fragments a server sends anyway are still joined.
        self.request = request
        self.resumePoint = ResumePoint(startRevision: request.startRevision)
    }

    /// Opens one stream at the resume point and delivers whole responses until it ends.
    ///
    /// Endpoints that cannot be connected to are skipped; when none can be, a watch that was never
    /// established throws (so it fails within the dial timeout), and an established one reports `.broken`.
    /// `deliver` returns false to stop.
    public func runConnection(timing: WatchTiming, deliver: (WatchResponse) -> Bool) throws(GatewayError) -> WatchEnd {
        var create = request
        create.startRevision = resumePoint.nextRevision
        resumePoint.beginConnection()
        let body = create.body() + [0x0A]
        var failures: [TransportError] = []
        lastConnectionDelivered = false
        for step in 0..<client.endpoints.count {
            let index = (client.current + step) % client.endpoints.count
            let url = client.watchURL(endpoint: index)
            lastEndpoint = client.endpoints[index].baseURL
            var decoder = WatchStreamDecoder()
            var joiner = FragmentJoiner()
            var partOpen = false
            var streamError: GatewayError?
            var end: WatchEnd?
            var errorBody: [UInt8] = []
            var sawCreated = false
            var probeSent = false
            var deadline: GatewayError?
            var pastStopTime = false

            func handle(_ line: UnsafeRawBufferPointer) {
                if end != nil || streamError != nil { return }
                let json: JSON
                do { json = try JSONParser.parse(line) } catch {
                    streamError = .malformedReply("watch stream line is not JSON (\(error.message))")
                    return
                }
                if let e = GatewayError.parseStreamError(json) { streamError = e; return }
                guard let result = json["result"] else {
                    streamError = .malformedReply("watch stream message has no result")
                    return
                }
                let piece: WatchResponse
                do { piece = try WatchResponse(json: result) } catch { streamError = error; return }
                probeSent = false
                patience = 1
                // The answer to our liveness probe has watch_id -1; so has a create the server refused (a
                // permission denied comes as created and canceled with watch_id -1), which must be delivered.
                if piece.watchID == -1 && !piece.created && !piece.canceled { return }
                guard var response = joiner.add(piece) else { return }
                if !response.events.isEmpty {
                    resumePoint.dropRedelivered(&response.events)
                    // All of it was delivered before the last cut: not a progress notification.
                    if response.events.isEmpty { return }
                }
                if response.created, !sawCreated {
                    sawCreated = true
                    established = true
                    lastConnectionDelivered = true
                    client.markCurrent(index)
                }
                resumePoint.observe(response)
                if response.canceled {
                    end = .canceled(response)
                    // Kept from the consumer while the owner will authenticate again and retry (ResilientWatch):
                    // shown only if it stands.
                    if withholdTokenCancels && GatewayClient.mayBeStaleTokenCancel(response.cancelReason) { return }
                }
                if !deliver(response) && end == nil { end = .stoppedByConsumer }
            }

            /// Hands on a part of a large message decoded as it arrived, keeping the resume point exact.
            func handlePart(_ piece: WatchResponse) {
                if end != nil || streamError != nil { return }
                var response = piece
                resumePoint.dropRedelivered(&response.events)
                if !response.events.isEmpty { resumePoint.observePartial(response.events) }
                if response.part == .last {
                    resumePoint.messageComplete()
                    if !partOpen {
                        // Everything before was delivered on an earlier connection.
                        if response.events.isEmpty { return }
                        response.part = .whole
                    }
                    partOpen = false
                } else {
                    if response.events.isEmpty { return }
                    response.part = partOpen ? .middle : .first
                    partOpen = true
                }
                if !deliver(response) && end == nil { end = .stoppedByConsumer }
            }

            func route(_ piece: WatchStreamDecoder.Piece) {
                switch piece {
                case let .line(line): handle(line)
                case let .part(response): handlePart(response)
                }
            }

            /// The unfinished last line of a stream that ended early (v1 sends its in-band error without a newline).
            var leftover: [UInt8] = []

            /// After a cut: deliver the whole events of the message that was cut short.
            func salvage() {
                let (partial, closing) = decoder.takePartial()
                leftover = partial
                if let closing, partOpen {
                    // A large message was being streamed: end it for the printers; its events so far are
                    // already counted in the resume point.
                    partOpen = false
                    _ = deliver(closing)
                    return
                }
                guard sawCreated, end == nil, !partial.isEmpty, let (header, found) = salvageEvents(partial) else { return }
                var events = found
                resumePoint.dropRedelivered(&events)
                guard !events.isEmpty else { return }
                resumePoint.observePartial(events)
                if !deliver(WatchResponse(header: header, events: events)) { end = .stoppedByConsumer }
            }

            let transport = client.transport
            let tick: () -> [UInt8]? = {
                if let stop = timing.stopAt, monotonicNanoseconds() >= stop {
                    pastStopTime = true
                    return nil
                }
                let quiet = transport.millisecondsSinceLastByte
                if !sawCreated {
                    if quiet > timing.createMilliseconds {
                        deadline = .timedOut(endpoint: self.client.endpoints[index].baseURL, limitMilliseconds: timing.createMilliseconds)
                        return nil
                    }
                    return []
                }
                if quiet > timing.deadAfterMilliseconds * self.patience {
                    deadline = .malformedReply("no data, not even an answer to a progress request, for \(quiet / 1000)s")
                    return nil
                }
                if quiet > timing.probeAfterMilliseconds && !probeSent {
                    probeSent = true
                    return Array("{\"progress_request\":{}}\n".utf8)
                }
                return []
            }
            let http = HTTPRequest(url: url, method: .post, headers: client.headers + ["Grpc-Metadata-Hasleader: true"])
            var status = 0
            do throws(TransportError) {
                let result = try transport.performDuplex(http, initialBody: body, onTick: tick) { chunk in
                    if !sawCreated, errorBody.count < 65536 { errorBody.append(contentsOf: chunk.prefix(65536)) }
                    decoder.feed(chunk, route)
                    if let e = decoder.error, streamError == nil { streamError = e }
                    return end == nil && streamError == nil
                }
                status = result.status
                decoder.finish(route)
            } catch {
                if error.kind != .aborted { salvage() }
                if let end { return end }
                if pastStopTime { return .deadline }
                // The server may have said why before it closed: an error status with etcd's error body (or a
                // proxy's page), or an in-band error as the last, unfinished line.
                // (A status below 200 is only curl's "100 Continue".)
                if !sawCreated, streamError == nil, error.httpStatus > 200 {
                    streamError = GatewayError.parseErrorBody(errorBody, httpStatus: error.httpStatus)
                        ?? .http(status: error.httpStatus, endpoint: client.endpoints[index].baseURL, snippet: GatewayClient.snippet(errorBody))
                }
                if !sawCreated, streamError == nil, error.kind == .broken, error.httpStatus < 200, errorBody.isEmpty {
                    streamError = .emptyReply(endpoint: client.endpoints[index].baseURL)
                }
                if streamError == nil, let json = try? JSONParser.parse(leftover), let e = GatewayError.parseStreamError(json) {
                    streamError = e
                }
                if let streamError { return established ? .broken(streamError) : try throwing(streamError) }
                if let deadline {
                    if sawCreated { patience = min(patience * 2, 16) }
                    return established ? .broken(deadline) : try throwing(deadline)
                }
                if error.kind == .aborted { return Interrupt.requested ? .interrupted : .stoppedByConsumer }
                if !error.mayHaveReachedServer {
                    failures.append(error)
                    continue
                }
                if !established { throw .transport(error) }
                return .broken(.transport(error))
            }
            if status != 200 {
                let e = GatewayError.parseErrorBody(errorBody, httpStatus: status)
                    ?? .http(status: status, endpoint: client.endpoints[index].baseURL, snippet: GatewayClient.snippet(errorBody))
                if !established { throw e }
                return .broken(e)
            }
            if let end { return end }
            // A stream that ends before the watch exists is a failure to create it, not a break to retry.
            if !established { throw streamError ?? .malformedReply("the watch stream ended before the watch was created") }
            return .broken(streamError)
        }
        if !established { throw .unreachable(failures) }
        return .broken(.unreachable(failures))
    }

    private func throwing(_ e: GatewayError) throws(GatewayError) -> WatchEnd { throw e }
}

/// How a resilient watch ended.
public enum WatchOutcome: Sendable, Equatable {
    case stoppedByConsumer
    case interrupted
    /// The server canceled the watch; for a compaction, `compactRevision` is set.
    case canceled(WatchResponse)
    /// No connection succeeded within the retry timeout; the last error says why.
    case gaveUp(GatewayError?)
    /// The deadline in the timing passed.
    case deadline
}

/// Keeps a watch going across broken connections: reconnects at once, then with jittered exponential backoff
/// up to about 2 s (reset when a connection delivers), moving to the next endpoint each time, and re-creates
/// the watch at its resume point so no event is lost or repeated.
public final class ResilientWatch {
    public let session: WatchSession
    public var timing: WatchTiming
    /// Give up after this long without a working connection; nil retries forever.
    public var retryTimeoutMilliseconds: Int?
    /// One line per reconnect, for stderr.
    public var notice: (String) -> Void = { _ in }

    public init(session: WatchSession, timing: WatchTiming) {
        self.session = session
        self.timing = timing
    }

    public func run(deliver: (WatchResponse) -> Bool) throws(GatewayError) -> WatchOutcome {
        var reconnect = Reconnect(retryTimeoutMilliseconds: retryTimeoutMilliseconds)
        var justAuthenticated = false
        while true {
            session.withholdTokenCancels = session.client.credentials != nil && !justAuthenticated
            let end = try session.runConnection(timing: timing, deliver: deliver)
            switch end {
            case .stoppedByConsumer: return .stoppedByConsumer
            case .interrupted: return .interrupted
            case .deadline: return .deadline
            case let .canceled(r):
                // A token that expired or that this member does not know (after a restart or a failover): the
                // reconnect below authenticates again and re-creates the watch at its resume point. Refused
                // again right after that, it is not the token: the cancel stands.
                // etcd 3.5 answers a create whose token it cannot read with "permission denied" (its watch server
                // checks permission with the token): after a restart the token is unknown. A real denial comes
                // again right after a fresh token and stands.
                guard session.client.credentials != nil, !justAuthenticated, GatewayClient.mayBeStaleTokenCancel(r.cancelReason)
                else { return .canceled(r) }
                // Said only when the server said it was the token: a denial that stands prints nothing more.
                if GatewayClient.isStaleToken(r.cancelReason) {
                    notice("etch: \(session.lastEndpoint) refused the auth token (\(GatewayError.printable(r.cancelReason))); authenticating again")
                }
                justAuthenticated = try session.client.renewTokenForReconnect()
                if !justAuthenticated { reconnect.pause() }  // the cluster is busy (an election)
            case let .broken(reason):
                if let stop = timing.stopAt, monotonicNanoseconds() >= stop { return .deadline }
                if Interrupt.requested { return .interrupted }
                var garbled = false
                if case .malformedReply = reason { garbled = true }
                guard reconnect.ended(working: session.lastConnectionDelivered && !garbled) else { return .gaveUp(reason) }
                notice("etch: watch stream from \(session.lastEndpoint) broke (\(reason?.message ?? "closed by the server")); reconnecting at revision \(session.resumePoint.nextRevision)")
                justAuthenticated = try reconnect.advance(session.client)
            }
        }
    }
}

/// Reconnect delays: the first retry at once, then jittered exponential up to about 2 s.
public struct Backoff: Sendable {
    private var attempt = 0

    public init() {}

    /// Milliseconds to wait before the next attempt.
    public mutating func next() -> Int {
        defer { attempt += 1 }
        if attempt == 0 { return 0 }
        let base = min(2000, 50 << min(attempt, 6))
        return base / 2 + Int.random(in: 0...(base / 2))
    }

    public mutating func reset() { attempt = 0 }

    /// Sleeps `milliseconds` in short steps, returning early on an interrupt.
    public static func sleep(milliseconds: Int) {
        var waited = 0
        while waited < milliseconds && !Interrupt.requested {
            usleep(20_000)
            waited += 20
        }
    }
}
