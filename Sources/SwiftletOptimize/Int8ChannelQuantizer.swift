// Int8 weight-only quantization per output channel, symmetric (torchao's Int8WeightOnly).
import SwiftletCore

/// Symmetric int8 per output channel: scale = max|x| / 127 per row (f32), q = clamp(round(x / scale), -127, 127).
public enum Int8ChannelQuantizer {
    /// Quantizes `rows` rows of `k` values: scale = max|x| / 127 per row, q = round(x / scale).
    public static func quantize(_ weights: [Float], rows: Int, k: Int, pool: ThreadPool? = nil) throws -> ChannelQuantized {
        guard rows >= 0, k > 0, weights.count == rows * k else {
            throw QuantizationError("expected \(rows) x \(k) = \(rows * k) values, got \(weights.count)")
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
                            let scale = amax / 127
                            s[r] = scale
                            guard scale > 0 else { continue }
                            for j in 0..<k {
                                let v = (x[j] / scale).rounded(.toNearestOrEven)
                                q[j] = v.isNaN ? 0 : Int8(Swift.min(Swift.max(v, -127), 127))
                            }
                        }
                    }
                }
            }
        }
        return ChannelQuantized(rows: rows, k: k, codes: codes, scales: scales)
    }
}
