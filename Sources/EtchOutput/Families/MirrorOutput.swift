import EtchGateway

public enum MirrorOutput {
    /// etcdctl prints the count alone, whatever `-w` says; `jsonl` adds the revisions and the lag.
    public static let progress = Output<MirrorProgress>.text({ p, out in
        out.appendInt(p.keys)
        out.append(0x0A)
    }, jsonl: { p in
        [.object([("keys", .int(p.keys)), ("phase", .string(p.watching ? "watching" : "copying")),
                  ("applied_revision", .int(p.appliedRevision)), ("source_revision", .int(p.sourceRevision)),
                  ("lag", .int(p.lag))])]
    })
}
