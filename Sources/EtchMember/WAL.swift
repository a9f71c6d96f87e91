import EtchBolt


/// etcd's write-ahead log (wal/): records of walpb.Record, each framed by a little-endian 64-bit length whose
/// top byte, when the record is padded to 8 bytes, is 0x80 | the pad length; each record's CRC-32C chains over
/// the data of every record before it.
struct WALEncoder {
    enum RecordType: Int64 { case metadata = 1, entry = 2, state = 3, crc = 4, snapshot = 5 }

    /// wal.SegmentSizeBytes: etcd allocates each WAL file at this size.
    static let segmentSize = 64 * 1000 * 1000

    private(set) var bytes: [UInt8] = []
    private var crc = CRC32C()

    mutating func append(_ type: RecordType, _ data: [UInt8]?) {
        if let data { crc.update(data) }
        let record = WALRecord(type: type.rawValue, crc: crc.value, data: data).marshal()
        let pad = (8 - record.count % 8) % 8
        var length = UInt64(record.count)
        if pad != 0 { length |= UInt64(0x80 | pad) << 56 }
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        bytes += record
        bytes += [UInt8](repeating: 0, count: pad)
    }

    /// The first WAL of a restored member, as etcdctl's restore writes it: wal.Create (a CRC record, the
    /// metadata, an empty snapshot record), Save (the entries adding each member, the hard state), then the
    /// snapshot record at the last entry.
    static func restoredMember(nodeID: UInt64, clusterID: UInt64, entries: [RaftEntry], hardState: HardState) -> [UInt8] {
        var w = WALEncoder()
        w.append(.crc, nil)
        w.append(.metadata, MemberMetadata(nodeID: nodeID, clusterID: clusterID).marshal())
        w.append(.snapshot, WALSnapshot(index: 0, term: 0).marshal())
        for e in entries { w.append(.entry, e.marshal()) }
        w.append(.state, hardState.marshal())
        w.append(.snapshot, WALSnapshot(index: hardState.commit, term: hardState.term).marshal())
        return w.bytes
    }
}
