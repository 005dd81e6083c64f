// GPTQ's error feedback (Frantar et al. 2022): a weight row is rounded one input column at a time, and
// each column's rounding error is carried onto the columns not yet rounded, so that what stays small is
// the layer's output error over the calibration inputs, E‖(w − ŵ)·x‖², not each weight's own error.
import Foundation
import SwiftletCore

/// What GPTQ needs from a linear layer's inputs: the column order and the upper Cholesky factor U of
/// (H + λI)⁻¹ = UᵀU, where H = E[x xᵀ] over the calibration tokens and λ = `damping` × mean(diag H).
///
/// Columns are rounded in order of decreasing H_jj ("act order": the columns that carry the most input
/// energy are rounded first, while the most columns are left to absorb their errors). When column i
/// (in that order) rounds to ŵ_i, the error e = (w_i − ŵ_i) / U_ii updates w_j −= e · U_ij for every j
/// after it. An input channel the calibration never reached (H_jj = 0) gets only the damping, so its
/// weight is simply rounded; nothing is zeroed.
public struct GPTQFactor: Sendable {
    public let k: Int
    /// order[i]: the input column rounded i-th.
    public let order: [Int]
    /// U in `order`'s permutation, row-major k × k; only the upper triangle (i ≤ j) is used.
    let u: [Float]
    /// U as above, for inspection.
    public var upper: [Double] { u.map(Double.init) }

    /// - h: H, k × k row-major (symmetric), any positive scale (a sum or a mean of x xᵀ).
    public init(secondMoments h: [Double], k: Int, damping: Double = 0.01) throws {
        guard k > 0, h.count == k * k else { throw QuantizationError("expected a \(k) x \(k) second-moment matrix, got \(h.count) values") }
        guard damping > 0, damping.isFinite else { throw QuantizationError("GPTQ's damping must be positive, got \(damping)") }
        let diagonal = (0..<k).map { h[$0 * k + $0] }
        guard diagonal.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw QuantizationError("the calibration inputs' second moments are not finite or have a negative diagonal")
        }
        let mean = diagonal.reduce(0, +) / Double(k)
        let lambda = damping * (mean > 0 ? mean : 1)
        let order = (0..<k).sorted { diagonal[$0] != diagonal[$1] ? diagonal[$0] > diagonal[$1] : $0 < $1 }
        // U of A⁻¹ (A = permuted H + λI) from the lower Cholesky factor M of A reversed (JAJ = MMᵀ, J the
        // index reversal): A⁻¹ = (J M⁻¹ J)ᵀ (J M⁻¹ J), and J M⁻¹ J is upper triangular, so U = J M⁻¹ J.
        var m = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { m[i * k + j] = h[order[k - 1 - i] * k + order[k - 1 - j]] }
            m[i * k + i] += lambda
        }
        try Self.choleskyLower(&m, k)
        let inverse = Self.invertLower(m, k)
        var u = [Float](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in i..<k { u[i * k + j] = Float(inverse[(k - 1 - i) * k + (k - 1 - j)]) }
        }
        self.k = k
        self.order = order
        self.u = u
    }

    /// Rounds one row, `w` (k values in the original column order, overwritten), column by column in
    /// `order`: `round(j, v)` gets original column j's current value and returns its rounded value, and
    /// the error goes onto the columns still to come. `scratch` holds k floats.
    public func roundRow(_ w: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                         _ round: (_ column: Int, _ value: Float) -> Float) {
        for i in 0..<k { scratch[i] = w[order[i]] }
        u.withUnsafeBufferPointer { u in
            let u = u.baseAddress!
            for i in 0..<k {
                let rounded = round(order[i], scratch[i])
                let e = (scratch[i] - rounded) / u[i * k + i]
                scratch[i] = rounded
                guard e != 0 else { continue }
                let row = u + i * k
                var j = i + 1
                while j + 8 <= k {
                    let updated = UnsafeRawPointer(scratch + j).loadUnaligned(as: SIMD8<Float>.self)
                        - e * UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(scratch + j).storeBytes(of: updated, as: SIMD8<Float>.self)
                    j += 8
                }
                while j < k { scratch[j] -= e * row[j]; j += 1 }
            }
        }
        for i in 0..<k { w[order[i]] = scratch[i] }
    }

    /// Rounds `rows` rows of k values at `w` (left as they are) with `roundRow`, split across the pool's
    /// threads: `round(r, j, v)` rounds row r's column j and returns the value its code stands for.
    public func roundRows(_ w: UnsafePointer<Float>, rows: Int, pool: ThreadPool?,
                          _ round: (_ row: Int, _ column: Int, _ value: Float) -> Float) {
        forEachChunk(rows, pool: pool) { range in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: 2 * k)   // working row, scratch
            defer { row.deallocate() }
            for r in range {
                row.update(from: w + r * k, count: k)
                roundRow(row, scratch: row + k) { j, v in round(r, j, v) }
            }
        }
    }

    /// In place, the lower triangle of `a` becomes L with a = L Lᵀ (the upper triangle is left as it was).
    static func choleskyLower(_ a: inout [Double], _ k: Int) throws {
        try a.withUnsafeMutableBufferPointer { a in
            let a = a.baseAddress!
            for j in 0..<k {
                let rj = a + j * k
                let d = rj[j] - dot(rj, rj, j)
                guard d > 0, d.isFinite else {
                    throw QuantizationError("the calibration inputs' second-moment matrix is not positive definite (column \(j)); raise the damping")
                }
                let l = d.squareRoot()
                rj[j] = l
                for i in (j + 1)..<k {
                    let ri = a + i * k
                    ri[j] = (ri[j] - dot(ri, rj, j)) / l
                }
            }
        }
    }

    /// The inverse of the lower triangle of `l` (lower triangular too), row by row:
    /// row i of L⁻¹ = (e_i − Σ_{p<i} L_ip · row p of L⁻¹) / L_ii.
    static func invertLower(_ l: [Double], _ k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: k * k)
        l.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in
                let (l, o) = (l.baseAddress!, o.baseAddress!)
                for i in 0..<k {
                    let ri = o + i * k
                    ri[i] = 1
                    for p in 0..<i {
                        let c = l[i * k + p]
                        guard c != 0 else { continue }
                        let rp = o + p * k
                        for j in 0...p { ri[j] -= c * rp[j] }
                    }
                    let d = l[i * k + i]
                    for j in 0...i { ri[j] /= d }
                }
            }
        }
        return out
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var s = SIMD4<Double>(), j = 0
        while j + 4 <= n {
            s += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD4<Double>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD4<Double>.self)
            j += 4
        }
        var t = s.sum()
        while j < n { t += a[j] * b[j]; j += 1 }
        return t
    }
}
