import EtchTransport

/// Where a watch must restart so that no event is lost or repeated (GATEWAY.md, "Watch stream").
///
/// After events: the last event's mod_revision + 1 (never the header's revision, which during catch-up is the
/// store's current revision, ahead of the events). After a progress notification: header revision + 1.
/// For a watch started at "now": the created header's revision + 1.
public struct ResumePoint: Equatable, Sendable {
    /// The revision to start from on reconnect; 0 until known ("now").
    public private(set) var nextRevision: Int64

    public init(startRevision: Int64) { nextRevision = startRevision }

    /// Advances the point past what `response` delivered.
    public mutating func observe(_ response: WatchResponse) {
        if let last = response.events.last {
            nextRevision = max(nextRevision, last.kv.modRevision + 1)
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
}

/// A watch over the gateway's `/v3/watch` stream: decodes messages as bytes arrive, joins fragments, and
/// keeps the resume point so a broken stream can be re-created without losing or repeating events.
public final class WatchSession {
    public let client: GatewayClient
    public private(set) var request: WatchCreateRequest
    public private(set) var resumePoint: ResumePoint
    /// Whether the server has confirmed the watch on some connection.
    public private(set) var established = false
    /// Called with one line per notable stream event when `--debug` is on.
    public var debugLog: ((String) -> Void)?

    public init(client: GatewayClient, request: WatchCreateRequest) {
        self.client = client
        self.request = request
        self.resumePoint = ResumePoint(startRevision: request.startRevision)
    }

    /// Opens one stream at the resume point and delivers whole responses until it ends.
    ///
    /// Before the watch is established, connection failures try the next endpoint and then throw, so a
    /// watch on an unreachable cluster fails within the dial timeout instead of hanging.
    /// `deliver` returns false to stop.
    public func runConnection(createTimeoutMilliseconds: Int, idleAfterCreate: Int = 0, deliver: (WatchResponse) -> Bool) throws(GatewayError) -> WatchEnd {
        var create = request
        create.startRevision = resumePoint.nextRevision
        let body = create.body()
        var failures: [TransportError] = []
        for step in 0..<client.endpoints.count {
            let index = (client.current + step) % client.endpoints.count
            let url = client.watchURL(endpoint: index)
            var framer = LineFramer()
            var joiner = FragmentJoiner()
            var streamError: GatewayError?
            var end: WatchEnd?
            var errorBody: [UInt8] = []
            var sawCreated = false

            func handle(_ line: UnsafeRawBufferPointer) {
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
                guard let response = joiner.add(piece) else { return }
                if response.created, !sawCreated {
                    sawCreated = true
                    established = true
                    client.markCurrent(index)
                    client.transport.setIdleLimit(milliseconds: idleAfterCreate)
                }
                resumePoint.observe(response)
                if response.canceled { end = .canceled(response) }
                if !deliver(response) && end == nil { end = .stoppedByConsumer }
            }

            let http = HTTPRequest(url: url, method: .post, body: body,
                                   headers: client.headers + ["Grpc-Metadata-Hasleader: true"],
                                   timeoutMilliseconds: 0,
                                   idleTimeoutMilliseconds: createTimeoutMilliseconds)
            var status = 0
            do throws(TransportError) {
                let result = try client.transport.perform(http) { chunk in
                    // Until headers say otherwise, assume a stream; an error status body is collected.
                    if errorBody.count < 65536, !sawCreated { errorBody.append(contentsOf: chunk.prefix(65536)) }
                    framer.feed(chunk, handle)
                    return end == nil && streamError == nil
                }
                status = result.status
                framer.finish(handle)
            } catch {
                if let end { return end }
                if let streamError { return .broken(streamError) }
                if error.kind == .aborted { return Interrupt.requested ? .interrupted : .stoppedByConsumer }
                if !error.mayHaveReachedServer && !established {
                    failures.append(error)
                    continue
                }
                if !established {
                    if error.kind == .idle {
                        throw .timedOut(endpoint: client.endpoints[index].baseURL, limitMilliseconds: createTimeoutMilliseconds)
                    }
                    throw .transport(error)
                }
                return .broken(.transport(error))
            }
            if status != 200 {
                if let e = GatewayError.parseErrorBody(errorBody, httpStatus: status) { throw e }
                throw .http(status: status, endpoint: client.endpoints[index].baseURL, snippet: GatewayClient.snippet(errorBody))
            }
            if let end { return end }
            if !established, let streamError { throw streamError }
            return .broken(streamError)
        }
        throw .unreachable(failures)
    }
}
