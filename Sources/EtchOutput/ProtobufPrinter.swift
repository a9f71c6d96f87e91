import EtchGateway

/// etcdctl's `protobuf` format: the response message's protobuf encoding, no newline (`fmt.Print` of the
/// bytes). A get is written as it streams: the header, each key-value, then `more` and `count`, which is the
/// order of their field numbers, so the bytes are those of the whole message.
public struct ProtobufPrinter: Printer {
    public init() {}

    public func getBegin(_ header: ResponseHeader, to out: OutputBuffer) {
        out.append(EncodedValue.protobufField(1, .of(header)))
    }

    public func getPage(_ kvs: [KeyValue], first: Bool, to out: OutputBuffer) {
        for kv in kvs {
            out.append(EncodedValue.protobufField(2, .of(kv)))
            out.flushIfLarge()
        }
    }

    public func getEnd(more: Bool, count: Int64, anyKVs: Bool, to out: OutputBuffer) {
        out.append(EncodedValue.protobufField(3, .bool(more)))
        out.append(EncodedValue.protobufField(4, .int(count)))
    }

    public func put(_ r: PutResponse, to out: OutputBuffer) { out.append(EncodedValue.of(r).protobuf()) }

    public func delete(_ r: DeleteRangeResponse, to out: OutputBuffer) { out.append(EncodedValue.of(r).protobuf()) }

    /// etcdctl's `pb.WatchResponse{Header, Events, CompactRevision, Canceled, Created}`: fields 1, 3, 4, 5 and
    /// the events as field 11.
    public func watch(_ r: WatchResponse, to out: OutputBuffer) {
        if r.part == .whole || r.part == .first {
            out.append(EncodedValue.protobufField(1, .of(r.header)))
            out.append(EncodedValue.protobufField(3, .bool(r.created)))
            out.append(EncodedValue.protobufField(4, .bool(r.canceled)))
            out.append(EncodedValue.protobufField(5, .int(r.compactRevision)))
        }
        for e in r.events {
            out.append(EncodedValue.protobufField(11, .of(e)))
            out.flushIfLarge()
        }
    }
}
