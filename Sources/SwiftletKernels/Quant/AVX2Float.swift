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
                                     _ x: UnsafePointer<Float>, _ xStride: Int) -> SIMD4<Float> {
        let x1 = x + xStride, x2 = x1 + xStride, x3 = x2 + xStride
        var r = SIMD4<Float>()
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
        } else {
            var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
            while i + 8 <= k {
                let v = F.load8(w, i)
                a0 = _mm256_fmadd_ps(v, ldf(x + i), a0)
                a1 = _mm256_fmadd_ps(v, ldf(x1 + i), a1)
                a2 = _mm256_fmadd_ps(v, ldf(x2 + i), a2)
                a3 = _mm256_fmadd_ps(v, ldf(x3 + i), a3)
                i += 8
            }
            r = SIMD4(hsum(a0), hsum(a1), hsum(a2), hsum(a3))
        }
        while i < k {
            let v = F.scalar(w, i)
            r[0] += v * x[i]
            if C.n > 1 { r[1] += v * x1[i]; r[2] += v * x2[i]; r[3] += v * x3[i] }
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
            while j + 4 <= n {
                for r in r0..<r1 {
                    let s = rowTile(Cols4.self, w + r * rowBytes, k, x + j * xs, xs)
                    y[j * ldy + r] = s[0]; y[(j + 1) * ldy + r] = s[1]
                    y[(j + 2) * ldy + r] = s[2]; y[(j + 3) * ldy + r] = s[3]
                }
                j += 4
            }
            while j < n {
                for r in r0..<r1 { y[j * ldy + r] = rowTile(Cols1.self, w + r * rowBytes, k, x + j * xs, 0)[0] }
                j += 1
            }
            r0 = r1
        }
    }
}
#endif
