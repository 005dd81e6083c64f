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
    static func quants(_ b: UnsafeRawPointer) -> __m256i
}

enum FQ4_0: Q32Format {
    static var blockBytes: Int { 18 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { false }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i {
        _mm256_sub_epi8(nibbles32(b + 2), _mm256_set1_epi8(8))
    }
}

enum FQ4_1: Q32Format {
    static var blockBytes: Int { 20 }
    static var hasMin: Bool { true }
    static var unsignedQuants: Bool { true }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i { nibbles32(b + 4) }
}

enum FQ5_0: Q32Format {
    static var blockBytes: Int { 22 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { false }
    /// nibble | bit << 4, minus 16: where the 5th bit is clear, OR-ing 0xF0 gives nibble - 16 as int8.
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i {
        let high = _mm256_andnot_si256(bitsToBytes32(b + 2), _mm256_set1_epi8(-16))
        return _mm256_or_si256(nibbles32(b + 6), high)
    }
}

enum FQ5_1: Q32Format {
    static var blockBytes: Int { 24 }
    static var hasMin: Bool { true }
    static var unsignedQuants: Bool { true }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles32(b + 8), _mm256_and_si256(bitsToBytes32(b + 4), _mm256_set1_epi8(0x10)))
    }
}

enum FQ8_0: Q32Format {
    static var blockBytes: Int { 34 }
    static var hasMin: Bool { false }
    static var unsignedQuants: Bool { false }
    @inline(__always) static func quants(_ b: UnsafeRawPointer) -> __m256i { ld256(b + 2) }
}

enum Q32Kernels<F: Q32Format> {
    static var actBytes: Int { F.hasMin ? 36 : 34 }
    static var actQs: Int { F.hasMin ? 4 : 2 }

    /// Dot products of weight row `w` (nb blocks) with C activation rows at x + c * xStride.
    @inline(__always)
    static func rowTile<C: TileCols>(_: C.Type, _ w: UnsafeRawPointer, _ nb: Int,
                                     _ x: UnsafeRawPointer, _ xStride: Int) -> SIMD4<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        var m = SIMD4<Float>()                       // sum of min * s terms (formats with a min)
        let x1 = x + xStride, x2 = x1 + xStride, x3 = x2 + xStride
        var b = w
        var o = 0                                    // activation block offset
        for _ in 0..<nb {
            let q = F.quants(b)
            let dw = h2f(b)
            // Signed quants: |q| once per block, the sign goes onto each activation.
            let qa = F.unsignedQuants ? q : _mm256_sign_epi8(q, q)
            @inline(__always) func term(_ xb: UnsafeRawPointer, _ acc: inout __m256) {
                let y = ld256(xb + actQs)
                let yy = F.unsignedQuants ? y : _mm256_sign_epi8(y, q)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(xb)), _mm256_cvtepi32_ps(dotU8I8(qa, yy)), acc)
            }
            term(x + o, &a0)
            if C.n > 1 { term(x1 + o, &a1); term(x2 + o, &a2); term(x3 + o, &a3) }
            if F.hasMin {
                let mw = h2f(b, 2)
                m[0] += mw * h2f(x + o, 2)
                if C.n > 1 { m[1] += mw * h2f(x1 + o, 2); m[2] += mw * h2f(x2 + o, 2); m[3] += mw * h2f(x3 + o, 2) }
            }
            b += F.blockBytes
            o += actBytes
        }
        var r = SIMD4<Float>(hsum(a0), 0, 0, 0)
        if C.n > 1 { r[1] = hsum(a1); r[2] = hsum(a2); r[3] = hsum(a3) }
        return F.hasMin ? r + m : r
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let nb = k / 32, rowBytes = nb * F.blockBytes
        for r in rows { y[r - rows.lowerBound] = rowTile(Cols1.self, w + r * rowBytes, nb, x, 0)[0] }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let nb = k / 32, rowBytes = nb * F.blockBytes
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let r1 = min(r0 + matmulRowChunk, rows.upperBound)
            var j = 0
            while j + 4 <= n {                         // 1 weight row x 4 activation rows per step
                for r in r0..<r1 {
                    let s = rowTile(Cols4.self, w + r * rowBytes, nb, x + j * xStride, xStride)
                    y[j * ldy + r] = s[0]; y[(j + 1) * ldy + r] = s[1]
                    y[(j + 2) * ldy + r] = s[2]; y[(j + 3) * ldy + r] = s[3]
                }
                j += 4
            }
            while j < n {
                for r in r0..<r1 { y[j * ldy + r] = rowTile(Cols1.self, w + r * rowBytes, nb, x + j * xStride, 0)[0] }
                j += 1
            }
            r0 = r1
        }
    }
}

/// Q8_0 (withSum false) / Q8_1 activation quantization; bit-identical to ReferenceKernels.quantizeQ8.
func quantizeQ8AVX2(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int, withSum: Bool) {
    let bb = withSum ? 36 : 34, qo = withSum ? 4 : 2
    for i in 0..<(k / 32) {
        let xb = x + 32 * i, b = dst + bb * i
        let d = absMax(xb, 32) / 127
        let id: Float = d != 0 ? 1 / d : 0
        let sum = quantize32(xb, id, b + qo)
        b.storeBytes(of: floatToHalf(d), toByteOffset: 0, as: UInt16.self)
        if withSum { b.storeBytes(of: floatToHalf(Float(sum) * d), toByteOffset: 2, as: UInt16.self) }
    }
}
#endif
