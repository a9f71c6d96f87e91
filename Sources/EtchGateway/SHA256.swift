import CAccel

/// SHA-256 (FIPS 180-4), incremental: etcd ends a snapshot stream with the SHA-256 of the database bytes before
/// it, which `snapshot save` checks. Written here because etch takes no dependency beyond libcurl. On CPUs with
/// the x86 SHA extensions the compression runs in CSHA256 (about five times faster); elsewhere in Swift.
public struct SHA256 {
    /// Whether the CPU's SHA instructions are used (checked once).
    public static let hardwareAvailable = etch_sha256_hw_available() != 0
    private let hardware: Bool
    public static let digestSize = 32
    /// The round constants (one table, in CSHA256).
    nonisolated(unsafe) private static let k = UnsafePointer(etch_sha256_constants()!)

    /// The eight state words, then the 64-word message schedule, in one buffer the compression function
    /// reaches through pointers only (no closure captures or array checks in the inner loop).
    private var words: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        + [UInt32](repeating: 0, count: 64)
    /// A partial block waiting for more bytes (`pendingCount` of 64 used).
    private var pending = [UInt8](repeating: 0, count: 64)
    private var pendingCount = 0
    /// Bytes hashed so far.
    public private(set) var count: UInt64 = 0

    /// `hardware: false` forces the portable version (tests compare the two).
    public init(hardware: Bool = SHA256.hardwareAvailable) {
        self.hardware = hardware && SHA256.hardwareAvailable
    }

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Collection<UInt8>, hardware: Bool = SHA256.hardwareAvailable) -> [UInt8] {
        var h = SHA256(hardware: hardware)
        let copy = Array(bytes)
        copy.withUnsafeBytes { h.update($0) }
        return h.finish()
    }

    /// Adds bytes to the message.
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard var p = data.baseAddress, data.count > 0 else { return }
        var n = data.count
        count &+= UInt64(n)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, n)
            pending.withUnsafeMutableBytes { dst in
                dst.baseAddress!.advanced(by: pendingCount).copyMemory(from: p, byteCount: take)
            }
            pendingCount += take
            p += take
            n -= take
            if pendingCount < 64 { return }
            pending.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }
        let whole = n / 64
        if whole > 0 {
            compress(p, blocks: whole)
            p += whole * 64
            n -= whole * 64
        }
        if n > 0 {
            pending.withUnsafeMutableBytes { dst in dst.baseAddress!.copyMemory(from: p, byteCount: n) }
            pendingCount = n
        }
    }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Pads the message and returns its 32-byte digest. The value is not to be updated afterwards.
    public mutating func finish() -> [UInt8] {
        let bits = count &* 8
        var tail: [UInt8] = [0x80]
        let used = (pendingCount + 1) % 64
        tail += [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used)
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        let saved = count
        update(tail)
        count = saved
        precondition(pendingCount == 0)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in words[0..<8] {
            out += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8),
                    UInt8(truncatingIfNeeded: word)]
        }
        return out
    }


    /// Runs the compression function over `blocks` 64-byte blocks at `p`.
    private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        if hardware {
            words.withUnsafeMutableBufferPointer { wb in
                etch_sha256_blocks_hw(wb.baseAddress!, p.assumingMemoryBound(to: UInt8.self), blocks)
            }
            return
        }
        words.withUnsafeMutableBufferPointer { wb in
            SHA256.compress(state: wb.baseAddress!, w: wb.baseAddress! + 8, k: SHA256.k, p, blocks: blocks)
        }
    }

    @_optimize(speed)
    private static func compress(state: UnsafeMutablePointer<UInt32>, w: UnsafeMutablePointer<UInt32>,
                                 k: UnsafePointer<UInt32>, _ p: UnsafeRawPointer, blocks: Int) {
        var a0 = state[0], b0 = state[1], c0 = state[2], d0 = state[3]
        var e0 = state[4], f0 = state[5], g0 = state[6], h0 = state[7]
        var base = p
        for _ in 0..<blocks {
            for i in 0..<16 {
                w[i] = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
            }
            for i in 16..<64 {
                let x = w[i &- 15], y = w[i &- 2]
                let s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3)
                let s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> 10)
                w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
            }
            var a = a0, b = b0, c = c0, d = d0, e = e0, f = f0, g = g0, h = h0
            var i = 0
            while i < 64 {
                // Eight rounds with the variables renamed instead of moved.
                round(a, b, c, &d, e, f, g, &h, k[i] &+ w[i])
                round(h, a, b, &c, d, e, f, &g, k[i &+ 1] &+ w[i &+ 1])
                round(g, h, a, &b, c, d, e, &f, k[i &+ 2] &+ w[i &+ 2])
                round(f, g, h, &a, b, c, d, &e, k[i &+ 3] &+ w[i &+ 3])
                round(e, f, g, &h, a, b, c, &d, k[i &+ 4] &+ w[i &+ 4])
                round(d, e, f, &g, h, a, b, &c, k[i &+ 5] &+ w[i &+ 5])
                round(c, d, e, &f, g, h, a, &b, k[i &+ 6] &+ w[i &+ 6])
                round(b, c, d, &e, f, g, h, &a, k[i &+ 7] &+ w[i &+ 7])
                i &+= 8
            }
            a0 &+= a; b0 &+= b; c0 &+= c; d0 &+= d; e0 &+= e; f0 &+= f; g0 &+= g; h0 &+= h
            base += 64
        }
        state[0] = a0; state[1] = b0; state[2] = c0; state[3] = d0
        state[4] = e0; state[5] = f0; state[6] = g0; state[7] = h0
    }
}

@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x &>> n | x &<< (32 &- n) }

/// One SHA-256 round: `kw` is the round constant plus the schedule word.
@inline(__always) private func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32, _ e: UInt32, _ f: UInt32,
                                     _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
    let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ kw
    let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
    d &+= t1
    h = t1 &+ t2
}
