// Int8 weight-only quantization per output channel, symmetric (torchao's Int8WeightOnly), rounded to
// nearest or, given the calibration inputs' second moments, with GPTQ's error feedback.
import SwiftletCore

/// Symmetric int8 per output channel: scale = max|x| / 127 per row (f32), q = clamp(round(x / scale), -127, 127).
public enum Int8ChannelQuantizer {
    /// Quantizes `rows` rows of `k` values: scale = max|x| / 127 per row, q = round(x / scale).
    /// With `feedback` (a `GPTQFactor` of this layer's inputs, `k` columns) the scale is the same, but
    /// the codes are chosen column by column with each rounding error carried onto the columns still to
    /// round (values pushed past the scale's range clamp to ±127).
    public static func quantize(_ weights: [Float], rows: Int, k: Int, feedback: GPTQFactor? = nil,
                                pool: ThreadPool? = nil) throws -> ChannelQuantized {
        guard rows >= 0, k > 0, weights.count == rows * k else {
            throw QuantizationError("expected \(rows) x \(k) = \(rows * k) values, got \(weights.count)")
        }
        if let feedback, feedback.k != k {
            throw QuantizationError("GPTQ's factor is for \(feedback.k) input columns, the rows hold \(k)")
        }
        var codes = [Int8](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 0, count: rows)
        weights.withUnsafeBufferPointer { w in
            codes.withUnsafeMutableBufferPointer { c in
                scales.withUnsafeMutableBufferPointer { s in
                    let (w, c, s) = (w.baseAddress!, c.baseAddress!, s.baseAddress!)
                    forEachChunk(rows, pool: pool) { range in
                        for r in range {
                            let x = w + r * k, q = c + r * k
                            var amax: Float = 0
                            for j in 0..<k { amax = Swift.max(amax, abs(x[j])) }
                            s[r] = amax / 127
                            guard feedback == nil, s[r] > 0 else { continue }
                            for j in 0..<k { q[j] = code(x[j], s[r]) }
                        }
                    }
                    // GPTQ: the same scales, codes chosen column by column (a row of scale 0 keeps its zeros).
                    feedback?.roundRows(w, rows: rows, pool: pool) { r, j, v in
                        guard s[r] > 0 else { return v }
                        c[r * k + j] = code(v, s[r])
                        return Float(c[r * k + j]) * s[r]
                    }
                }
            }
        }
        return ChannelQuantized(rows: rows, k: k, codes: codes, scales: scales)
    }

    /// clamp(round(v / scale), -127, 127); NaN gives 0.
    @inline(__always) static func code(_ v: Float, _ scale: Float) -> Int8 {
        let q = (v / scale).rounded(.toNearestOrEven)
        return q.isNaN ? 0 : Int8(Swift.min(Swift.max(q, -127), 127))
    }
}
