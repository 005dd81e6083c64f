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

enum Q32Kernels<F: Q32Format> {
    static var actBytes: Int { F.hasMin ? 36 : 34 }
    static var actQs: Int { F.hasMin ? 4 : 2 }

    /// Whether term() adds a per-block scalar m_w * s_x (a min, or the offset of Q4_0/Q5_0).
    static var hasScalarTerm: Bool { F.hasMin || F.offset != 0 }

    /// The activation blocks' f16 scales as floats, converted once per call instead of once per weight row, for
    /// `cols` activation rows: out[2 * cols * i + c] = d, out[2 * cols * i + cols + c] = s = d * sum(q) of block i
    /// of activation row c (Q8_1 stores s; for Q8_0 and a weight format with an offset, s = -offset * d * sum(q)).
    @inline(__always) static func convertScales(_ x: UnsafeRawPointer, _ xStride: Int, _ cols: Int, _ nb: Int,
                                                _ out: UnsafeMutablePointer<Float>) {
        for c in 0..<cols {
            var xb = x + c * xStride
            for i in 0..<nb {
                let (d, s) = activationScales(xb)
                out[2 * cols * i + c] = d; out[2 * cols * i + cols + c] = s
                xb += actBytes
            }
        }
    }

    /// For tiles of `cols` (4 or 8) activation rows: d of block i, row c replicated in 8 lanes at
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

    /// acc += d_w * d_x * dot(q, x) for one block; m += m_w * s_x (formats with a min). xs: (d_x, s_x).
    @inline(__always) static func term(_ dw: Float, _ mw: Float, _ q: __m256i, _ qa: __m256i, _ xb: UnsafeRawPointer,
                                       _ xs: UnsafePointer<Float>, _ acc: inout __m256, _ m: inout Float) {
        let y = ld256(xb + actQs)
        // Signed quants: |q| (once per block) times the activation with q's sign.
        let yy = F.unsignedQuants ? y : _mm256_sign_epi8(y, q)
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * xs[0]), _mm256_cvtepi32_ps(dotU8I8(qa, yy)), acc)
        if hasScalarTerm { m = m.addingProduct(mw, xs[1]) }
    }

    /// Dot products of weight row `w` (nb blocks) with C activation rows at x + c * xStride, whose converted
    /// scales are at xs (convertScales layout for C = 1, convertScalesWide for C = 4 or 8).
    @inline(__always)
    static func rowTile<C: TileCols>(_: C.Type, _ w: UnsafeRawPointer, _ nb: Int, _ x: UnsafeRawPointer,
                                     _ xStride: Int, _ xs: UnsafePointer<Float>) -> SIMD8<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        var m0: Float = 0, m1: Float = 0         // scalar terms (C = 1)
        var b = w, xb = x, s = xs
        var i = 0
        if C.n == 1 {
            // Two blocks per step into two accumulators: the FMA latency chain is the limit otherwise.
            while i + 2 <= nb {
                let q0 = F.quants(b), q1 = F.quants(b + F.blockBytes)
                let (d0, n0) = weightScales(b), (d1, n1) = weightScales(b + F.blockBytes)
                term(d0, n0, q0, F.unsignedQuants ? q0 : _mm256_sign_epi8(q0, q0), xb, s, &a0, &m0)
                term(d1, n1, q1, F.unsignedQuants ? q1 : _mm256_sign_epi8(q1, q1), xb + actBytes, s + 2, &a1, &m1)
                b += 2 * F.blockBytes; xb += 2 * actBytes; s += 4; i += 2
            }
            if i < nb {
                let q = F.quants(b)
                let (d0, n0) = weightScales(b)
                term(d0, n0, q, F.unsignedQuants ? q : _mm256_sign_epi8(q, q), xb, s, &a0, &m0)
            }
            return SIMD8(hsum(_mm256_add_ps(a0, a1)) + (m0 + m1), 0, 0, 0, 0, 0, 0, 0)
        }
        // 4 or 8 columns: one weight block decoded, then used against every column. Scales: convertScalesWide.
        let cols = C.n
        var sv = xs + 64 * nb
        var a4 = _mm256_setzero_ps(), a5 = a4, a6 = a4, a7 = a4
        var mv = SIMD8<Float>()
        var o = 0
        for _ in 0..<nb {
            let q = F.quants(b)
            let qa = F.unsignedQuants ? q : _mm256_sign_epi8(q, q)
            let (dw, mw) = weightScales(b)
            let dwv = _mm256_set1_ps(dw)
            @inline(__always) func col(_ c: Int, _ acc: inout __m256) {
                let y = ld256(x + c * xStride + o + actQs)
                let yy = F.unsignedQuants ? y : _mm256_sign_epi8(y, q)
                let dd = _mm256_mul_ps(dwv, _mm256_loadu_ps(s + 8 * c))
                acc = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(dotU8I8(qa, yy)), acc)
            }
            col(0, &a0); col(1, &a1); col(2, &a2); col(3, &a3)
            if cols > 4 { col(4, &a4); col(5, &a5); col(6, &a6); col(7, &a7) }
            if hasScalarTerm {
                if cols > 4 {
                    mv = mv.addingProduct(SIMD8(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD8<Float>.self))
                } else {
                    let m4 = mv.lowHalf.addingProduct(SIMD4(repeating: mw), UnsafeRawPointer(sv).loadUnaligned(as: SIMD4<Float>.self))
                    mv = SIMD8(lowHalf: m4, highHalf: .zero)
                }
            }
            b += F.blockBytes
            o += actBytes
            s += 8 * cols
            sv += cols
        }
        var r = SIMD8<Float>(hsum(a0), hsum(a1), hsum(a2), hsum(a3), 0, 0, 0, 0)
        if cols > 4 { r.highHalf = SIMD4(hsum(a4), hsum(a5), hsum(a6), hsum(a7)) }
        return r + mv
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let nb = k / 32, rowBytes = nb * F.blockBytes
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * nb) { xs in
            convertScales(x, 0, 1, nb, xs.baseAddress!)
            for r in rows { y[r - rows.lowerBound] = rowTile(Cols1.self, w + r * rowBytes, nb, x, 0, xs.baseAddress!)[0] }
        }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let nb = k / 32, rowBytes = nb * F.blockBytes
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 72 * nb) { buf in
            let xs = buf.baseAddress!
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {                 // a chunk of weight rows stays in cache ...
                let r1 = min(r0 + matmulRowChunk, rows.upperBound)
                var j = 0
                while j < n {                            // ... while activations pass by, 8 (or 4, or 1) rows at a time
                    let cols = n - j >= 8 ? 8 : n - j >= 4 ? 4 : 1
                    let xj = x + j * xStride
                    if cols == 1 { convertScales(xj, xStride, 1, nb, xs) } else { convertScalesWide(xj, xStride, cols, nb, xs) }
                    for r in r0..<r1 {
                        let wr = w + r * rowBytes
                        let s = cols == 8 ? rowTile(Cols8.self, wr, nb, xj, xStride, xs)
                            : cols == 4 ? rowTile(Cols4.self, wr, nb, xj, xStride, xs) : rowTile(Cols1.self, wr, nb, xj, 0, xs)
                        for c in 0..<cols { y[(j + c) * ldy + r] = s[c] }
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
