// AVX2 kernels for float weights (F32, F16, BF16) against F32 activations (no activation quantization).
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

protocol FloatFormat {
    static var bytes: Int { get }
    /// 8 weights starting at element i of the row at w, as floats.
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

/// Every (weight row, activation row) pair follows one scheme, whichever tile runs it (RowTiles' batch
/// invariance): 8 elements at a time into one 8-lane accumulator (FMA), hsum, then the k % 8 tail added one
/// product at a time.
enum FloatKernels<F: FloatFormat>: RowTiles {
    @inline(__always) static func rowBytes(_ k: Int) -> Int { k * F.bytes }

    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ k: Int,
                                      _ xq: UnsafeRawPointer) -> SIMD4<Float> {
        let x = xq.assumingMemoryBound(to: Float.self)
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i + 8 <= k {
            let v = ldf(x + i)
            a0 = _mm256_fmadd_ps(F.load8(w, i), v, a0)
            if R.n > 1 {
                a1 = _mm256_fmadd_ps(F.load8(w + rowStride, i), v, a1)
                a2 = _mm256_fmadd_ps(F.load8(w + 2 * rowStride, i), v, a2)
                a3 = _mm256_fmadd_ps(F.load8(w + 3 * rowStride, i), v, a3)
            }
            i += 8
        }
        var r = SIMD4<Float>()
        r[0] = hsum(a0)
        if R.n > 1 { r[1] = hsum(a1); r[2] = hsum(a2); r[3] = hsum(a3) }
        while i < k {                       // tail of k % 8 elements
            for c in 0..<R.n { r[c] += F.scalar(w + c * rowStride, i) * x[i] }
            i += 1
        }
        return r
    }

    @inline(__always)
    static func fourCols(_ w: UnsafeRawPointer, _ k: Int, _ xq: UnsafeRawPointer, _ xqStride: Int) -> SIMD4<Float> {
        let x = xq.assumingMemoryBound(to: Float.self), xStride = xqStride / 4
        var a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i + 8 <= k {                  // 4 columns share each weight load
            let v = F.load8(w, i)
            a0 = _mm256_fmadd_ps(v, ldf(x + i), a0)
            a1 = _mm256_fmadd_ps(v, ldf(x + xStride + i), a1)
            a2 = _mm256_fmadd_ps(v, ldf(x + 2 * xStride + i), a2)
            a3 = _mm256_fmadd_ps(v, ldf(x + 3 * xStride + i), a3)
            i += 8
        }
        var r = SIMD4(hsum(a0), hsum(a1), hsum(a2), hsum(a3))
        while i < k {
            let v = F.scalar(w, i)
            for c in 0..<4 { r[c] += v * x[c * xStride + i] }
            i += 1
        }
        return r
    }

    @inline(__always)
    static func twoRowsFourCols(_ w: UnsafeRawPointer, _ rowBytes: Int, _ k: Int,
                                _ xq: UnsafeRawPointer, _ xqStride: Int) -> SIMD8<Float> {
        let x = xq.assumingMemoryBound(to: Float.self), xStride = xqStride / 4
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
}
#endif
