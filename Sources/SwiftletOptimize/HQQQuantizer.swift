// Half-quadratic quantization (HQQ, Badri & Shaji 2023): the min-max RTN grid of each group, then
// the zero-point moved by a proximal solver that minimizes an lp error (p < 1) with the scale fixed.
import Foundation
import SwiftletCore

/// The HQQ solver's settings; the defaults are the paper's (and the reference implementation's).
public struct HQQParameters: Sendable, Equatable {
    /// Which error decides, per group, between the solver's result and its RTN starting point.
    public enum Selection: Sendable, Equatable {
        /// sum |x - x̂|^p: the objective the solver minimizes.
        case lpObjective
        /// sum (x - x̂)^2.
        case squaredError
    }

    /// p of the lp error sum |x - x̂|^p; below 1 so that a few outliers weigh little.
    public var lpNorm: Float = 0.7
    /// The half-quadratic penalty weight at the first iteration.
    public var beta: Float = 10
    /// beta is multiplied by kappa after every iteration.
    public var kappa: Float = 1.01
    public var iterations: Int = 20
    /// Stop a group's iterations at the first one that does not lower its lp error.
    public var earlyStopping: Bool = true
    public var selection: Selection = .lpObjective

    public init(lpNorm: Float = 0.7, beta: Float = 10, kappa: Float = 1.01, iterations: Int = 20,
                earlyStopping: Bool = true, selection: Selection = .lpObjective) {
        self.lpNorm = lpNorm
        self.beta = beta
        self.kappa = kappa
        self.iterations = iterations
        self.earlyStopping = earlyStopping
        self.selection = selection
    }
}

/// HQQ group quantization, in the same form as `RTNQuantizer` (x = scale * q + min, f16 scale and min).
///
/// Per group: start from the RTN grid (f16 scale and min), i.e. zero = -min / scale. Each iteration
/// quantizes with the current zero (q = clamp(round(x / scale + zero))), shrinks the error
/// e = x - (q - zero) * scale with the lp proximal operator
/// shrink(e) = sign(e) * max(0, |e| - |e|^(p-1) / beta), sets zero = mean(q - (x - shrink(e)) / scale),
/// and multiplies beta by kappa. The zero with the lowest lp error seen is kept, as min = -zero * scale
/// rounded to f16, and the codes are recomputed with it.
///
/// Guarantee: never worse than RTN. Each group ends with two candidates, both after f16 rounding (the
/// RTN grid and the solver's), and the one with the lower `parameters.selection` error is kept (RTN on
/// a tie). The default compares the lp objective, the error HQQ is designed to lower; `.squaredError`
/// keeps a candidate only when it also lowers the L2 error.
public enum HQQQuantizer {
    /// Quantizes `rows` rows of `k` values (row-major). Throws as `RTNQuantizer.quantize` does.
    public static func quantize(_ weights: [Float], rows: Int, k: Int, bits: Int, groupSize: Int = 64,
                                parameters: HQQParameters = HQQParameters(), pool: ThreadPool? = nil) throws -> GroupQuantized {
        try validateGroupArguments(count: weights.count, rows: rows, k: k, bits: bits, groupSize: groupSize)
        guard parameters.lpNorm > 0, parameters.beta > 0, parameters.kappa >= 1, parameters.iterations >= 0 else {
            throw QuantizationError("HQQ needs lpNorm > 0, beta > 0, kappa >= 1 and iterations >= 0")
        }
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
                                let (scale, rtnMin) = RTNQuantizer.grid(x, groupSize, maxCode: maxCode)
                                s[g] = scale
                                m[g] = rtnMin
                                guard scale > 0 else {
                                    c.advanced(by: g * groupSize).update(repeating: 0, count: groupSize)
                                    continue
                                }
                                let solved = HalfRounding.nearest(
                                    solveMin(x, groupSize, scale: scale, min: rtnMin, maxCode: maxCode, parameters))
                                let error = { (min: Float) in
                                    groupError(x, groupSize, scale: scale, min: min, maxCode: maxCode, parameters)
                                }
                                if solved != rtnMin, error(solved) < error(rtnMin) { m[g] = solved }
                                RTNQuantizer.encode(x, groupSize, scale: scale, min: m[g], maxCode: maxCode,
                                                    into: c + g * groupSize)
                            }
                        }
                    }
                }
            }
        }
        return GroupQuantized(bits: bits, groupSize: groupSize, rows: rows, k: k, codes: codes, scales: scales, mins: mins)
    }

    /// The proximal solver for one group with the scale fixed: returns the min (-zero * scale) of the
    /// zero-point with the lowest lp error seen, starting from `min`.
    static func solveMin(_ x: UnsafePointer<Float>, _ n: Int, scale: Float, min: Float, maxCode: Float,
                         _ parameters: HQQParameters) -> Float {
        let p = parameters.lpNorm
        let inverse = 1 / scale
        var zero = -min * inverse
        var beta = parameters.beta
        var bestZero = zero, bestError = Float.infinity
        for iteration in 0...parameters.iterations {
            // One pass gives both the lp error of `zero` and the next zero.
            var error: Float = 0, sum: Float = 0
            for i in 0..<n {
                let q = Swift.min(Swift.max((x[i] * inverse + zero).rounded(.toNearestOrEven), 0), maxCode)
                let e = x[i] - (q - zero) * scale
                let a = abs(e)
                var shrunk: Float = 0
                if a > 0 {
                    let ap = pow(a, p)
                    error += ap
                    // |e| - |e|^(p-1) / beta, with |e|^(p-1) = |e|^p / |e|.
                    let t = a - ap / (a * beta)
                    if t > 0 { shrunk = e < 0 ? -t : t }
                }
                sum += q - (x[i] - shrunk) * inverse
            }
            if error < bestError {
                bestError = error
                bestZero = zero
            } else if parameters.earlyStopping {
                break
            }
            if iteration == parameters.iterations { break }
            zero = sum / Float(n)
            beta *= parameters.kappa
        }
        return -bestZero * scale
    }

    /// The selection error of one group quantized with (scale, min).
    static func groupError(_ x: UnsafePointer<Float>, _ n: Int, scale: Float, min: Float, maxCode: Float,
                           _ parameters: HQQParameters) -> Float {
        var error: Float = 0
        for i in 0..<n {
            let q = Swift.min(Swift.max(((x[i] - min) / scale).rounded(.toNearestOrEven), 0), maxCode)
            let e = abs(x[i] - (scale * q + min))
            switch parameters.selection {
            case .lpObjective: if e > 0 { error += pow(e, parameters.lpNorm) }
            case .squaredError: error += e * e
            }
        }
        return error
    }
}
