// GPTQ's error feedback on a group quantizer's grid ("static groups"): the scales and mins stay as the
// quantizer chose them from the weights; only the codes are chosen again, column by column in GPTQ's order.
import SwiftletCore

extension GroupQuantized {
    /// The same scales and mins, with codes chosen by GPTQ's error feedback for `weights` (the matrix these
    /// were quantized from, `feedback` the factor of its inputs): each value, pushed by the errors of the
    /// columns rounded before it, is rounded on its group's grid and clamped to 0...maxCode.
    public func roundedWithFeedback(_ weights: [Float], feedback: GPTQFactor, pool: ThreadPool? = nil) throws -> GroupQuantized {
        guard weights.count == rows * k else {
            throw QuantizationError("expected \(rows) x \(k) = \(rows * k) values, got \(weights.count)")
        }
        guard feedback.k == k else { throw QuantizationError("GPTQ's factor is for \(feedback.k) input columns, the rows hold \(k)") }
        var codes = [UInt8](repeating: 0, count: rows * k)
        let (k, groupSize, groupsPerRow, top) = (k, groupSize, k / groupSize, Float(maxCode))
        let (scales, mins) = (scales, mins)
        weights.withUnsafeBufferPointer { w in
            codes.withUnsafeMutableBufferPointer { c in
                let c = c.baseAddress!
                feedback.roundRows(w.baseAddress!, rows: rows, pool: pool) { r, j, v in
                    let g = r * groupsPerRow + j / groupSize
                    let scale = scales[g], min = mins[g]
                    guard scale > 0 else { c[r * k + j] = 0; return min }       // a constant group
                    let q = ((v - min) / scale).rounded(.toNearestOrEven)
                    let code = q >= 0 ? Swift.min(q, top) : 0                   // NaN gives 0
                    c[r * k + j] = UInt8(code)
                    return scale * code + min
                }
            }
        }
        return GroupQuantized(bits: bits, groupSize: groupSize, rows: rows, k: k, codes: codes, scales: scales, mins: mins)
    }
}
