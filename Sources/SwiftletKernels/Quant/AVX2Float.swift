// AVX2 kernels for float weights (F32, F16, BF16) against F32 activations (no activation quantization).
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

protocol FloatFormat {
    static var bytes: Int { get }
    /// 8 weights starting at element i of the row, as floats.
    static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256
    static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float
}

enum FF32: FloatFormat {
    static var bytes: Int { 4 }
    @inline(__always) static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_loadu_ps((w + 4 * i).assumingMemoryBound(to: Float.self))
    }
    @inline(__always) static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        w.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }
}

enum FF16: FloatFormat {
    static var bytes: Int { 2 }
    @inline(__always) static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256 { _mm256_cvtph_ps(ld128(w + 2 * i)) }
    @inline(__always) static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float { h2f(w, 2 * i) }
}

enum FBF16: FloatFormat {
    static var bytes: Int { 2 }
    @inline(__always) static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(ld128(w + 2 * i)), 16))
    }
    @inline(__always) static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        bf16ToFloat(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

enum FloatKernels<F: FloatFormat> {
    /// Dot products of weight row `w` (k elements) with C float activation rows at x + c * xStride (in floats).
    @inline(__always)
    static func rowTile<C: TileCols>(_: C.Type, _ w: UnsafeRawPointer, _ k: Int,
                                     _ x: UnsafePointer<Float>, _ xStride: Int) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        var i = 0
        if C.n == 1 {                       // two independent accumulators hide FMA latency
            var a0 = _mm256_setzero_ps(), a1 = a0
            while i + 16 <= k {
                a0 = _mm256_fmadd_ps(F.load8(w, i), ldf(x + i), a0)
                a1 = _mm256_fmadd_ps(F.load8(w, i + 8), ldf(x + i + 8), a1)
                i += 16
            }
            while i + 8 <= k { a0 = _mm256_fmadd_ps(F.load8(w, i), ldf(x + i), a0); i += 8 }
            r[0] = hsum(_mm256_add_ps(a0, a1))
        } else {                            // 4 columns share each weight load
            var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
            while i + 8 <= k {
                let v = F.load8(w, i)
                a0 = _mm256_fmadd_ps(v, ldf(x + i), a0)
                a1 = _mm256_fmadd_ps(v, ldf(x + xStride + i), a1)
                a2 = _mm256_fmadd_ps(v, ldf(x + 2 * xStride + i), a2)
                a3 = _mm256_fmadd_ps(v, ldf(x + 3 * xStride + i), a3)
                i += 8
            }
            r = SIMD8(hsum(a0), hsum(a1), hsum(a2), hsum(a3), 0, 0, 0, 0)
        }
        while i < k {                       // tail of k % 8 elements
            let v = F.scalar(w, i)
            for c in 0..<C.n { r[c] += v * x[c * xStride + i] }
            i += 1
        }
        return r
    }

    /// Rows w and w + rowBytes against 4 activation rows: 8 accumulators, and only 4 activation rows
    /// (4 * k floats) need to stay in L1. Result: (row 0: cols 0..<4, row 1: cols 0..<4).
    @inline(__always)
    static func twoRowsFourCols(_ w: UnsafeRawPointer, _ rowBytes: Int, _ k: Int,
                                _ x: UnsafePointer<Float>, _ xStride: Int) -> SIMD8<Float> {
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
        let w1 = w + rowBytes
        var i = 0
        while i + 8 <= k {
            let u = F.load8(w, i), v = F.load8(w1, i)
            let x0 = ldf(x + i), x1 = ldf(x + xStride + i), x2 = ldf(x + 2 * xStride + i), x3 = ldf(x + 3 * xStride + i)
            a0 = _mm256_fmadd_ps(u, x0, a0); b0 = _mm256_fmadd_ps(v, x0, b0)
            a1 = _mm256_fmadd_ps(u, x1, a1); b1 = _mm256_fmadd_ps(v, x1, b1)
            a2 = _mm256_fmadd_ps(u, x2, a2); b2 = _mm256_fmadd_ps(v, x2, b2)
            a3 = _mm256_fmadd_ps(u, x3, a3); b3 = _mm256_fmadd_ps(v, x3, b3)
            i += 8
        }
        var r = SIMD8(hsum(a0), hsum(a1), hsum(a2), hsum(a3), hsum(b0), hsum(b1), hsum(b2), hsum(b3))
        while i < k {
            let u = F.scalar(w, i), v = F.scalar(w1, i)
            for c in 0..<4 { r[c] += u * x[c * xStride + i]; r[4 + c] += v * x[c * xStride + i] }
            i += 1
        }
        return r
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        let x = xq.assumingMemoryBound(to: Float.self), rowBytes = k * F.bytes
        for r in rows { y[r - rows.lowerBound] = rowTile(Cols1.self, w + r * rowBytes, k, x, 0)[0] }
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer, _ xqStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let x = xq.assumingMemoryBound(to: Float.self), xs = xqStride / 4, rowBytes = k * F.bytes
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let r1 = min(r0 + matmulRowChunk, rows.upperBound)
            var j = 0
            while j < n {
                let cols = n - j >= 4 ? 4 : 1
                let xj = x + j * xs
                var r = r0
                if cols == 4 {
                    while r + 2 <= r1 {                 // 2 weight rows x 4 activation rows per step
                        let s = twoRowsFourCols(w + r * rowBytes, rowBytes, k, xj, xs)
                        for c in 0..<4 { y[(j + c) * ldy + r] = s[c]; y[(j + c) * ldy + r + 1] = s[4 + c] }
                        r += 2
                    }
                }
                while r < r1 {
                    let wr = w + r * rowBytes
                    let s = cols == 4 ? rowTile(Cols4.self, wr, k, xj, xs) : rowTile(Cols1.self, wr, k, xj, 0)
                    for c in 0..<cols { y[(j + c) * ldy + r] = s[c] }
                    r += 1
                }
                j += cols
            }
            r0 = r1
        }
    }
}
#endif
