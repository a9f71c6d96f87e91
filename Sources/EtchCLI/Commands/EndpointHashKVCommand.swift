import EtchBolt
import EtchGateway
import EtchOutput
import Glibc

/// `etch endpoint hashkv [--rev]`: the hash of each member's key-value history, the value etcdctl's gRPC HashKV
/// returns. From etcd 3.5.10 the gateway serves it; before (its path is 404) etch computes the member's own
/// HashKV from a snapshot streamed from it, with the bbolt reader.
enum EndpointHashKVCommand {
    static let spec = CommandSpec(
        name: "hashkv", summary: "Prints the KV history hash for each endpoint in --endpoints", arguments: "",
        description: "Prints each endpoint's HashKV: a CRC-32C of its key-value history up to --rev (default: its current revision), keeping what compaction kept; members of a healthy cluster agree. Where the gateway has /v3/maintenance/hashkv (etcd 3.5.10 and later) etch asks for it; on older servers (3.4, 3.5 before 3.5.10, whose gateway has no HashKV) etch streams a snapshot of the member's database into a temporary file, computes the same hash the member would (mvcc's HashByRev over bucket \"key\"), and deletes the file; --debug says which. That costs a transfer of the whole database per endpoint. A revision at or below the compaction, or above the current one, fails as with etcdctl (`Failed to get the hash of endpoint X (why)` on stderr, the others printed, exit 1).",
        examples: [("etch endpoint hashkv --cluster", "every member's hash: they should be equal"),
                   ("etch endpoint hashkv --cluster -w jsonl | jq -s 'map(.hash) | unique | length == 1'", "true when the members agree")],
        flags: [FlagSpec("rev", .int64, default: "0", "maximum revision to hash (default: all revisions)")],
        run: run)

    static func run(_ ctx: Context) throws -> ExitCode {
        let output = MaintenanceOutput.hashKV
        let format = try ctx.format(for: output)
        let revision = Int64(ctx.arguments.string("rev") ?? "0") ?? 0
        let client = try ctx.makeClient()
        let targets = try ctx.endpointTargets(cluster: ctx.arguments.bool("cluster"), client: client)
        let asked = client.fanOut(targets.map(\.endpoint)) { single throws(GatewayError) in
            try single.unary(HashKVRequest(revision: revision))
        }
        var list: [EndpointHashKV] = []
        var lastError: String?
        for (i, (target, r)) in zip(targets, asked).enumerated() {
            var result = r.result
            if case let .failure(error) = result, hasNoHashKV(error) {
                ctx.debug("\(target.display): the gateway has no /v3/maintenance/hashkv (etcd before 3.5.10); computing the member's HashKV from a streamed snapshot")
                result = computed(ctx, client.single(target.endpoint), revision: revision, index: i)
            }
            switch result {
            case let .success(reply): list.append(EndpointHashKV(endpoint: target.display, hashKV: reply))
            case let .failure(error):
                lastError = error.message
                ctx.stderr.append("Failed to get the hash of endpoint \(target.display) (\(error.message))\n")
            }
        }
        ctx.stderr.flush()
        try ctx.emit(list, output, as: format)
        if let lastError { throw CLIError(.error, lastError) }
        return .success
    }

    /// A gateway without the HashKV route answers 404 (plain text before 3.5, gRPC NotFound in JSON after).
    static func hasNoHashKV(_ error: GatewayError) -> Bool {
        switch error {
        case let .http(status, _, _): return status == 404
        case let .server(code, message, status): return status == 404 && (code == GatewayError.Code.notFound || message == "Not Found")
        default: return false
        }
    }

    /// The member's HashKV computed locally: its header from a status call, then a snapshot of its database
    /// into a temporary file (removed afterwards) and mvcc's HashByRev over it.
    static func computed(_ ctx: Context, _ member: GatewayClient, revision: Int64, index: Int) -> Result<HashKVResponse, GatewayError> {
        let header: ResponseHeader?
        do { header = try member.unary(StatusRequest()).header } catch { return .failure(error) }
        let directory = ctx.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let target: SnapshotTarget
        do { target = try SnapshotTarget(path: "\(directory)/etch-hashkv-\(getpid())-\(index).db") } catch {
            return .failure(.malformedReply("cannot compute HashKV locally: \(error.message)"))
        }
        defer { target.discard() }
        do {
            let summary = try member.snapshot(
                stallMilliseconds: 30_000,
                totalMilliseconds: ctx.globals.commandTimeoutGiven ? ctx.commandTimeoutMilliseconds : 0,
                sink: { (bytes: UnsafeRawBufferPointer) throws(SnapshotError) in try target.write(bytes) })
            ctx.debug("snapshot of \(summary.size) bytes, sha256 verified, in \(target.partPath)")
        } catch {
            if ctx.interrupted { ctx.exitBySignal() }
            if case let .gateway(g) = error { return .failure(g) }
            return .failure(.malformedReply("cannot compute HashKV locally: the snapshot failed: \(error)"))
        }
        let outcome: Result<KVHash.Result, KVHash.Refusal>
        do { outcome = try KVHash.compute(path: target.partPath, revision: revision) } catch {
            return .failure(.malformedReply("cannot compute HashKV locally: \(error.message)"))
        }
        switch outcome {
        case let .failure(refusal): return .failure(.server(code: GatewayError.Code.outOfRange, message: refusal.message, httpStatus: 400))
        case let .success(h):
            ctx.debug("HashKV computed at revision \(revision == 0 ? h.currentRevision : revision): current revision \(h.currentRevision), compact revision \(h.compactRevision)")
            var reply = HashKVResponse(header: header, hash: h.hash, compact_revision: h.compactRevision)
            reply.header?.revision = h.currentRevision
            return .success(reply)
        }
    }
}
