import EtchTransport
import Glibc
import Synchronization

/// What one load run measured, as etcd's `pkg/report` computes it for `etcdctl check`: latencies of the
/// successful requests, failures counted by message, requests per second over the whole run.
public struct LoadStats: Sendable {
    /// Latencies of successful requests in seconds, sorted.
    public var latencies: [Double] = []
    /// Failed requests, by error message.
    public var errors: [String: Int] = [:]
    /// From the start of the run until the last request ended, in seconds.
    public var totalSeconds: Double = 0

    public var requestsPerSecond: Double { totalSeconds > 0 ? Double(latencies.count) / totalSeconds : 0 }
    public var slowest: Double { latencies.last ?? 0 }
    public var average: Double { latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count) }
    /// The population standard deviation of the latencies.
    public var stddev: Double {
        guard !latencies.isEmpty else { return 0 }
        let mean = average
        return (latencies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(latencies.count)).squareRoot()
    }
}

/// Puts of random keys under a prefix from many connections at once, each on a thread of its own with its own
/// connection (as etcdctl's check uses one client per simulated client): either at a fixed rate for a time
/// (`check perf`: a token every 1/rate seconds, no burst) or a fixed number as fast as they go (`check
/// datascale`). Keys are `prefix` + `keySize` bytes starting with a random varint (etcdctl's keys); values are
/// `valueSize` zero bytes.
public final class PutLoad: @unchecked Sendable {
    public struct Plan: Sendable {
        public var clients: Int
        public var prefix: [UInt8]
        public var keySize: Int
        public var valueSize: Int
        /// Requests per second, and for how long (nanoseconds); nil: `count` requests unthrottled.
        public var rate: (perSecond: Int, nanoseconds: UInt64)?
        public var count: Int
        public init(clients: Int, prefix: [UInt8], keySize: Int, valueSize: Int, rate: (perSecond: Int, nanoseconds: UInt64)?, count: Int) {
            self.clients = clients
            self.prefix = prefix
            self.keySize = keySize
            self.valueSize = valueSize
            self.rate = rate
            self.count = count
        }
    }

    private let plan: Plan
    /// Requests finished so far (for progress).
    public let completed = Atomic<Int>(0)
    private let finishedWorkers = Atomic<Int>(0)
    private let claimed = Atomic<Int>(0)
    private let slot = Mutex<UInt64>(0)
    private var start: UInt64 = 0

    public init(_ plan: Plan) { self.plan = plan }

    /// Runs the load through connections like `client`'s; `tick` is called on this thread about five times a
    /// second until every request has ended.
    public func run(_ client: GatewayClient, tick: () -> Void) -> LoadStats {
        let valueText = Base64.encode([UInt8](repeating: 0, count: plan.valueSize))
        start = monotonicNanoseconds()
        slot.withLock { $0 = start }
        let results = (0..<plan.clients).map { _ in WorkerResult() }
        var workers: [BackgroundWork] = []
        for i in 0..<plan.clients {
            nonisolated(unsafe) let c = client.sibling()
            let result = results[i]
            workers.append(BackgroundWork { [self] in
                work(c, valueText: valueText, into: result)
                finishedWorkers.add(1, ordering: .releasing)
            })
        }
        while finishedWorkers.load(ordering: .acquiring) < plan.clients {
            tick()
            usleep(200_000)
        }
        for w in workers { w.join() }
        var stats = LoadStats()
        stats.totalSeconds = Double(monotonicNanoseconds() - start) / 1e9
        for r in results {
            stats.latencies += r.latencies
            for (k, v) in r.errors { stats.errors[k, default: 0] += v }
        }
        stats.latencies.sort()
        return stats
    }

    /// The send time of the next request, or nil when the run is over. Rate-limited: the next token (no
    /// burst, so a late request does not make the next one early); unlimited: at once, until `count`.
    private func nextSendTime() -> UInt64? {
        guard let rate = plan.rate else {
            return claimed.add(1, ordering: .relaxed).oldValue < plan.count ? 0 : nil
        }
        let interval = 1_000_000_000 / UInt64(max(1, rate.perSecond))
        let end = start + rate.nanoseconds
        return slot.withLock { next -> UInt64? in
            let t = max(next, monotonicNanoseconds())
            if t >= end { return nil }
            next = t + interval
            return t
        }
    }

    private func work(_ c: GatewayClient, valueText: String, into result: WorkerResult) {
        var rng = SystemRandomNumberGenerator()
        while let at = nextSendTime() {
            let now = monotonicNanoseconds()
            if at > now {
                var ts = timespec(tv_sec: Int((at - now) / 1_000_000_000), tv_nsec: Int((at - now) % 1_000_000_000))
                nanosleep(&ts, nil)
            }
            var key = plan.prefix
            key += varint(Int64.random(in: 0..<Int64.max, using: &rng), size: plan.keySize)
            var body = Array("{\"key\":\"".utf8)
            Base64.encode(key, into: &body)
            body += Array("\",\"value\":\"".utf8) + Array(valueText.utf8) + Array("\"}".utf8)
            let sent = monotonicNanoseconds()
            do {
                _ = try c.call("/kv/put", body)
                result.latencies.append(Double(monotonicNanoseconds() - sent) / 1e9)
            } catch {
                result.errors[error.message, default: 0] += 1
            }
            completed.add(1, ordering: .relaxed)
        }
    }

    /// Go's binary.PutVarint of `v` into a zeroed buffer of `size` bytes (zig-zag, then 7 bits a byte).
    func varint(_ v: Int64, size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var u = UInt64(bitPattern: v << 1) ^ UInt64(bitPattern: v >> 63)
        var i = 0
        while u >= 0x80 && i < size {
            out[i] = UInt8(truncatingIfNeeded: u) | 0x80
            u >>= 7
            i += 1
        }
        if i < size { out[i] = UInt8(u) }
        return out
    }
}

/// One worker's measurements, read after its thread is joined.
private final class WorkerResult: @unchecked Sendable {
    var latencies: [Double] = []
    var errors: [String: Int] = [:]
}

extension GatewayClient {
    /// `GET /metrics` on the current endpoint: etcd's Prometheus text.
    public func metrics() throws(GatewayError) -> String {
        var reply: [UInt8] = []
        let answer = try send(path: "/metrics", method: .get, body: [], prefixed: false) { chunk in
            reply.append(contentsOf: chunk)
            return true
        }
        if answer.status != 200 {
            throw .http(status: answer.status, endpoint: answer.endpoint.baseURL, snippet: GatewayClient.snippet(reply))
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
