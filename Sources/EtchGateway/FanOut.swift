import EtchTransport
import Synchronization

/// One endpoint's answer to a call made on every endpoint.
public struct EndpointResult<T: Sendable>: Sendable {
    public let endpoint: Endpoint
    public let result: Result<T, GatewayError>
    /// How long the call took, in nanoseconds.
    public let elapsedNanoseconds: UInt64
    /// The order in which the answers came (0 first): etcdctl prints health results as they complete.
    public let completion: Int
}

extension GatewayClient {
    /// A client for `endpoint` alone, with the same options, token and credentials, and a connection of its own:
    /// calls to it never move on to another endpoint.
    public func single(_ endpoint: Endpoint) -> GatewayClient {
        let c = GatewayClient(endpoints: [endpoint], transport: HTTPTransport(options: transport.options),
                              commandTimeoutMilliseconds: commandTimeoutMilliseconds)
        c.authToken = authToken
        c.credentials = credentials
        return c
    }

    /// Runs `body` against each of `endpoints` (all of this client's by default) at once, each on its own
    /// thread and connection, and returns the results in the endpoints' order. Used where etcdctl talks to each
    /// endpoint rather than to the cluster (endpoint health and status, defrag), so one dead member costs one
    /// timeout, not one per member.
    public func fanOut<T: Sendable>(_ endpoints: [Endpoint]? = nil,
                                    _ body: @escaping @Sendable (GatewayClient) throws(GatewayError) -> T) -> [EndpointResult<T>] {
        let targets = endpoints ?? self.endpoints
        let clients = targets.map { single($0) }
        let done = Mutex<Int>(0)
        let slots = clients.map { _ in ResultSlot<T>() }
        var workers: [BackgroundWork] = []
        for (i, client) in clients.enumerated() {
            let slot = slots[i]
            let started = monotonicNanoseconds()
            nonisolated(unsafe) let c = client
            workers.append(BackgroundWork {
                let r: Result<T, GatewayError>
                do throws(GatewayError) { r = .success(try body(c)) } catch { r = .failure(error) }
                let elapsed = monotonicNanoseconds() - started
                let order = done.withLock { n -> Int in
                    defer { n += 1 }
                    return n
                }
                slot.value = EndpointResult(endpoint: targets[i], result: r, elapsedNanoseconds: elapsed, completion: order)
            })
        }
        for w in workers { w.join() }
        return slots.map { $0.value! }
    }
}

/// Where one fan-out thread leaves its result; read after the thread is joined.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    var value: EndpointResult<T>?
}
