// The matvec / matmul driver shared by kernels whose rows need no per-call scratch (float weights, SW_I8_ROW):
// a kernel supplies three register tiles, this walks a weight matrix and the activation rows with them.
#if SWIFTLET_AVX2
import SwiftletCore

/// Register tiles over one weight-row format and its activation layout (rows of `k` elements; x is the
/// activation row as the kernel table quantized it, strides in bytes).
///
/// Batch invariance: every tile must compute each (weight row, activation row) pair with the same operations in
/// the same order, so matvec (rowsTile) and matmul (the other two) give bit-identical floats; tiles only choose
/// which pairs run side by side.
protocol RowTiles {
    /// Bytes of one weight row of k elements.
    static func rowBytes(_ k: Int) -> Int
    /// Weight rows w + t * rowStride (t in 0..<R.n) against one activation row x: result t in lane t.
    static func rowsTile<R: TileSize>(_: R.Type, _ w: UnsafeRawPointer, _ rowStride: Int, _ k: Int,
                                      _ x: UnsafeRawPointer) -> SIMD4<Float>
    /// Weight row w against 4 activation rows at x + c * xStride: result c in lane c.
    static func fourCols(_ w: UnsafeRawPointer, _ k: Int, _ x: UnsafeRawPointer, _ xStride: Int) -> SIMD4<Float>
    /// Rows w and w + rowBytes against 4 activation rows: (row 0: cols 0..<4, row 1: cols 0..<4). 8 accumulators,
    /// and only 4 activation rows need to stay in L1.
    static func twoRowsFourCols(_ w: UnsafeRawPointer, _ rowBytes: Int, _ k: Int, _ x: UnsafeRawPointer,
                                _ xStride: Int) -> SIMD8<Float>
}

extension RowTiles {
    /// y[r - rows.lowerBound] = dot(row r, x) for r in rows. 4 rows at a time, taken a quarter of the range
    /// apart: 4 independent chains that each read memory front to back (adjacent rows at once defeat the
    /// hardware prefetcher when weights stream from DRAM; 8 streams measured slower than 4).
    @inline(__always)
    static func rowsAgainstOne(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ x: UnsafeRawPointer,
                               _ y: UnsafeMutablePointer<Float>) {
        let rowBytes = Self.rowBytes(k), lo = rows.lowerBound, g = rows.count / 4
        for i in 0..<g {
            let v = rowsTile(Tile4.self, w + (lo + i) * rowBytes, g * rowBytes, k, x)
            for c in 0..<4 { y[i + c * g] = v[c] }
        }
        for r in (lo + 4 * g)..<rows.upperBound { y[r - lo] = rowsTile(Tile1.self, w + r * rowBytes, rowBytes, k, x)[0] }
    }

    static func matvec(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer,
                       _ y: UnsafeMutablePointer<Float>) {
        rowsAgainstOne(w, rows, k, xq, y)
    }

    static func matmul(_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int, _ xq: UnsafeRawPointer, _ xqStride: Int,
                       _ n: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
        let rowBytes = Self.rowBytes(k)
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let r1 = min(r0 + matmulRowChunk, rows.upperBound)
            var j = 0
            while j < n {
                let xj = xq + j * xqStride
                if n - j < 4 {                          // leftover activation rows, one at a time
                    rowsAgainstOne(w, r0..<r1, k, xj, y + j * ldy + r0)
                    j += 1
                    continue
                }
                var r = r0
                while r + 2 <= r1 {                     // 2 weight rows x 4 activation rows per step
                    let s = twoRowsFourCols(w + r * rowBytes, rowBytes, k, xj, xqStride)
                    for c in 0..<4 { y[(j + c) * ldy + r] = s[c]; y[(j + c) * ldy + r + 1] = s[4 + c] }
                    r += 2
                }
                if r < r1 {
                    let s = fourCols(w + r * rowBytes, k, xj, xqStride)
                    for c in 0..<4 { y[(j + c) * ldy + r] = s[c] }
                }
                j += 4
            }
            r0 = r1
        }
    }
}
#endif
