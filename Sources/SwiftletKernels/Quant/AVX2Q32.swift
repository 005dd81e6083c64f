// AVX2 kernels for the 32-weight block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against Q8_0/Q8_1 activations.
// Activations are quantized to 8 bits (ggml's vec_dot_type) by `quantizeQ8AVX2` before any dot product.
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

/// One 32-weight format: how to turn a block into 32 integer quants in element order.
protocol Q32Format {
    static var blockBytes: Int { get }
    /// Q8_1 activations (36-byte blocks with s = d * sum) for formats with a min; else Q8_0 (34 bytes).
    static var hasMin: Bool { get }
    /// Quants are 0...31 and go straight into maddubs' unsigned operand; else signed, via the sign trick.
    static var unsignedQuants: Bool { get }
    /// Q4_0/Q5_0: weights are d * (q - offset); the dot uses unsigned q and subtracts offset * d * sum(x).
    static var offset: Int { get }
    static func quants(_ b: UnsafeRawPointer) -> __m256i
}

enum FQ4_0: Q32Format {
    static var blockBytes: Int { 18 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { true }
    static var offset: Int { 8 }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i { nibbles32(b + 2) }
}

enum FQ4_1: Q32Format {
    static var blockBytes: Int { 20 }
    static var hasMin: Bool { true }
    static var unsignedQuants: Bool { true }
    static var offset: Int { 0 }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i { nibbles32(b + 4) }
}

enum FQ5_0: Q32Format {
    static var blockBytes: Int { 22 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { true }
    static var offset: Int { 16 }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles32(b + 6), _mm256_and_si256(bitsToBytes32(b + 2), _mm256_set1_epi8(0x10)))
    }
}

enum FQ5_1: Q32Format {
    static var blockBytes: Int { 24 }
    static var hasMin: Bool { true }
    static var unsignedQuants: Bool { true }
    static var offset: Int { 0 }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles32(b + 8), _mm256_and_si256(bitsToBytes32(b + 4), _mm256_set1_epi8(0x10)))
    }
}

enum FQ8_0: Q32Format {
    static var blockBytes: Int { 34 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { false }
    static var offset: Int { 0 }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i { ld256(b + 2) }
}

/// Batch invariance: matvec and matmul give bit-identical floats for the same (weight row, activation row),
/// whatever the tile a pair falls in, because every pair follows one accumulation scheme: per block, in order,
/// the exact int32 dot isum = dot(q, x) (exact however its lanes are summed), then acc = fma(d_w * d_x,
/// float(isum), acc) in one float lane, a scalar m = fma(m_w, s_x, m), and the result acc + m. Tiles only choose
/// which pairs run side by side (one lane each): matvec runs 4 weight rows against one activation, matmul one
/// weight row against 8 or 4 activations (one decoded block shared by all); the tile's block sums are gathered
/// into one int32 vector so the float work is one cvt and one fma per block for the whole tile.
enum Q32Kernels<F: Q32Format> {
    static var actBytes: Int { F.hasMin ? 36 : 34 }
    static var actQs: Int { F.hasMin ? 4 : 2 }

    /// Whether a pair adds a per-block scalar m_w * s_x (a min, or the offset of Q4_0/Q5_0).
    static var hasScalarTerm: Bool { F.hasMin || F.offset != 0 }

    /// The activation blocks' f16 scales as floats, converted once per activation row instead of once per weight
    /// row: out[2 * i] = d, out[2 * i + 1] = s = d * sum(q) of block i (Q8_1 stores s; for Q8_0 and a weight
    /// format with an offset, s = -offset * d * sum(q)).
    @inline(__always) static func convertScales(_ x: UnsafeRawPointer, _ nb: Int, _ out: UnsafeMutablePointer<Float>) {
        var xb = x
        for i in 0..<nb {
            (out[2 * i], out[2 * i + 1]) = activationScales(xb)
            xb += actBytes
        }
    }

    /// The same for tiles of `cols` (4 or 8) activation rows: d of block i, row c at out[cols * i + c] (one
    /// vector load gives the tile's d_x), then s at out[8 * nb + cols * i + c].
    @inline(__always) static func convertScalesWide(_ x: UnsafeRawPointer, _ xStride: Int, _ cols: Int, _ nb: Int,
                                                    _ out: UnsafeMutablePointer<Float>) {
        for c in 0..<cols {
            var xb = x + c * xStride
            for i in 0..<nb {
                let (d, s) = activationScales(xb)
                out[cols * i + c] = d
                out[8 * nb + cols * i + c] = s
                xb += actBytes
            }
        }
    }

    @inline(__always) static func activationScales(_ xb: UnsafeRawPointer) -> (Float, Float) {
        let ds = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: xb.loadUnaligned(as: UInt32.self))))
        if F.offset != 0 {       // s = -offset * d * sum(q): the weight side then only contributes its d
            return (ds[0], Float(-F.offset) * (ds[0] * Float(hsumI32(dotU8I8(_mm256_set1_epi8(1), ld256(xb + actQs))))))
        }
        return (ds[0], ds[1])
    }

    /// (d, m) of a weight block, both f16 fields converted in one step; (d, d) for the offset formats.
    @inline(__always) static func weightScales(_ b: UnsafeRawPointer) -> (Float, Float) {
        if F.hasMin {
            let w = _mm_cvtph_ps(_mm_cvtsi32_si128(Int32(bitPattern: b.loadUnaligned(as: UInt32.self))))
            return (w[0], w[1])
        }
        let d = h2f(b)
        return (d, d)
    }

    /// The unsigned operand of maddubs for quants q: q itself, or |q| for signed quants.
    @inline(__always) static func unsignedOperand(_ q: __m256i) -> __m256i {
        F.unsignedQuants ? q : _mm256_sign_epi8(q, q)
    }

    /// 16 int16 pair products of one block of one pair: maddubs(qa, y), qa = unsignedOperand(q), y the
    /// activation's 32 quants (with q's sign for signed quants).
    @inline(__always) static func pairProducts(_ q: __m256i, _ qa: __m256i, _ y: __m256i) -> __m256i {
        _mm256_maddubs_epi16(qa, F.unsignedQuants ? y : _mm256_sign_epi8(y, q))
    }

    /// Two pairs' int16 products to int32 partial sums, per 128-bit half [a, a, b, b]. Unsigned quants are at
    /// most 31, so an int16 product pair is at most 2 * 31 * 128 and 4 of them still fit in int16: one hadd
    /// halves the widening work. Signed quants widen each vector first.
    @inline(__always) static func widen2(_ a: __m256i, _ b: __m256i) -> __m256i {
        let ones = _mm256_set1_epi16(1)
        if F.unsignedQuants { return _mm256_madd_epi16(_mm256_hadd_epi16(a, b), ones) }
        return _mm256_hadd_epi32(_mm256_madd_epi16(a, ones), _mm256_madd_epi16(b, ones))
    }

    /// Exact block sums of 4 pairs from their int16 products: lane c = isum of pair c.
    @inline(__always) static func blockSums4(_ p0: __m256i, _ p1: __m256i, _ p2: __m256i, _ p3: __m256i) -> __m128i {
        let h = _mm256_hadd_epi32(widen2(p0, p1), widen2(p2, p3))     // per half [0, 1, 2, 3]
        let v = unsafeBitCast(h, to: SIMD8<Int32>.self)
        return unsafeBitCast(v.lowHalf &+ v.highHalf, to: __m128i.self)
    }

    /// The same for 8 pairs: lane c = isum of pair c.
    @inline(__always) static func blockSums8(_ p0: __m256i, _ p1: __m256i, _ p2: __m256i, _ p3: __m256i,
                                             _ p4: __m256i, _ p5: __m256i, _ p6: __m256i, _ p7: __m256i) -> __m256i {
        let a = _mm256_hadd_epi32(widen2(p0, p1), widen2(p2, p3))     // per half [0, 1, 2, 3]
        let b = _mm256_hadd_epi32(widen2(p4, p5), widen2(p6, p7))     // per half [4, 5, 6, 7]
        let va = unsafeBitCast(a, to: SIMD8<Int32>.self), vb = unsafeBitCast(b, to: SIMD8<Int32>.self)
        return unsafeBitCast(SIMD8(lowHalf: va.lowHalf, highHalf: vb.highHalf) &+ SIMD8(lowHalf: va.highHalf, highHalf: vb.lowHalf),
                             to: __m256i.self)
    }

    /// Exact block sum of one pair.
    @inline(__always) static func blockSum1(_ p: __m256i) -> Int32 {
        hsumI32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)))
    }

    /// Weight rows w + t * rowStride (t in 0..<R) against one activation row x (scales at xs, convertScales layout).
    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ nb: Int,
                                      _ x: UnsafeRawPointer, _ xs: UnsafePointer<Float>) -> SIMD4<Float> {
        var acc = SIMD4<Float>(), m = SIMD4<Float>()
        var acc1: Float = 0
        var b = w, xb = x, s = xs
        for _ in 0..<nb {
            let y = ld256(xb + actQs), dx = s[0]
            @inline(__always) func row(_ t: Int) -> (__m256i, Float, Float) {
                let q = F.quants(b + t * rowStride)
                let (dw, mw) = weightScales(b + t * rowStride)
                return (pairProducts(q, unsignedOperand(q), y), dw, mw)
            }
            if R.n > 1 {
                let (p0, d0, m0) = row(0), (p1, d1, m1) = row(1), (p2, d2, m2) = row(2), (p3, d3, m3) = row(3)
                let isum = _mm_cvtepi32_ps(blockSums4(p0, p1, p2, p3))
                let dd = SIMD4(d0, d1, d2, d3) * SIMD4(repeating: dx)
                acc = acc.addingProduct(dd, isum)
                if hasScalarTerm { m = m.addingProduct(SIMD4(m0, m1, m2, m3), SIMD4(repeating: s[1])) }
            } else {
                let (p0, d0, m0) = row(0)
                acc1 = acc1.addingProduct(d0 * dx, Float(blockSum1(p0)))
                if hasScalarTerm { m[0] = m[0].addingProduct(m0, s[1]) }
            }
            b += F.blockBytes; xb += actBytes; s += 2
        }
        if R.n == 1 { acc[0] = acc1 }
        return acc + m
    }

    /// Weight row w against C (4 or 8) activation rows at x + c * xStride, scales at xs (convertScalesWide layout).
    @inline(__always)
    static func colsTile<C: TileSize>(_: C.Type, _ w: UnsafeRawPointer, _ nb: Int, _ x: UnsafeRawPointer,
                                      _ xStride: Int, _ xs: UnsafePointer<Float>) -> SIMD8<Float> {
        let cols = C.n
        var acc = SIMD8<Float>(), m = SIMD8<Float>()
        var b = w, s = xs, sv = xs + 8 * nb
        var o = 0
        for _ in 0..<nb {
            let q = F.quants(b)
            let qa = unsignedOperand(q)
            let (dw, mw) = weightScales(b)
            @inline(__always) func p(_ c: Int) -> __m256i { pairProducts(q, qa, ld256(x + c * xStride + o + actQs)) }
            if cols > 4 {
                let isum = _mm256_cvtepi32_ps(blockSums8(p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)))
                let dd = SIMD8(repeating: dw) * UnsafeRawPointer(s).loadUnaligned(as: SIMD8<Float>.self)
                acc = acc.addingProduct(dd, isum)
                if hasScalarTerm {
                    m = m.addingProduct(SIMD8(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD8<Float>.self))
                }
            } else {
                let isum = _mm_cvtepi32_ps(blockSums4(p(0), p(1), p(2), p(3)))
                let dd = SIMD4(repeating: dw) * UnsafeRawPointer(s).loadUnaligned(as: SIMD4<Float>.self)
                acc.lowHalf = acc.lowHalf.addingProduct(dd, isum)
                if hasScalarTerm {
                    m.lowHalf = m.lowHalf.addingProduct(SIMD4(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD4<Float>.self))
                }
            }
            b += F.blockBytes
            o += actBytes
            s += cols
            sv += cols
        }
        return acc + m
    }

    /// y[r - rows.lowerBound] = dot(row r, x) for r in rows; xs: x's scales (convertScales layout).
    /// 4 rows at a time, taken a quarter of the range apart: 4 independent FMA chains that each read memory
    /// front to back (4 adjacent rows at once defeat the hardware prefetcher: matvec streamed at 1/4 to 1/2 the speed).
    @inline(__always)
    static func rowsAgainstOne(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ nb: Int, _ x: UnsafeRawPointer,
                               _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let rowBytes = nb * F.blockBytes, lo = rows.lowerBound, g = rows.count / 4
        for i in 0..<g {
            let v = rowsTile(Tile4.self, w + (lo + i) * rowBytes, g * rowBytes, nb, x, xs)
            for c in 0..<4 { y[i + c * g] = v[c] }
        }
        for r in (lo + 4 * g)..<rows.upperBound {
            y[r - lo] = rowsTile(Tile1.self, w + r * rowBytes, rowBytes, nb, x, xs)[0]
        }
    }

    /// y[c * ldy + r] = dot(row r, activation c) for r in rows, c in 0..<C. Not inlined: the tile loop gets the
    /// registers to itself (inlined into matmul, accumulators spilled to the stack).
    @inline(never)
    static func colsPass<C: TileSize>(_: C.Type, _ w: UnsafeRawPointer, _ rows: Range<Int>, _ nb: Int,
                                      _ x: UnsafeRawPointer, _ xStride: Int, _ xs: UnsafePointer<Float>,
                                      _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let rowBytes = nb * F.blockBytes
        for r in rows {
            let s = colsTile(C.self, w + r * rowBytes, nb, x, xStride, xs)
            for c in 0..<C.n { y[c * ldy + r] = s[c] }
        }
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let nb = k / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * nb) { xs in
            convertScales(x, nb, xs.baseAddress!)
            rowsAgainstOne(w, rows, nb, x, xs.baseAddress!, y)
        }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let nb = k / 32
        // Activation tiles: 8 (or 4, or 1) rows at a time, at most n / 8 + 4 of them. Their scales are converted
        // once, before the row chunks (16 * nb floats per tile).
        let tileFloats = 16 * nb
        @inline(__always) func tileCols(_ j: Int) -> Int { n - j >= 8 ? 8 : n - j >= 4 ? 4 : 1 }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileFloats * (n / 8 + 4)) { buf in
            let base = buf.baseAddress!
            var j = 0, t = 0
            while j < n {
                let cols = tileCols(j), xj = x + j * xStride, xs = base + t * tileFloats
                if cols == 1 { convertScales(xj, nb, xs) } else { convertScalesWide(xj, xStride, cols, nb, xs) }
                j += cols; t += 1
            }
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {                 // a chunk of weight rows stays in cache ...
                let r1 = min(r0 + matmulRowChunk, rows.upperBound)
                j = 0; t = 0
                while j < n {                            // ... while the activation tiles pass by
                    let cols = tileCols(j), xj = x + j * xStride, xs = base + t * tileFloats
                    if cols == 1 {
                        rowsAgainstOne(w, r0..<r1, nb, xj, xs, y + j * ldy + r0)
                    } else if cols == 8 {
                        colsPass(Tile8.self, w, r0..<r1, nb, xj, xStride, xs, y + j * ldy, ldy)
                    } else {
                        colsPass(Tile4.self, w, r0..<r1, nb, xj, xStride, xs, y + j * ldy, ldy)
                    }
                    j += cols; t += 1
                }
                r0 = r1
            }
        }
    }
}

/// Q8_0 (withSum false) / Q8_1 activation quantization; bit-identical to ReferenceKernels.quantizeQ8.
func quantizeQ8AVX2(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int, withSum: Bool) {
    let bb = withSum ? 36 : 34, qo = withSum ? 4 : 2
    for i in 0..<(k / 32) {
        let xb = x + 32 * i, b = dst + bb * i
        let amax = absMax(xb, 32)
        let d = amax / 127
        let id: Float = amax != 0 ? 127 / amax : 0
        let sum = quantize32(xb, id, b + qo)
        b.storeBytes(of: floatToHalf(d), toByteOffset: 0, as: UInt16.self)
        if withSum { b.storeBytes(of: floatToHalf(Float(sum) * d), toByteOffset: 2, as: UInt16.self) }
    }
}
#endif
