// AVX2 kernels for Swiftlet's group formats (SW_A4_G*, SW_A8_G*) against Q8_1 activations, quantized to 8 bits
// first by `quantizeQ8AVX2` (ggml's vec_dot_type); SW_I8_ROW's kernels are in AVX2I8Row.swift. A row is read
// 32 weights (a chunk) at a time; a chunk's dot with its activation block is an exact int32, as in AVX2Q32.swift:
// maddubs with the codes as the unsigned operand for 4-bit codes, the sign trick (|q| against x with q's sign) for
// signed codes.
//
// SW_A8_G* codes are 0...255, and maddubs (u8 x s8) saturates int16 at 2 * 255 * 127. So the codes are read as
// q - 128 (top bit flipped, -128...127) for the signed dot, and 128 * sum(x) is added back to the int32 sum: the
// activation's exact integer sum, taken from its quants once per activation row. The result is the same integer
// as sum(q * x), so the decode stays exactly x = d * q + m with the stored f16 d and m.
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

/// A Swiftlet group format as the kernels see it: a row is groups of 32-weight chunks, each group headed by 4 bytes,
/// f16 d and m (x = d * q + m).
protocol SWFormat {
    /// Codes are signed bytes (-128...127) for maddubs' sign trick; else unsigned and below 16.
    static var signedCodes: Bool { get }
    /// 32-weight chunks per group.
    static var groupChunks: Int { get }
    /// Bytes of one chunk's codes.
    static var chunkBytes: Int { get }
    /// Codes are unsigned 0...255, read as q - 128; the dot adds 128 * sum(x) back.
    static var flipped: Bool { get }
    /// The 32 codes of the chunk at p in element order, as bytes (signed or unsigned: `signedCodes`).
    static func codes(_ p: UnsafeRawPointer) -> __m256i
}

/// Group sizes, in 32-weight chunks.
protocol GroupChunks { static var chunks: Int { get } }
enum G32: GroupChunks { static var chunks: Int { 1 } }
enum G64: GroupChunks { static var chunks: Int { 2 } }
enum G128: GroupChunks { static var chunks: Int { 4 } }

enum FA4<G: GroupChunks>: SWFormat {
    static var signedCodes: Bool { false }
    static var groupChunks: Int { G.chunks }
    static var chunkBytes: Int { 16 }
    static var flipped: Bool { false }
    @inline(__always) static func codes(_ p: UnsafeRawPointer) -> __m256i { nibbles32(p) }
}

enum FA8<G: GroupChunks>: SWFormat {
    static var signedCodes: Bool { true }
    static var groupChunks: Int { G.chunks }
    static var chunkBytes: Int { 32 }
    static var flipped: Bool { true }
    @inline(__always) static func codes(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_xor_si256(ld256(p), _mm256_set1_epi8(-128))
    }
}

/// Batch invariance, as in Q32Kernels: every (weight row, activation row) pair takes the same steps whatever tile
/// it falls in. Per chunk, in order: the exact int32 isum = dot(q, x); then for the group formats
/// acc = fma(d_w * d_x, float(isum), acc) and m = fma(m_w, s_x, m), the result acc + m (Q4_1's scheme, so
/// SW_A4_G32 gives Q4_1's floats bit for bit). matvec runs 4 weight rows against one activation, matmul one weight
/// row against 8 or 4 activations.
enum SWKernels<F: SWFormat> {
    /// Q8_1 activations: 36-byte blocks, f16 d and s = d * sum(q), then the 32 quants.
    static var actBytes: Int { 36 }
    static var actQs: Int { 4 }

    /// Bytes of one group: the 4-byte header (f16 d, m), then its chunks' codes.
    static var groupBytes: Int { 4 + F.groupChunks * F.chunkBytes }

    /// Bytes of a row of nb chunks.
    @inline(__always) static func rowBytes(_ nb: Int) -> Int { nb / F.groupChunks * groupBytes }

    /// (d, s) of an activation block.
    @inline(__always) static func activationScales(_ xb: UnsafeRawPointer) -> (Float, Float) {
        let ds = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: xb.loadUnaligned(as: UInt32.self))))
        return (ds[0], ds[1])
    }

    /// 128 * sum(q) of an activation block: what reading the codes as q - 128 took off the integer dot.
    @inline(__always) static func correction(_ xb: UnsafeRawPointer) -> Int32 {
        128 &* hsumI32(dotU8I8(_mm256_set1_epi8(1), ld256(xb + actQs)))
    }

    /// (d, m) of the group at g, both f16 fields converted in one step.
    @inline(__always) static func groupScales(_ g: UnsafeRawPointer) -> (Float, Float) {
        let dm = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: g.loadUnaligned(as: UInt32.self))))
        return (dm[0], dm[1])
    }

    // MARK: exact int32 chunk sums

    /// The unsigned operand of maddubs for codes q: q itself, or |q| for signed codes.
    @inline(__always) static func unsignedOperand(_ q: __m256i) -> __m256i {
        F.signedCodes ? _mm256_sign_epi8(q, q) : q
    }

    /// 16 int16 pair products of one chunk: maddubs(qa, y), qa = unsignedOperand(q), y the activation's 32 quants
    /// (with q's sign for signed codes). At most 2 * 128 * 127 (signed) or 2 * 15 * 127: no saturation.
    @inline(__always) static func pairProducts(_ q: __m256i, _ qa: __m256i, _ y: __m256i) -> __m256i {
        _mm256_maddubs_epi16(qa, F.signedCodes ? _mm256_sign_epi8(y, q) : y)
    }

    /// Two pairs' int16 products to int32 partial sums, per 128-bit half [a, a, b, b]. 4-bit product pairs are at
    /// most 2 * 15 * 127, so 4 of them still fit in int16 and one hadd halves the widening work; signed codes
    /// widen each vector first.
    @inline(__always) static func widen2(_ a: __m256i, _ b: __m256i) -> __m256i {
        let ones = _mm256_set1_epi16(1)
        if !F.signedCodes { return _mm256_madd_epi16(_mm256_hadd_epi16(a, b), ones) }
        return _mm256_hadd_epi32(_mm256_madd_epi16(a, ones), _mm256_madd_epi16(b, ones))
    }

    /// Exact chunk sums of 4 pairs from their int16 products: lane c = isum of pair c.
    @inline(__always) static func chunkSums4(_ p0: __m256i, _ p1: __m256i, _ p2: __m256i, _ p3: __m256i) -> __m128i {
        let h = unsafeBitCast(_mm256_hadd_epi32(widen2(p0, p1), widen2(p2, p3)), to: SIMD8<Int32>.self)  // per half [0, 1, 2, 3]
        return unsafeBitCast(h.lowHalf &+ h.highHalf, to: __m128i.self)
    }

    /// The same for 8 pairs: lane c = isum of pair c.
    @inline(__always) static func chunkSums8(_ p0: __m256i, _ p1: __m256i, _ p2: __m256i, _ p3: __m256i,
                                             _ p4: __m256i, _ p5: __m256i, _ p6: __m256i, _ p7: __m256i) -> __m256i {
        let a = unsafeBitCast(_mm256_hadd_epi32(widen2(p0, p1), widen2(p2, p3)), to: SIMD8<Int32>.self)  // per half [0, 1, 2, 3]
        let b = unsafeBitCast(_mm256_hadd_epi32(widen2(p4, p5), widen2(p6, p7)), to: SIMD8<Int32>.self)  // per half [4, 5, 6, 7]
        return unsafeBitCast(SIMD8(lowHalf: a.lowHalf &+ a.highHalf, highHalf: b.lowHalf &+ b.highHalf), to: __m256i.self)
    }

    /// Exact chunk sum of one pair.
    @inline(__always) static func chunkSum1(_ p: __m256i) -> Int32 {
        hsumI32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)))
    }

    // MARK: scales

    /// An activation row's block scales, converted once per activation row instead of once per weight row:
    /// out[2 * i] = d, out[2 * i + 1] = s of block i, and for flipped codes corr[i] = correction.
    @inline(__always) static func convertScales(_ x: UnsafeRawPointer, _ nb: Int, _ out: UnsafeMutablePointer<Float>,
                                                _ corr: UnsafeMutablePointer<Int32>) {
        var xb = x
        for i in 0..<nb {
            (out[2 * i], out[2 * i + 1]) = activationScales(xb)
            if F.flipped { corr[i] = correction(xb) }
            xb += actBytes
        }
    }

    /// The same for tiles of `cols` (4 or 8) activation rows: d of block i, row c at out[cols * i + c] (one vector
    /// load gives the tile's d_x), s at out[8 * nb + cols * i + c], the correction at corr[cols * i + c].
    @inline(__always) static func convertScalesWide(_ x: UnsafeRawPointer, _ xStride: Int, _ cols: Int, _ nb: Int,
                                                    _ out: UnsafeMutablePointer<Float>, _ corr: UnsafeMutablePointer<Int32>) {
        for c in 0..<cols {
            var xb = x + c * xStride
            for i in 0..<nb {
                (out[cols * i + c], out[8 * nb + cols * i + c]) = activationScales(xb)
                if F.flipped { corr[cols * i + c] = correction(xb) }
                xb += actBytes
            }
        }
    }

    /// Weight rows w + t * rowStride (t in 0..<R) against one activation row x (scales at xs, xc: convertScales).
    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ nb: Int,
                                      _ x: UnsafeRawPointer, _ xs: UnsafePointer<Float>,
                                      _ xc: UnsafePointer<Int32>) -> SIMD4<Float> {
        let (chunks, groupBytes) = (F.groupChunks, Self.groupBytes)
        var acc = SIMD4<Float>(), m = SIMD4<Float>()
        var acc1: Float = 0, m1: Float = 0
        var g = w, xb = x, s = xs, corr = xc
        for _ in 0..<(nb / chunks) {
            var dw = SIMD4<Float>(), mw = SIMD4<Float>()        // the group's (d, m) in each of the R rows
            for t in 0..<R.n { (dw[t], mw[t]) = groupScales(g + t * rowStride) }
            var p = g + 4
            for _ in 0..<chunks {
                let y = ld256(xb + actQs), dx = s[0]
                @inline(__always) func products(_ t: Int) -> __m256i {
                    let q = F.codes(p + t * rowStride)
                    return pairProducts(q, unsignedOperand(q), y)
                }
                if R.n > 1 {
                    var isum = chunkSums4(products(0), products(1), products(2), products(3))
                    if F.flipped { isum = _mm_add_epi32(isum, _mm_set1_epi32(corr[0])) }
                    let fsum = _mm_cvtepi32_ps(isum)
                    acc = acc.addingProduct(dw * SIMD4(repeating: dx), fsum)
                    m = m.addingProduct(mw, SIMD4(repeating: s[1]))
                } else {
                    var isum = chunkSum1(products(0))
                    if F.flipped { isum &+= corr[0] }
                    acc1 = acc1.addingProduct(dw[0] * dx, Float(isum))
                    m1 = m1.addingProduct(mw[0], s[1])
                }
                p += F.chunkBytes; xb += actBytes; s += 2; corr += 1
            }
            g += groupBytes
        }
        if R.n == 1 { acc[0] = acc1; m[0] = m1 }
        return acc + m
    }

    /// Weight row w against C (4 or 8) activation rows at x + c * xStride (scales at xs, xc: convertScalesWide).
    @inline(__always)
    static func colsTile<C: TileSize>(_: C.Type, _ w: UnsafeRawPointer, _ nb: Int, _ x: UnsafeRawPointer,
                                      _ xStride: Int, _ xs: UnsafePointer<Float>, _ xc: UnsafePointer<Int32>) -> SIMD8<Float> {
        let cols = C.n
        let (chunks, groupBytes) = (F.groupChunks, Self.groupBytes)
        var acc = SIMD8<Float>(), m = SIMD8<Float>()
        var g = w, s = xs, sv = xs + 8 * nb, corr = xc
        var o = 0
        for _ in 0..<(nb / chunks) {
            let (dw, mw) = groupScales(g)
            var p = g + 4
            for _ in 0..<chunks {
                let q = F.codes(p)
                let qa = unsignedOperand(q)
                @inline(__always) func products(_ c: Int) -> __m256i {
                    pairProducts(q, qa, ld256(x + c * xStride + o + actQs))
                }
                if cols > 4 {
                    var isum = chunkSums8(products(0), products(1), products(2), products(3),
                                            products(4), products(5), products(6), products(7))
                    if F.flipped { isum = _mm256_add_epi32(isum, ld256(corr)) }
                    let fsum = _mm256_cvtepi32_ps(isum)
                    let dx = UnsafeRawPointer(s).loadUnaligned(as: SIMD8<Float>.self)
                    acc = acc.addingProduct(SIMD8(repeating: dw) * dx, fsum)
                    m = m.addingProduct(SIMD8(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD8<Float>.self))
                } else {
                    var isum = chunkSums4(products(0), products(1), products(2), products(3))
                    if F.flipped { isum = _mm_add_epi32(isum, ld128(corr)) }
                    let fsum = _mm_cvtepi32_ps(isum)
                    let dx = UnsafeRawPointer(s).loadUnaligned(as: SIMD4<Float>.self)
                    acc.lowHalf = acc.lowHalf.addingProduct(SIMD4(repeating: dw) * dx, fsum)
                    m.lowHalf = m.lowHalf.addingProduct(SIMD4(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD4<Float>.self))
                }
                p += F.chunkBytes; o += actBytes; s += cols; sv += cols; corr += cols
            }
            g += groupBytes
        }
        return acc + m
    }

    /// y[r - rows.lowerBound] = dot(row r, x) for r in rows; 4 rows at a time, a quarter of the range apart (4
    /// FMA chains that each stream memory front to back, as in Q32Kernels).
    @inline(__always)
    static func rowsAgainstOne(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ nb: Int, _ x: UnsafeRawPointer,
                               _ xs: UnsafePointer<Float>, _ xc: UnsafePointer<Int32>, _ y: UnsafeMutablePointer<Float>) {
        let rowBytes = Self.rowBytes(nb), lo = rows.lowerBound, g = rows.count / 4
        for i in 0..<g {
            let v = rowsTile(Tile4.self, w + (lo + i) * rowBytes, g * rowBytes, nb, x, xs, xc)
            for c in 0..<4 { y[i + c * g] = v[c] }
        }
        for r in (lo + 4 * g)..<rows.upperBound {
            y[r - lo] = rowsTile(Tile1.self, w + r * rowBytes, rowBytes, nb, x, xs, xc)[0]
        }
    }

    /// y[c * ldy + r] = dot(row r, activation c) for r in rows, c in 0..<C. Not inlined: the tile loop gets the
    /// registers to itself.
    @inline(never)
    static func colsPass<C: TileSize>(_: C.Type, _ w: UnsafeRawPointer, _ rows: Range<Int>, _ nb: Int,
                                      _ x: UnsafeRawPointer, _ xStride: Int, _ xs: UnsafePointer<Float>,
                                      _ xc: UnsafePointer<Int32>, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let rowBytes = Self.rowBytes(nb)
        for r in rows {
            let s = colsTile(C.self, w + r * rowBytes, nb, x, xStride, xs, xc)
            for c in 0..<C.n { y[c * ldy + r] = s[c] }
        }
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let nb = k / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * nb) { xs in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: F.flipped ? nb : 1) { xc in
                convertScales(x, nb, xs.baseAddress!, xc.baseAddress!)
                rowsAgainstOne(w, rows, nb, x, xs.baseAddress!, xc.baseAddress!, y)
            }
        }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let nb = k / 32
        // Activation tiles: 8 (or 4, or 1) rows at a time, at most n / 8 + 4 of them; their scales (16 * nb floats
        // per tile) and corrections (8 * nb) are converted once, before the row chunks.
        let tileFloats = 16 * nb, tileInts = F.flipped ? 8 * nb : 0
        let tiles = n / 8 + 4
        @inline(__always) func tileCols(_ j: Int) -> Int { n - j >= 8 ? 8 : n - j >= 4 ? 4 : 1 }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileFloats * tiles) { buf in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, tileInts * tiles)) { ibuf in
                let base = buf.baseAddress!, ibase = ibuf.baseAddress!
                var j = 0, t = 0
                while j < n {
                    let cols = tileCols(j), xj = x + j * xStride
                    let xs = base + t * tileFloats, xc = ibase + t * tileInts
                    if cols == 1 { convertScales(xj, nb, xs, xc) } else { convertScalesWide(xj, xStride, cols, nb, xs, xc) }
                    j += cols; t += 1
                }
                var r0 = rows.lowerBound
                while r0 < rows.upperBound {             // a chunk of weight rows stays in cache ...
                    let r1 = min(r0 + matmulRowChunk, rows.upperBound)
                    j = 0; t = 0
                    while j < n {                        // ... while the activation tiles pass by
                        let cols = tileCols(j), xj = x + j * xStride
                        let xs = base + t * tileFloats, xc = ibase + t * tileInts
                        if cols == 1 {
                            rowsAgainstOne(w, r0..<r1, nb, xj, xs, xc, y + j * ldy + r0)
                        } else if cols == 8 {
                            colsPass(Tile8.self, w, r0..<r1, nb, xj, xStride, xs, xc, y + j * ldy, ldy)
                        } else {
                            colsPass(Tile4.self, w, r0..<r1, nb, xj, xStride, xs, xc, y + j * ldy, ldy)
                        }
                        j += cols; t += 1
                    }
                    r0 = r1
                }
            }
        }
    }
}
#endif
