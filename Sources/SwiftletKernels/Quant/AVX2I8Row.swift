// AVX2 kernels for SW_I8_ROW: int8 codes against SW_Q16 activations (int16 codes with an f32 scale per block of
// 32, quantized here by `quantizeQ16AVX2`). Per block: codes widened to int16 (vpmovsxbw), 16 exact multiply-adds
// per vpmaddwd into int32 lanes, one float FMA by the block's activation scale; the row's scale once at the end.
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

/// SW_Q16 quantization of one activation row, bit for bit `ReferenceKernels.quantizeQ16` (cvtps2dq rounds to
/// nearest even, packssdw saturates).
func quantizeQ16AVX2(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) {
    for i in 0..<(k / 32) {
        let xb = x + 32 * i, b = dst + 68 * i
        let amax = absMax(xb, 32)
        let m = _mm256_set1_ps(amax != 0 ? 32767 / amax : 0)
        let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(xb), m)), i1 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(xb + 8), m))
        let i2 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(xb + 16), m)), i3 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(xb + 24), m))
        // packs works per 128-bit half: 32-bit lanes (0, 1, 4, 5, 2, 3, 6, 7) put the 16 values back in order.
        let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
        let lo = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i0, i1), order)
        let hi = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(i2, i3), order)
        b.storeBytes(of: amax / 32767, as: Float.self)
        _mm256_storeu_si256((b + 4).assumingMemoryBound(to: __m256i.self), lo)
        _mm256_storeu_si256((b + 36).assumingMemoryBound(to: __m256i.self), hi)
    }
}

/// Every (row, activation) pair: for each block in order, acc = fma(float(exact int32 lanes), d_x, acc); then
/// hsum(acc) * row scale. k is a multiple of 32 (SW_I8_ROW's rows are).
enum I8RowKernels: RowTiles {
    @inline(__always) static func rowBytes(_ k: Int) -> Int { 4 + k }

    /// Block b's 32 codes of the row at w, widened to int16: (codes 0..<16, codes 16..<32).
    @inline(__always) static func codes(_ w: UnsafeRawPointer, _ b: Int) -> (__m256i, __m256i) {
        (_mm256_cvtepi8_epi16(ld128(w + 4 + 32 * b)), _mm256_cvtepi8_epi16(ld128(w + 20 + 32 * b)))
    }

    /// Activation block b of the row at x: (scale broadcast, codes 0..<16, codes 16..<32).
    @inline(__always) static func activation(_ x: UnsafeRawPointer, _ b: Int) -> (__m256, __m256i, __m256i) {
        let p = x + 68 * b
        return (_mm256_set1_ps(p.loadUnaligned(as: Float.self)), ld256(p + 4), ld256(p + 36))
    }

    /// acc + float(codes . activation codes, 8 exact int32 lanes of 4 products each) * d. The lanes stay under
    /// 2^24 in magnitude (4 * 128 * 32768), so the conversion is exact.
    @inline(__always) static func step(_ c: (__m256i, __m256i), _ a: (__m256, __m256i, __m256i), _ acc: __m256) -> __m256 {
        let p = _mm256_add_epi32(_mm256_madd_epi16(c.0, a.1), _mm256_madd_epi16(c.1, a.2))
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), a.0, acc)
    }

    @inline(__always) static func scale(_ w: UnsafeRawPointer) -> Float { w.loadUnaligned(as: Float.self) }

    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ k: Int,
                                      _ x: UnsafeRawPointer) -> SIMD4<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        for b in 0..<(k / 32) {
            let a = activation(x, b)
            a0 = step(codes(w, b), a, a0)
            if R.n > 1 {
                a1 = step(codes(w + rowStride, b), a, a1)
                a2 = step(codes(w + 2 * rowStride, b), a, a2)
                a3 = step(codes(w + 3 * rowStride, b), a, a3)
            }
        }
        var r = SIMD4<Float>()
        r[0] = hsum(a0) * scale(w)
        if R.n > 1 {
            r[1] = hsum(a1) * scale(w + rowStride)
            r[2] = hsum(a2) * scale(w + 2 * rowStride)
            r[3] = hsum(a3) * scale(w + 3 * rowStride)
        }
        return r
    }

    @inline(__always)
    static func fourCols(_ w: UnsafeRawPointer, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int) -> SIMD4<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        for b in 0..<(k / 32) {                 // 4 columns share each widened weight block
            let c = codes(w, b)
            a0 = step(c, activation(x, b), a0)
            a1 = step(c, activation(x + xStride, b), a1)
            a2 = step(c, activation(x + 2 * xStride, b), a2)
            a3 = step(c, activation(x + 3 * xStride, b), a3)
        }
        return SIMD4(hsum(a0), hsum(a1), hsum(a2), hsum(a3)) * scale(w)
    }

    @inline(__always)
    static func twoRowsFourCols(_ w: UnsafeRawPointer, _ rowBytes: Int, _ k: Int, _ x: UnsafeRawPointer,
                                _ xStride: Int) -> SIMD8<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
        let w1 = w + rowBytes
        for b in 0..<(k / 32) {
            let u = codes(w, b), v = codes(w1, b)
            let x0 = activation(x, b)
            a0 = step(u, x0, a0); b0 = step(v, x0, b0)
            let x1 = activation(x + xStride, b)
            a1 = step(u, x1, a1); b1 = step(v, x1, b1)
            let x2 = activation(x + 2 * xStride, b)
            a2 = step(u, x2, a2); b2 = step(v, x2, b2)
            let x3 = activation(x + 3 * xStride, b)
            a3 = step(u, x3, a3); b3 = step(v, x3, b3)
        }
        let (s0, s1) = (scale(w), scale(w1))
        return SIMD8(hsum(a0), hsum(a1), hsum(a2), hsum(a3), hsum(b0), hsum(b1), hsum(b2), hsum(b3))
            * SIMD8(s0, s0, s0, s0, s1, s1, s1, s1)
    }
}
#endif
