// AVX2 kernels for the 256-weight K-quant formats (Q4_K, Q5_K, Q6_K) against Q8_K activations.
// Activations are quantized to 8 bits with group sums (Q8_K, ggml's vec_dot_type) by `quantizeQ8KAVX2` first.
//
// Per super-block and activation row: integer sums sum_j scale_j * dot(q_j, x_j) accumulate in 8 int32 lanes
// (madd with a vector of int16 scales both adds pairs and applies the scale), then one float FMA with d * d8.
// Mins (Q4_K/Q5_K) and Q6_K's -32 offset use the activation's group sums instead of touching the quants again.
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

/// Float accumulators of up to 8 activation rows.
typealias KAcc = (__m256, __m256, __m256, __m256, __m256, __m256, __m256, __m256)

protocol KFormat {
    static var blockBytes: Int { get }
    /// Dot products of one weight super-block with C activation super-blocks (at x + c * xStride), added to acc.
    static func superBlock<C: TileSize>(_: C.Type, _ b: UnsafeRawPointer, _ x: UnsafeRawPointer, _ xStride: Int,
                                        _ acc: inout KAcc)
}

@inline(__always) func q8kScale(_ x: UnsafeRawPointer) -> Float { x.loadUnaligned(as: Float.self) }

/// The 8 scales and 8 mins (6 bits each) of a Q4_K/Q5_K block as two 64-bit words of bytes.
@inline(__always) func unpackScalesK4(_ s: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
    let a = s.loadUnaligned(as: UInt32.self), b = s.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    let c = s.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
    let sc03 = a & 0x3F3F_3F3F, m03 = b & 0x3F3F_3F3F
    let sc47 = (c & 0x0F0F_0F0F) | ((a >> 6) & 0x0303_0303) << 4
    let m47 = ((c >> 4) & 0x0F0F_0F0F) | ((b >> 6) & 0x0303_0303) << 4
    return (UInt64(sc03) | UInt64(sc47) << 32, UInt64(m03) | UInt64(m47) << 32)
}

/// 8 int32 lanes holding sum_j mins_j * (bsums[2j] + bsums[2j+1]) in the low 4 (high 4 zero).
@inline(__always) func minsDotBsums(_ mins16: __m128i, _ x: UnsafeRawPointer) -> __m256i {
    let pairs = _mm_hadd_epi16(ld128(x + 260), ld128(x + 276))     // 8 sums of 32 activations
    return _mm256_zextsi128_si256(_mm_madd_epi16(mins16, pairs))
}

/// Shared by Q4_K and Q5_K: `quants(chunk)` gives the 64 quants of chunk 0..<4 as (low 32, high 32) bytes.
@inline(__always)
func superBlockK45<C: TileSize>(_: C.Type, _ b: UnsafeRawPointer, _ x: UnsafeRawPointer, _ xStride: Int,
                                _ acc: inout KAcc,
                                _ quants: (Int) -> (__m256i, __m256i)) {
    let d = h2f(b), dmin = h2f(b, 2)
    let (scales, mins) = unpackScalesK4(b + 4)
    let mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: mins)))
    let x1 = x + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride
    let x5 = x4 + xStride, x6 = x5 + xStride, x7 = x6 + xStride
    // The 8 scales as int16 in both 128-bit halves; sub-block j's scale is spread to all lanes by one shuffle.
    let scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(Int64(bitPattern: scales))))
    var s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0
    for c in 0..<4 {
        let (lo, hi) = quants(c)
        let scLo = _mm256_shuffle_epi8(scales16, _mm256_set1_epi16(Int16(4 * c | (4 * c + 1) << 8)))
        let scHi = _mm256_shuffle_epi8(scales16, _mm256_set1_epi16(Int16((4 * c + 2) | (4 * c + 3) << 8)))
        @inline(__always) func add(_ xb: UnsafeRawPointer, _ s: inout __m256i) {
            let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ld256(xb + 4 + 64 * c)), scLo)
            let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, ld256(xb + 36 + 64 * c)), scHi)
            s = _mm256_add_epi32(s, _mm256_add_epi32(p0, p1))
        }
        add(x, &s0)
        if C.n > 1 { add(x1, &s1); add(x2, &s2); add(x3, &s3) }
        if C.n > 4 { add(x4, &s4); add(x5, &s5); add(x6, &s6); add(x7, &s7) }
    }
    @inline(__always) func finish(_ xb: UnsafeRawPointer, _ s: __m256i, _ a: inout __m256) {
        let d8 = q8kScale(xb)
        a = _mm256_fmadd_ps(_mm256_set1_ps(d * d8), _mm256_cvtepi32_ps(s), a)
        a = _mm256_fmadd_ps(_mm256_set1_ps(-dmin * d8), _mm256_cvtepi32_ps(minsDotBsums(mins16, xb)), a)
    }
    finish(x, s0, &acc.0)
    if C.n > 1 { finish(x1, s1, &acc.1); finish(x2, s2, &acc.2); finish(x3, s3, &acc.3) }
    if C.n > 4 { finish(x4, s4, &acc.4); finish(x5, s5, &acc.5); finish(x6, s6, &acc.6); finish(x7, s7, &acc.7) }
}

enum FQ4K: KFormat {
    static var blockBytes: Int { 144 }
    @inline(__always)
    static func superBlock<C: TileSize>(_ cols: C.Type, _ b: UnsafeRawPointer, _ x: UnsafeRawPointer, _ xStride: Int,
                                        _ acc: inout KAcc) {
        let m4 = _mm256_set1_epi8(0x0F)
        superBlockK45(cols, b, x, xStride, &acc) { c in
            let q = ld256(b + 16 + 32 * c)
            return (_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4))
        }
    }
}

enum FQ5K: KFormat {
    static var blockBytes: Int { 176 }
    @inline(__always)
    static func superBlock<C: TileSize>(_ cols: C.Type, _ b: UnsafeRawPointer, _ x: UnsafeRawPointer, _ xStride: Int,
                                        _ acc: inout KAcc) {
        let m4 = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10)
        let qh = ld256(b + 16)
        superBlockK45(cols, b, x, xStride, &acc) { c in
            let q = ld256(b + 48 + 32 * c)
            // Bit 2c of qh[l] is the 5th bit of weight l of sub-block 2c; bit 2c+1 of sub-block 2c+1.
            let hLo = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, Int32(2 * c)), 4), bit4)
            let hHi = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, Int32(2 * c + 1)), 4), bit4)
            return (_mm256_or_si256(_mm256_and_si256(q, m4), hLo),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), hHi))
        }
    }
}

enum FQ6K: KFormat {
    static var blockBytes: Int { 210 }
    @inline(__always)
    static func superBlock<C: TileSize>(_: C.Type, _ b: UnsafeRawPointer, _ x: UnsafeRawPointer, _ xStride: Int,
                                        _ acc: inout KAcc) {
        let d = h2f(b, 208)
        let rawScales = ld128(b + 192)                              // 16 x int8
        let m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03)
        let x1 = x + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride
    let x5 = x4 + xStride, x6 = x5 + xStride, x7 = x6 + xStride
        var s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0
        for half in 0..<2 {                                         // 128 weights each
            let ql0 = ld256(b + 64 * half), ql1 = ld256(b + 64 * half + 32)
            let qh = ld256(b + 128 + 32 * half)
            // Unsigned 6-bit quants (0...63) of the 4 chunks of 32; the -32 offset is applied via bsums below.
            @inline(__always) func quants(_ c: Int) -> __m256i {
                switch c {
                case 0: return _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4))
                case 1: return _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4))
                case 2: return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4))
                default: return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4))
                }
            }
            for c in 0..<4 {
                let qc = quants(c)                                  // unsigned 0...63; -32 applied via bsums
                let g = 8 * half + 2 * c                            // groups g (elements 0..<16) and g + 1
                let pick = _mm_set_epi64x(0x0101_0101_0101_0101 &* Int64(g + 1), 0x0101_0101_0101_0101 &* Int64(g))
                let sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(rawScales, pick))
                let off = 4 + 128 * half + 32 * c
                @inline(__always) func add(_ xb: UnsafeRawPointer, _ s: inout __m256i) {
                    s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(qc, ld256(xb + off)), sc))
                }
                add(x, &s0)
                if C.n > 1 { add(x1, &s1); add(x2, &s2); add(x3, &s3) }
        if C.n > 4 { add(x4, &s4); add(x5, &s5); add(x6, &s6); add(x7, &s7) }
            }
        }
        let scales16 = _mm256_cvtepi8_epi16(rawScales)
        @inline(__always) func finish(_ xb: UnsafeRawPointer, _ s: __m256i, _ a: inout __m256) {
            let offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, ld256(xb + 260)), 5)   // 32 * sum sc_g * bsum_g
            a = _mm256_fmadd_ps(_mm256_set1_ps(d * q8kScale(xb)), _mm256_cvtepi32_ps(_mm256_sub_epi32(s, offset)), a)
        }
        finish(x, s0, &acc.0)
        if C.n > 1 { finish(x1, s1, &acc.1); finish(x2, s2, &acc.2); finish(x3, s3, &acc.3) }
    if C.n > 4 { finish(x4, s4, &acc.4); finish(x5, s5, &acc.5); finish(x6, s6, &acc.6); finish(x7, s7, &acc.7) }
    }
}

/// Batch invariance: every column of a tile takes exactly the steps of a 1-column tile (exact integer sums per
/// super-block, then the same float FMAs into its own accumulator, one hsum), so matmul and matvec give
/// bit-identical floats for the same (weight row, activation row).
enum KKernels<F: KFormat> {
    @inline(__always)
    static func rowTile<C: TileSize>(_ cols: C.Type, _ w: UnsafeRawPointer, _ nb: Int,
                                     _ x: UnsafeRawPointer, _ xStride: Int) -> SIMD8<Float> {
        let z = _mm256_setzero_ps()
        var acc: KAcc = (z, z, z, z, z, z, z, z)
        for i in 0..<nb { F.superBlock(cols, w + i * F.blockBytes, x + i * 292, xStride, &acc) }
        var r = SIMD8<Float>(hsum(acc.0), 0, 0, 0, 0, 0, 0, 0)
        if C.n > 1 { r[1] = hsum(acc.1); r[2] = hsum(acc.2); r[3] = hsum(acc.3) }
        if C.n > 4 { r[4] = hsum(acc.4); r[5] = hsum(acc.5); r[6] = hsum(acc.6); r[7] = hsum(acc.7) }
        return r
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let nb = k / 256, rowBytes = nb * F.blockBytes
        for r in rows { y[r - rows.lowerBound] = rowTile(Tile1.self, w + r * rowBytes, nb, x, 0)[0] }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let nb = k / 256, rowBytes = nb * F.blockBytes
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {                     // a chunk of weight rows stays in cache ...
            let r1 = min(r0 + matmulRowChunk, rows.upperBound)
            var j = 0
            while j < n {                                // ... while activations pass by, TILE (or 4, or 1) at a time
                let cols = n - j >= 8 ? 8 : n - j >= 4 ? 4 : 1
                let xj = x + j * xStride
                for r in r0..<r1 {
                    let wr = w + r * rowBytes
                    let s = cols == 8 ? rowTile(Tile8.self, wr, nb, xj, xStride)
                        : cols == 4 ? rowTile(Tile4.self, wr, nb, xj, xStride) : rowTile(Tile1.self, wr, nb, xj, 0)
                    for c in 0..<cols { y[(j + c) * ldy + r] = s[c] }
                }
                j += cols
            }
            r0 = r1
        }
    }
}

/// Q8_K activation quantization, bit-identical to ReferenceKernels.quantizeQ8K (ggml's quantize_row_q8_K_ref).
func quantizeQ8KAVX2(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) {
    for i in 0..<(k / 256) {
        let xb = x + 256 * i, b = dst + 292 * i
        let amax = absMax(xb, 256)
        var mx: Float = 0
        if amax != 0 {                                  // the first element of largest magnitude, 8 at a time
            // Equal magnitudes have equal bit patterns (amax is finite and nonzero here).
            let target = _mm256_castps_si256(_mm256_set1_ps(amax)), signMask = _mm256_set1_ps(-0.0)
            var j = 0
            while j < 256 {
                let magnitude = _mm256_castps_si256(_mm256_andnot_ps(signMask, ldf(xb + j)))
                let hit = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(magnitude, target)))
                if hit != 0 { mx = xb[j + Int(hit.trailingZeroBitCount)]; break }
                j += 8
            }
        }
        let iscale: Float = amax != 0 ? -127 / mx : 0
        for g in 0..<8 { _ = quantize32(xb + 32 * g, iscale, b + 4 + 32 * g) }
        // min(127, v): only +128 can overflow, and quantize32 already saturates it to 127 when packing.
        for g in 0..<16 {
            let v = _mm_cvtepi8_epi16(_mm_loadl_epi64((b + 4 + 16 * g).assumingMemoryBound(to: __m128i.self)))
            let w = _mm_cvtepi8_epi16(_mm_loadl_epi64((b + 12 + 16 * g).assumingMemoryBound(to: __m128i.self)))
            let s = unsafeBitCast(_mm_add_epi16(v, w), to: SIMD8<Int16>.self).wrappedSum()
            b.storeBytes(of: s, toByteOffset: 260 + 2 * g, as: Int16.self)
        }
        b.storeBytes(of: amax != 0 ? 1 / iscale : 0, toByteOffset: 0, as: Float.self)
    }
}
#endif
