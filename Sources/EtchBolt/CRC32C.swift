#if arch(x86_64)
import _Builtin_intrinsics.intel
import _Builtin_intrinsics.intel.cpuid
#endif

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Go's `crc32.MakeTable(crc32.Castagnoli)`: the hash
/// etcd's snapshot status, HashKV and WAL records use. On x86-64 with SSE4.2 (checked at run time) the CPU's
/// crc32 instruction does it, 8 bytes at a time, as Go's does; elsewhere slicing-by-8 tables.
public struct CRC32C: Sendable {
    /// The running value, complemented as Go keeps it (so `value` is the final sum at any point).
    public private(set) var value: UInt32

    public init(_ initial: UInt32 = 0) { value = initial }

    /// Eight 256-entry tables: table 0 is the classic byte table, table k advances a byte k positions further.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            var c = t[i]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + i] = c
            }
        }
        return t
    }()

    /// Whether this CPU has SSE4.2's crc32 instruction (CPUID leaf 1, ECX bit 20).
    static let hardware: Bool = {
        #if arch(x86_64)
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
        return __get_cpuid(1, &a, &b, &c, &d) != 0 && c & (1 << 20) != 0
        #else
        return false
        #endif
    }()

    /// Adds bytes to the sum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        #if arch(x86_64)
        if Self.hardware {
            value = Self.hardwareUpdate(value, bytes)
            return
        }
        #endif
        value = Self.tableUpdate(value, bytes)
    }

    #if arch(x86_64)
    /// Bytes per stream in the three-stream loop: long inputs run three independent crc32 chains (the
    /// instruction's latency is three times its throughput) and join them with `shift`.
    static let block = 8192

    /// The CRC register after `block` zero bytes, from any register: linear in the register, so four 256-entry
    /// tables built from the 32 single-bit registers.
    static let shiftTables: [UInt32] = {
        var basis = [UInt32](repeating: 0, count: 32)
        for bit in 0..<32 {
            var r = UInt64(UInt32(1) << UInt32(bit))
            for _ in 0..<(block / 8) { r = _mm_crc32_u64(r, 0) }
            basis[bit] = UInt32(truncatingIfNeeded: r)
        }
        var t = [UInt32](repeating: 0, count: 4 * 256)
        for k in 0..<4 {
            for b in 0..<256 {
                var v: UInt32 = 0
                for i in 0..<8 where b & (1 << i) != 0 { v ^= basis[k * 8 + i] }
                t[k * 256 + b] = v
            }
        }
        return t
    }()

    @inline(__always) static func shift(_ r: UInt32, _ t: UnsafeBufferPointer<UInt32>) -> UInt32 {
        t[Int(r & 0xFF)] ^ t[256 + Int((r >> 8) & 0xFF)] ^ t[512 + Int((r >> 16) & 0xFF)] ^ t[768 + Int(r >> 24)]
    }

    static func hardwareUpdate(_ value: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = UInt64(~value)
        var i = 0
        let n = bytes.count
        if n >= 3 * block {
            shiftTables.withUnsafeBufferPointer { t in
                while n - i >= 3 * block {
                    var a = crc, b: UInt64 = 0, c: UInt64 = 0
                    var j = i
                    let end = i + block
                    while j < end {
                        a = _mm_crc32_u64(a, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: j, as: UInt64.self)))
                        b = _mm_crc32_u64(b, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: j + block, as: UInt64.self)))
                        c = _mm_crc32_u64(c, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: j + 2 * block, as: UInt64.self)))
                        j += 8
                    }
                    let ab = shift(UInt32(truncatingIfNeeded: a), t) ^ UInt32(truncatingIfNeeded: b)
                    crc = UInt64(shift(ab, t) ^ UInt32(truncatingIfNeeded: c))
                    i += 3 * block
                }
            }
        }
        while n - i >= 8 {
            crc = _mm_crc32_u64(crc, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        var c32 = UInt32(truncatingIfNeeded: crc)
        while i < n {
            c32 = _mm_crc32_u8(c32, bytes[i])
            i += 1
        }
        return ~c32
    }
    #endif

    static func tableUpdate(_ value: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = ~value
        Self.tables.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while n - i >= 8 {
                let lo = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                    | UInt32(bytes[i + 3]) << 24
                let x = crc ^ lo
                crc = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(bytes[i + 4])] ^ t[2 * 256 + Int(bytes[i + 5])]
                    ^ t[1 * 256 + Int(bytes[i + 6])] ^ t[Int(bytes[i + 7])]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return ~crc
    }

    /// Adds bytes to the sum.
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    /// The CRC-32C of `bytes` alone.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c = CRC32C()
        c.update(bytes)
        return c.value
    }
}

/// FNV-1a, 64 bits: the checksum of a bbolt meta page.
enum FNV64a {
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
