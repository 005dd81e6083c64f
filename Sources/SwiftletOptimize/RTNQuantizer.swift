// Round-to-nearest group quantization: asymmetric, the min-max of each group spread over 2^bits levels.
import SwiftletCore

/// Min-max round-to-nearest (RTN) quantization in groups.
///
/// Per group: min = the group's minimum, scale = (max - min) / (2^bits - 1), q = clamp(round((x - min) / scale)).
/// Both are rounded to f16 first, min down and scale up, so the f16 grid still covers [min, max] and
/// every element is within scale / 2 of its value (plus float rounding); the codes are computed with
/// the rounded values. A constant group gets scale 0, codes 0 and min = the value rounded to f16.
public enum RTNQuantizer {
    /// Quantizes `rows` rows of `k` values (row-major). Throws for bits other than 4 or 8, a group
    /// size other than 32, 64 or 128, a group that does not divide `k`, or a buffer of the wrong size.
    public static func quantize(_ weights: [Float], rows: Int, k: Int, bits: Int, groupSize: Int = 64,
                                pool: ThreadPool? = nil) throws -> GroupQuantized {
        try quantize(weights, rows: rows, k: k, bits: bits, groupSize: groupSize, pool: pool) { _, _, _, min in min }
    }

    /// Group quantization on the RTN grid, with the min of each group (x, its first column in the row,
    /// scale, RTN min) -> min possibly replaced by `chooseMin` (called from the pool's threads) before
    /// the codes are computed.
    static func quantize(_ weights: [Float], rows: Int, k: Int, bits: Int, groupSize: Int, pool: ThreadPool?,
                         chooseMin: (UnsafePointer<Float>, _ column: Int, _ scale: Float, _ min: Float) -> Float) throws -> GroupQuantized {
        try validateGroupArguments(count: weights.count, rows: rows, k: k, bits: bits, groupSize: groupSize)
        let groups = rows * k / groupSize
        let maxCode = Float((1 << bits) - 1)
        var codes = [UInt8](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 0, count: groups)
        var mins = [Float](repeating: 0, count: groups)
        weights.withUnsafeBufferPointer { w in
            codes.withUnsafeMutableBufferPointer { c in
                scales.withUnsafeMutableBufferPointer { s in
                    mins.withUnsafeMutableBufferPointer { m in
                        let (w, c, s, m) = (w.baseAddress!, c.baseAddress!, s.baseAddress!, m.baseAddress!)
                        forEachChunk(groups, pool: pool) { range in
                            for g in range {
                                let x = w + g * groupSize
                                let (scale, min) = grid(x, groupSize, maxCode: maxCode)
                                s[g] = scale
                                m[g] = scale > 0 ? chooseMin(x, g * groupSize % k, scale, min) : min
                                encode(x, groupSize, scale: scale, min: m[g], maxCode: maxCode, into: c + g * groupSize)
                            }
                        }
                    }
                }
            }
        }
        return GroupQuantized(bits: bits, groupSize: groupSize, rows: rows, k: k, codes: codes, scales: scales, mins: mins)
    }

    /// The f16 (scale, min) of one group: min rounded down, scale rounded up (see the type's notes).
    static func grid(_ x: UnsafePointer<Float>, _ n: Int, maxCode: Float) -> (scale: Float, min: Float) {
        var lo = x[0], hi = x[0]
        for i in 1..<n {
            lo = Swift.min(lo, x[i])
            hi = Swift.max(hi, x[i])
        }
        guard hi > lo else { return (0, HalfRounding.nearest(lo)) }
        let min = HalfRounding.down(lo)
        return (HalfRounding.up((hi - min) / maxCode), min)
    }

    /// codes[i] = clamp(round((x[i] - min) / scale), 0, maxCode); all zero when scale is 0.
    @inline(__always)
    static func encode(_ x: UnsafePointer<Float>, _ n: Int, scale: Float, min: Float, maxCode: Float,
                       into codes: UnsafeMutablePointer<UInt8>) {
        guard scale > 0 else {
            codes.update(repeating: 0, count: n)
            return
        }
        for i in 0..<n {
            let q = ((x[i] - min) / scale).rounded(.toNearestOrEven)
            codes[i] = q >= 0 ? UInt8(Swift.min(q, maxCode)) : 0  // NaN gives 0
        }
    }
}
