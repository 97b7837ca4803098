/// Argon2 (RFC 9106, version 0x13), written for password hashing on the platform: swift-crypto has no
/// memory-hard password hash. Lanes are filled one after the other (the result does not depend on it), so
/// parallelism is a cost parameter here, not a thread count.
public struct Argon2: Sendable {
    /// The variant: data-dependent (d), independent (i), or the hybrid (id) recommended for passwords.
    public enum Variant: UInt32, Sendable {
        case d = 0, i = 1, id = 2

        var name: String {
            switch self {
            case .d: "argon2d"
            case .i: "argon2i"
            case .id: "argon2id"
            }
        }
    }

    public var variant: Variant
    /// Memory in KiB (blocks of 1 KiB); at least 8 × parallelism.
    public var memoryKiB: Int
    /// Number of passes over memory.
    public var iterations: Int
    /// Number of lanes.
    public var parallelism: Int

    public init(variant: Variant = .id, memoryKiB: Int, iterations: Int, parallelism: Int = 1) {
        self.variant = variant
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// Words (64-bit) per 1 KiB block.
    static let blockWords = 128

    /// The tag of `tagLength` bytes for `password` and `salt`, with the optional secret and associated data.
    public func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [], tagLength: Int = 32
    ) -> [UInt8] {
        precondition(parallelism >= 1 && parallelism < 1 << 24, "Argon2 parallelism out of range")
        precondition(iterations >= 1, "Argon2 needs at least one pass")
        precondition(memoryKiB >= 8 * parallelism, "Argon2 memory must be at least 8 KiB per lane")
        precondition(tagLength >= 4 && salt.count >= 8, "Argon2 tag ≥ 4 bytes and salt ≥ 8 bytes")

        var h0 = Blake2b(outputLength: 64)
        h0.update(le32: UInt32(parallelism))
        h0.update(le32: UInt32(tagLength))
        h0.update(le32: UInt32(memoryKiB))
        h0.update(le32: UInt32(iterations))
        h0.update(le32: 0x13)
        h0.update(le32: variant.rawValue)
        for field in [password, salt, secret, associatedData] {
            h0.update(le32: UInt32(field.count))
            h0.update(field)
        }
        let seed = h0.finalize()

        let lanes = parallelism
        let segmentLength = memoryKiB / (4 * lanes)
        let laneLength = segmentLength * 4
        let blockCount = laneLength * lanes
        let words = Argon2.blockWords
        var memory = [UInt64](repeating: 0, count: blockCount * words)

        memory.withUnsafeMutableBufferPointer { mem in
            for lane in 0..<lanes {
                for column in 0..<2 {
                    let bytes = Argon2.variableHash(seed + le32(UInt32(column)) + le32(UInt32(lane)), length: 1024)
                    let base = (lane * laneLength + column) * words
                    for w in 0..<words { mem[base + w] = loadLE64(bytes, w * 8) }
                }
            }
            var scratch = Scratch()
            for pass in 0..<iterations {
                for slice in 0..<4 {
                    for lane in 0..<lanes {
                        fillSegment(
                            mem, scratch: &scratch, pass: pass, slice: slice, lane: lane,
                            lanes: lanes, laneLength: laneLength, segmentLength: segmentLength, blockCount: blockCount
                        )
                    }
                }
            }
        }

        var final = [UInt64](repeating: 0, count: words)
        for lane in 0..<lanes {
            let base = (lane * laneLength + laneLength - 1) * words
            for w in 0..<words { final[w] ^= memory[base + w] }
        }
        var finalBytes = [UInt8]()
        finalBytes.reserveCapacity(1024)
        for word in final { finalBytes.append(contentsOf: le64(word)) }
        return Argon2.variableHash(finalBytes, length: tagLength)
    }

    /// Working blocks reused across the whole hash.
    private struct Scratch {
        var r = [UInt64](repeating: 0, count: Argon2.blockWords)
        var q = [UInt64](repeating: 0, count: Argon2.blockWords)
        var address = [UInt64](repeating: 0, count: Argon2.blockWords)
        var input = [UInt64](repeating: 0, count: Argon2.blockWords)
        var zero = [UInt64](repeating: 0, count: Argon2.blockWords)
    }

    private func fillSegment(
        _ mem: UnsafeMutableBufferPointer<UInt64>, scratch: inout Scratch, pass: Int, slice: Int, lane: Int,
        lanes: Int, laneLength: Int, segmentLength: Int, blockCount: Int
    ) {
        let words = Argon2.blockWords
        let independent = variant == .i || (variant == .id && pass == 0 && slice < 2)
        if independent {
            for w in 0..<words { scratch.input[w] = 0 }
            scratch.input[0] = UInt64(pass)
            scratch.input[1] = UInt64(lane)
            scratch.input[2] = UInt64(slice)
            scratch.input[3] = UInt64(blockCount)
            scratch.input[4] = UInt64(iterations)
            scratch.input[5] = UInt64(variant.rawValue)
        }
        var startIndex = 0
        if pass == 0 && slice == 0 {
            startIndex = 2
            if independent { nextAddresses(&scratch) }
        }
        var current = lane * laneLength + slice * segmentLength + startIndex
        var previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1
        for index in startIndex..<segmentLength {
            let pseudoRandom: UInt64
            if independent {
                if index % words == 0 { nextAddresses(&scratch) }
                pseudoRandom = scratch.address[index % words]
            } else {
                pseudoRandom = mem[previous * words]
            }
            var refLane = Int((pseudoRandom >> 32) % UInt64(lanes))
            if pass == 0 && slice == 0 { refLane = lane }
            let sameLane = refLane == lane
            let areaSize: Int
            if pass == 0 {
                if slice == 0 {
                    areaSize = index - 1
                } else if sameLane {
                    areaSize = slice * segmentLength + index - 1
                } else {
                    areaSize = slice * segmentLength + (index == 0 ? -1 : 0)
                }
            } else {
                areaSize = laneLength - segmentLength + (sameLane ? index - 1 : (index == 0 ? -1 : 0))
            }
            var relative = pseudoRandom & 0xFFFF_FFFF
            relative = (relative &* relative) >> 32
            let relativePosition = UInt64(areaSize) - 1 - ((UInt64(areaSize) &* relative) >> 32)
            let start = pass != 0 && slice != 3 ? (slice + 1) * segmentLength : 0
            let refIndex = (start + Int(relativePosition)) % laneLength
            let reference = refLane * laneLength + refIndex
            compress(
                mem, previous: previous * words, reference: reference * words, into: current * words,
                xorInto: pass != 0, scratch: &scratch
            )
            previous = current
            current += 1
        }
    }

    /// The next block of pseudo-random addresses (Argon2i addressing): G(0, G(0, input)) with the counter bumped.
    private func nextAddresses(_ scratch: inout Scratch) {
        scratch.input[6] &+= 1
        scratch.zero.withUnsafeMutableBufferPointer { zero in
            scratch.input.withUnsafeMutableBufferPointer { input in
                scratch.address.withUnsafeMutableBufferPointer { address in
                    scratch.r.withUnsafeMutableBufferPointer { r in
                        scratch.q.withUnsafeMutableBufferPointer { q in
                            Argon2.g(zero.baseAddress!, input.baseAddress!, out: address.baseAddress!, xor: false, r: r, q: q)
                            Argon2.g(zero.baseAddress!, address.baseAddress!, out: address.baseAddress!, xor: false, r: r, q: q)
                        }
                    }
                }
            }
        }
    }

    private func compress(
        _ mem: UnsafeMutableBufferPointer<UInt64>, previous: Int, reference: Int, into target: Int, xorInto: Bool,
        scratch: inout Scratch
    ) {
        let base = mem.baseAddress!
        scratch.r.withUnsafeMutableBufferPointer { r in
            scratch.q.withUnsafeMutableBufferPointer { q in
                Argon2.g(base + previous, base + reference, out: base + target, xor: xorInto, r: r, q: q)
            }
        }
    }

    /// The compression function G(X, Y): R = X ⊕ Y, Q = P applied to R's rows then columns, out = Q ⊕ R
    /// (⊕ the old content of `out` when `xor`).
    private static func g(
        _ x: UnsafeMutablePointer<UInt64>, _ y: UnsafeMutablePointer<UInt64>, out: UnsafeMutablePointer<UInt64>,
        xor: Bool, r: UnsafeMutableBufferPointer<UInt64>, q: UnsafeMutableBufferPointer<UInt64>
    ) {
        for w in 0..<blockWords {
            let value = x[w] ^ y[w]
            r[w] = value
            q[w] = value
        }
        let qp = q.baseAddress!
        for row in 0..<8 {
            let b = row * 16
            permute(qp, b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7,
                    b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15)
        }
        for column in 0..<8 {
            let b = column * 2
            permute(qp, b, b + 1, b + 16, b + 17, b + 32, b + 33, b + 48, b + 49,
                    b + 64, b + 65, b + 80, b + 81, b + 96, b + 97, b + 112, b + 113)
        }
        if xor {
            for w in 0..<blockWords { out[w] ^= q[w] ^ r[w] }
        } else {
            for w in 0..<blockWords { out[w] = q[w] ^ r[w] }
        }
    }

    /// The permutation P on 16 words (eight 128-bit registers), BLAKE2b's round with multiplications.
    @inline(__always)
    private static func permute(
        _ v: UnsafeMutablePointer<UInt64>,
        _ i0: Int, _ i1: Int, _ i2: Int, _ i3: Int, _ i4: Int, _ i5: Int, _ i6: Int, _ i7: Int,
        _ i8: Int, _ i9: Int, _ i10: Int, _ i11: Int, _ i12: Int, _ i13: Int, _ i14: Int, _ i15: Int
    ) {
        gb(v, i0, i4, i8, i12)
        gb(v, i1, i5, i9, i13)
        gb(v, i2, i6, i10, i14)
        gb(v, i3, i7, i11, i15)
        gb(v, i0, i5, i10, i15)
        gb(v, i1, i6, i11, i12)
        gb(v, i2, i7, i8, i13)
        gb(v, i3, i4, i9, i14)
    }

    @inline(__always)
    private static func gb(_ v: UnsafeMutablePointer<UInt64>, _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        @inline(__always) func fBlaMka(_ x: UInt64, _ y: UInt64) -> UInt64 {
            x &+ y &+ 2 &* (x & 0xFFFF_FFFF) &* (y & 0xFFFF_FFFF)
        }
        @inline(__always) func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 - n)) }
        var va = v[a], vb = v[b], vc = v[c], vd = v[d]
        va = fBlaMka(va, vb)
        vd = rotr(vd ^ va, 32)
        vc = fBlaMka(vc, vd)
        vb = rotr(vb ^ vc, 24)
        va = fBlaMka(va, vb)
        vd = rotr(vd ^ va, 16)
        vc = fBlaMka(vc, vd)
        vb = rotr(vb ^ vc, 63)
        v[a] = va; v[b] = vb; v[c] = vc; v[d] = vd
    }

    /// H' (RFC 9106 §3.3): BLAKE2b stretched to `length` bytes.
    static func variableHash(_ input: [UInt8], length: Int) -> [UInt8] {
        let prefix = le32(UInt32(length))
        if length <= 64 {
            var hasher = Blake2b(outputLength: length)
            hasher.update(prefix)
            hasher.update(input)
            return hasher.finalize()
        }
        let r = (length + 31) / 32 - 2
        var hasher = Blake2b(outputLength: 64)
        hasher.update(prefix)
        hasher.update(input)
        var v = hasher.finalize()
        var out = Array(v.prefix(32))
        out.reserveCapacity(length)
        for _ in 1..<r {
            v = Blake2b.hash(v)
            out.append(contentsOf: v.prefix(32))
        }
        out.append(contentsOf: Blake2b.hash(v, outputLength: length - 32 * r))
        return out
    }
}

@inline(__always)
func le32(_ value: UInt32) -> [UInt8] {
    [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
     UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)]
}

@inline(__always)
func le64(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
}

@inline(__always)
func loadLE64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    var word: UInt64 = 0
    for b in 0..<8 { word |= UInt64(bytes[offset + b]) << UInt64(8 * b) }
    return word
}
