import EtchGateway
import EtchTransport

/// One `--command-timeout` shared by the several calls of a command, as etcdctl gives a command one context
/// (move-leader's statuses and transfer; alarm disarm's list and deactivations).
struct CommandDeadline {
    private let end: UInt64

    init(milliseconds: Int) { end = monotonicNanoseconds() + UInt64(max(0, milliseconds)) * 1_000_000 }

    /// The time left in milliseconds, at least 1 (an expired deadline fails the next call at once).
    var remainingMilliseconds: Int {
        let now = monotonicNanoseconds()
        return now >= end ? 1 : max(1, Int((end - now) / 1_000_000))
    }

    /// Limits `client`'s next calls to the time left.
    func limit(_ client: GatewayClient) { client.commandTimeoutMilliseconds = remainingMilliseconds }
}
