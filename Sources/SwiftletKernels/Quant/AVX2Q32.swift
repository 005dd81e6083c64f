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
/// whatever the tile a pair falls in, because every pair follows one accumulation scheme (`step`, `finish`):
/// blocks in order into one 8-lane float accumulator, acc += (d_w * d_x) * float(8 int32 lanes of dot(q, x)),
/// a scalar m += m_w * s_x (fused), and the result hsum(acc) + m. Tiles only choose which pairs run side by
/// side: matvec runs 4 weight rows against one activation (4 independent FMA chains), matmul one weight row
/// against 8 or 4 activations (one decoded block shared by all).
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

    /// The same for tiles of `cols` (4 or 8) activation rows: d of block i, row c replicated in 8 lanes at
    /// out[8 * (cols * i + c)] (so d_w * d_x is one vector multiply), then s at out[64 * nb + cols * i + c]
    /// (64 * nb: room for the 8-row layout).
    @inline(__always) static func convertScalesWide(_ x: UnsafeRawPointer, _ xStride: Int, _ cols: Int, _ nb: Int,
                                                    _ out: UnsafeMutablePointer<Float>) {
        for c in 0..<cols {
            var xb = x + c * xStride
            for i in 0..<nb {
                let (d, s) = activationScales(xb)
                UnsafeMutableRawPointer(out + 8 * (cols * i + c)).storeBytes(of: SIMD8(repeating: d), as: SIMD8<Float>.self)
                out[64 * nb + cols * i + c] = s
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

    /// One block of one pair: acc += dd * dot(q, y), dd = d_w * d_x in every lane; qa = unsignedOperand(q),
    /// y the activation's 32 quants.
    @inline(__always) static func step(_ dd: __m256, _ q: __m256i, _ qa: __m256i, _ y: __m256i, _ acc: inout __m256) {
        let yy = F.unsignedQuants ? y : _mm256_sign_epi8(y, q)    // signed quants: y with q's sign
        acc = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(dotU8I8(qa, yy)), acc)
    }

    /// The result of a pair from its accumulator and scalar term.
    @inline(__always) static func finish(_ acc: __m256, _ m: Float) -> Float { hsum(acc) + m }

    /// Weight rows w + t * rowStride (t in 0..<R) against one activation row x (scales at xs, convertScales layout).
    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ nb: Int,
                                      _ x: UnsafeRawPointer, _ xs: UnsafePointer<Float>) -> SIMD4<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        var m = SIMD4<Float>()
        var b = w, xb = x, s = xs
        for _ in 0..<nb {
            let y = ld256(xb + actQs), dx = s[0]
            @inline(__always) func row(_ t: Int, _ acc: inout __m256) -> Float {
                let q = F.quants(b + t * rowStride)
                let (dw, mw) = weightScales(b + t * rowStride)
                step(_mm256_set1_ps(dw * dx), q, unsignedOperand(q), y, &acc)
                return mw
            }
            var mw = SIMD4<Float>()
            mw[0] = row(0, &a0)
            if R.n > 1 { mw[1] = row(1, &a1); mw[2] = row(2, &a2); mw[3] = row(3, &a3) }
            if hasScalarTerm { m = m.addingProduct(mw, SIMD4(repeating: s[1])) }
            b += F.blockBytes; xb += actBytes; s += 2
        }
        var r = SIMD4<Float>()
        r[0] = finish(a0, m[0])
        if R.n > 1 { r[1] = finish(a1, m[1]); r[2] = finish(a2, m[2]); r[3] = finish(a3, m[3]) }
        return r
    }

    /// Weight row w against C (4 or 8) activation rows at x + c * xStride, scales at xs (convertScalesWide layout).
    @inline(__always)
    static func colsTile<C: TileSize>(_: C.Type, _ w: UnsafeRawPointer, _ nb: Int, _ x: UnsafeRawPointer,
                                      _ xStride: Int, _ xs: UnsafePointer<Float>) -> SIMD8<Float> {
        let cols = C.n
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        var m = SIMD8<Float>()
        var b = w, s = xs, sv = xs + 64 * nb
        var o = 0
        for _ in 0..<nb {
            let q = F.quants(b)
            let qa = unsignedOperand(q)
            let (dw, mw) = weightScales(b)
            let dwv = _mm256_set1_ps(dw)
            @inline(__always) func col(_ c: Int, _ acc: inout __m256) {
                step(_mm256_mul_ps(dwv, _mm256_loadu_ps(s + 8 * c)), q, qa, ld256(x + c * xStride + o + actQs), &acc)
            }
            col(0, &a0); col(1, &a1); col(2, &a2); col(3, &a3)
            if cols > 4 { col(4, &a4); col(5, &a5); col(6, &a6); col(7, &a7) }
            if hasScalarTerm {                  // m += m_w * s_x, as in rowsTile
                if cols > 4 {
                    m = m.addingProduct(SIMD8(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD8<Float>.self))
                } else {
                    m.lowHalf = m.lowHalf.addingProduct(SIMD4(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD4<Float>.self))
                }
            }
            b += F.blockBytes
            o += actBytes
            s += 8 * cols
            sv += cols
        }
        // finish() for every lane: hsum(acc) + m.
        var r = SIMD8<Float>(hsum(a0), hsum(a1), hsum(a2), hsum(a3), 0, 0, 0, 0)
        if cols > 4 { r.highHalf = SIMD4(hsum(a4), hsum(a5), hsum(a6), hsum(a7)) }
        return r + m
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
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 72 * nb) { buf in
            let xs = buf.baseAddress!
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {                 // a chunk of weight rows stays in cache ...
                let r1 = min(r0 + matmulRowChunk, rows.upperBound)
                var j = 0
                while j < n {                            // ... while activations pass by, 8 (or 4, or 1) rows at a time
                    let cols = n - j >= 8 ? 8 : n - j >= 4 ? 4 : 1
                    let xj = x + j * xStride
                    if cols == 1 {
                        convertScales(xj, nb, xs)
                        rowsAgainstOne(w, r0..<r1, nb, xj, xs, y + j * ldy + r0)
                    } else {
                        convertScalesWide(xj, xStride, cols, nb, xs)
                        if cols == 8 { colsPass(Tile8.self, w, r0..<r1, nb, xj, xStride, xs, y + j * ldy, ldy) }
                        else { colsPass(Tile4.self, w, r0..<r1, nb, xj, xStride, xs, y + j * ldy, ldy) }
                    }
                    j += cols
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
