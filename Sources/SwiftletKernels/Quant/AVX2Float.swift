// AVX2 kernels for float weights (F32, F16, BF16), and for SW_I8_ROW's int8 codes read as floats (weight-only
// int8: codes widened to f32, the row's scale applied once at the end), against F32 activations (no activation
// quantization).
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

protocol FloatFormat {
    static var bytes: Int { get }
    /// 8 weights starting at element i of the row at w, as floats.
    static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256
    static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float
    /// Bytes a row of k elements takes (a row may start with a header).
    static func rowBytes(_ k: Int) -> Int
    /// What the row at w's dot products are multiplied by, once at the end (1 for plain floats).
    static func rowScale(_ w: UnsafeRawPointer) -> Float
}

extension FloatFormat {
    @inline(__always) static func rowBytes(_ k: Int) -> Int { k * bytes }
    @inline(__always) static func rowScale(_ w: UnsafeRawPointer) -> Float { 1 }
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

/// SW_I8_ROW: an f32 scale, then k int8 codes; element i is scale * code i.
enum FI8Row: FloatFormat {
    static var bytes: Int { 1 }
    @inline(__always) static func load8(_ w: UnsafeRawPointer, _ i: Int) -> __m256 {
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((w + 4 + i).assumingMemoryBound(to: __m128i.self))))
    }
    @inline(__always) static func scalar(_ w: UnsafeRawPointer, _ i: Int) -> Float {
        Float(w.load(fromByteOffset: 4 + i, as: Int8.self))
    }
    @inline(__always) static func rowBytes(_ k: Int) -> Int { 4 + k }
    @inline(__always) static func rowScale(_ w: UnsafeRawPointer) -> Float { w.loadUnaligned(as: Float.self) }
}

/// Batch invariance: matvec and matmul give bit-identical floats for the same (weight row, activation row),
/// because every pair follows one scheme: 8 elements at a time into one 8-lane accumulator (FMA), hsum, then the
/// k % 8 tail added one product at a time, then the row's scale (SW_I8_ROW; 1 otherwise) multiplied once. Tiles only choose which pairs run side by side: matvec runs 4 (or 1)
/// weight rows against one activation, matmul 2 weight rows against 4 activations.
enum FloatKernels<F: FloatFormat> {
    /// Weight rows w + t * rowStride (t in 0..<R) against one activation row x: result t in lane t.
    @inline(__always)
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ k: Int,
                                      _ x: UnsafePointer<Float>) -> SIMD4<Float> {
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
        for c in 0..<R.n { r[c] *= F.rowScale(w + c * rowStride) }
        return r
    }

    /// Weight row w against 4 activation rows at x + c * xStride (in floats): result c in lane c.
    @inline(__always)
    static func fourCols(_ w: UnsafeRawPointer, _ k: Int, _ x: UnsafePointer<Float>, _ xStride: Int) -> SIMD4<Float> {
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
        return r * F.rowScale(w)
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
        let (s0, s1) = (F.rowScale(w), F.rowScale(w1))
        return r * SIMD8(s0, s0, s0, s0, s1, s1, s1, s1)
    }

    /// y[r - rows.lowerBound] = dot(row r, x) for r in rows. 4 rows at a time, taken a quarter of the range
    /// apart: 4 independent FMA chains that each read memory front to back (adjacent rows at once defeat the
    /// hardware prefetcher when weights stream from DRAM; 8 streams measured slower than 4).
    @inline(__always)
    static func rowsAgainstOne(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>) {
        let rowBytes = F.rowBytes(k), lo = rows.lowerBound, g = rows.count / 4
        for i in 0..<g {
            let v = rowsTile(Tile4.self, w + (lo + i) * rowBytes, g * rowBytes, k, x)
            for c in 0..<4 { y[i + c * g] = v[c] }
        }
        for r in (lo + 4 * g)..<rows.upperBound { y[r - lo] = rowsTile(Tile1.self, w + r * rowBytes, rowBytes, k, x)[0] }
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        rowsAgainstOne(w, rows, k, xq.assumingMemoryBound(to: Float.self), y)
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer, _ xqStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let x = xq.assumingMemoryBound(to: Float.self), xs = xqStride / 4, rowBytes = F.rowBytes(k)
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let r1 = min(r0 + matmulRowChunk, rows.upperBound)
            var j = 0
            while j < n {
                let xj = x + j * xs
                if n - j < 4 {                          // leftover activation rows, one at a time
                    rowsAgainstOne(w, r0..<r1, k, xj, y + j * ldy + r0)
                    j += 1
                    continue
                }
                var r = r0
                while r + 2 <= r1 {                     // 2 weight rows x 4 activation rows per step
                    let s = twoRowsFourCols(w + r * rowBytes, rowBytes, k, xj, xs)
                    for c in 0..<4 { y[(j + c) * ldy + r] = s[c]; y[(j + c) * ldy + r + 1] = s[4 + c] }
                    r += 2
                }
                if r < r1 {
                    let s = fourCols(w + r * rowBytes, k, xj, xs)
                    for c in 0..<4 { y[(j + c) * ldy + r] = s[c] }
                }
                j += 4
            }
            r0 = r1
        }
    }
}
#endif
