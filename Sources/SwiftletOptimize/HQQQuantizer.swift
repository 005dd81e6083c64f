// Half-quadratic quantization (HQQ, Badri & Shaji 2023): the min-max RTN grid of each group, then
// the zero-point moved by a proximal solver for an lp error (p < 1) with the scale fixed.
import Foundation
import SwiftletCore

/// The HQQ solver's settings; the solver's defaults are the paper's (and the reference implementation's).
public struct HQQParameters: Sendable, Equatable {
    /// The error by which a group's iterates are compared: the best iterate is kept, early stopping
    /// watches it, and it decides between the solver's result and the RTN starting point.
    public enum Criterion: Sendable, Equatable {
        /// sum (x - x̂)^2. The default: see `HQQQuantizer`.
        case squaredError
        /// sum |x - x̂|^p with p = `lpNorm`: the objective in the paper.
        case lpObjective
    }

    /// p of the lp error sum |x - x̂|^p the proximal step is derived for; below 1 so that outliers weigh little.
    public var lpNorm: Float = 0.7
    /// The half-quadratic penalty weight at the first iteration.
    public var beta: Float = 10
    /// beta is multiplied by kappa after every iteration.
    public var kappa: Float = 1.01
    public var iterations: Int = 20
    /// Stop a group's iterations at the first one that does not lower its `criterion` error.
    public var earlyStopping: Bool = true
    public var criterion: Criterion = .squaredError

    /// What the per-input-channel weights of `HQQQuantizer.quantize(channelWeights:)` enter; without
    /// channel weights this setting changes nothing. `.solver` is the default: on Gemma 3 270M it took
    /// 4-bit g64 perplexity from 72.5 (`.acceptance`) to 55.3, against RTN's 70.4 (docs/quantization.md).
    public enum ChannelWeighting: Sendable, Equatable {
        /// Only the choice between the solver's min and RTN's, by the weighted `criterion` error; the
        /// solver runs as without weights.
        case acceptance
        /// Also the solver: its iterates are compared by the weighted error, and its zero update is the
        /// weighted mean (with the shrink zeroing every error, the weighted least-squares zero).
        case solver
    }
    public var channelWeighting: ChannelWeighting = .solver

    public init(lpNorm: Float = 0.7, beta: Float = 10, kappa: Float = 1.01, iterations: Int = 20,
                earlyStopping: Bool = true, criterion: Criterion = .squaredError, channelWeighting: ChannelWeighting = .solver) {
        self.lpNorm = lpNorm
        self.beta = beta
        self.kappa = kappa
        self.iterations = iterations
        self.earlyStopping = earlyStopping
        self.criterion = criterion
        self.channelWeighting = channelWeighting
    }
}

/// HQQ group quantization, in the same form as `RTNQuantizer` (x = scale * q + min, f16 scale and min).
///
/// Per group: start from the RTN grid (its f16 scale and min), i.e. zero = -min / scale. Each iteration
/// quantizes with the current zero (q = clamp(round(x / scale + zero))), shrinks the error
/// e = x - (q - zero) * scale with the lp proximal operator shrink(e) = sign(e) * max(0, |e| - |e|^(p-1) / beta),
/// sets zero = mean(q - (x - shrink(e)) / scale), and multiplies beta by kappa. The iterate with the
/// lowest `criterion` error is kept as min = -zero * scale, rounded to whichever f16 neighbour has the
/// lower error, and the codes are recomputed with it.
///
/// Guarantee: never worse than RTN. Each group ends with two candidates, both after f16 rounding (the RTN
/// grid and the solver's), and the one with the lower `criterion` error is kept (RTN on a tie).
///
/// Activation-aware: with `channelWeights` (one per input channel, typically the mean x_j^2 of the
/// layer's input over a calibration text), an element's error counts w_j times, so the criterion is
/// sum w_j (x - x̂)^2, what a linear layer's output error follows (the diagonal of the input's second
/// moment, as GPTQ and AWQ weigh it). The guarantee then holds in that weighted error. Each group's weights
/// are scaled so their largest is 1 (a group of zero weights counts as uniform): what is minimized is
/// the same, and uniform weights give exactly the unweighted result.
///
/// Why the squared error is the default criterion: at the scale of real weights (|e| ~ 1e-3) and the
/// paper's beta (10 to 12 over 20 iterations), |e|^(p-1) / beta exceeds |e|, so the shrink zeroes every
/// error and the update is exactly the least-squares zero for the current codes: the iteration descends
/// the L2 error, which is also what a matmul's output error follows. Measured at 4 bits, groups 32-128, on
/// SmolLM2 and MiniLM matrices: judged by L2, 94-97% of groups improve, MSE -5..-18% vs RTN, and the lp
/// objective moves -2.2..+0.2% (lower on all matrices but one). Judged by the lp objective, most groups
/// stop at the first step: 35-65% improve, lp -1.7..-8.8%, MSE -3.8..-15%.
public enum HQQQuantizer {
    /// Quantizes `rows` rows of `k` values (row-major). Throws as `RTNQuantizer.quantize` does.
    /// `channelWeights`: k non-negative finite weights of the input channels (columns), see the type's notes.
    public static func quantize(_ weights: [Float], rows: Int, k: Int, bits: Int, groupSize: Int = 64,
                                parameters: HQQParameters = HQQParameters(), channelWeights: [Float]? = nil,
                                pool: ThreadPool? = nil) throws -> GroupQuantized {
        guard parameters.lpNorm > 0, parameters.beta > 0, parameters.kappa >= 1, parameters.iterations >= 0 else {
            throw QuantizationError("HQQ needs lpNorm > 0, beta > 0, kappa >= 1 and iterations >= 0")
        }
        if let c = channelWeights {
            guard c.count == k else { throw QuantizationError("\(c.count) channel weights for rows of \(k)") }
            guard c.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw QuantizationError("channel weights must be finite and non-negative") }
        }
        let maxCode = Float((1 << bits) - 1)
        let scaled = channelWeights.map { scaledPerGroup($0, groupSize: groupSize) }
        return try RTNQuantizer.quantize(weights, rows: rows, k: k, bits: bits, groupSize: groupSize, pool: pool) { x, column, scale, min in
            let solve = { (w: UnsafePointer<Float>?) in
                GroupSolver(x: x, n: groupSize, scale: scale, maxCode: maxCode, parameters: parameters, weights: w).bestMin(from: min)
            }
            guard let scaled else { return solve(nil) }
            return scaled.withUnsafeBufferPointer { solve($0.baseAddress! + column) }
        }
    }

    /// `w` divided, in each group of `groupSize` columns, by the group's largest (all 1 where that is 0).
    static func scaledPerGroup(_ w: [Float], groupSize: Int) -> [Float] {
        var out = w
        for start in stride(from: 0, to: w.count, by: groupSize) {
            let range = start..<min(start + groupSize, w.count)
            let top = w[range].max()!
            for j in range { out[j] = top > 0 ? w[j] / top : 1 }
        }
        return out
    }
}

/// The solver for one group with its scale fixed.
struct GroupSolver {
    let x: UnsafePointer<Float>
    let n: Int
    let scale: Float
    let maxCode: Float
    let parameters: HQQParameters
    /// The group's channel weights, the largest 1; nil: all 1.
    let weights: UnsafePointer<Float>?

    /// The f16 min to store: the solver's, or `rtnMin` unless the solver's is strictly better (both
    /// judged by the weighted error).
    func bestMin(from rtnMin: Float) -> Float {
        let solved = solve(from: rtnMin, weights: parameters.channelWeighting == .solver ? weights : nil)
        var best = rtnMin, bestError = error(min: rtnMin)
        for candidate in [HalfRounding.down(solved), HalfRounding.up(solved)] where candidate != best {
            let e = error(min: candidate)
            if e < bestError {
                best = candidate
                bestError = e
            }
        }
        return best
    }

    /// The HQQ iterations from `min`, errors and zero updates weighted by `weights` (nil: all 1): the min
    /// (-zero * scale, unrounded) of the best iterate, `min` itself when no iteration improved on it.
    func solve(from min: Float, weights: UnsafePointer<Float>?) -> Float {
        let p = parameters.lpNorm
        let inverse = 1 / scale
        var zero = -min * inverse
        var beta = parameters.beta
        var bestZero = zero, bestError = Float.infinity
        var improved = false
        for iteration in 0...parameters.iterations {
            // One pass gives both the error of `zero` and the next zero.
            var error: Float = 0, sum: Float = 0, weightSum: Float = 0
            for i in 0..<n {
                let w = weights?[i] ?? 1
                let q = Swift.min(Swift.max((x[i] * inverse + zero).rounded(.toNearestOrEven), 0), maxCode)
                let e = x[i] - (q - zero) * scale
                let a = abs(e)
                var shrunk: Float = 0
                if a > 0 {
                    let ap = pow(a, p)
                    error += w * (parameters.criterion == .lpObjective ? ap : a * a)
                    // |e| - |e|^(p-1) / beta, with |e|^(p-1) = |e|^p / |e|.
                    let t = a - ap / (a * beta)
                    if t > 0 { shrunk = e < 0 ? -t : t }
                }
                sum += w * (q - (x[i] - shrunk) * inverse)
                weightSum += w
            }
            if error < bestError {
                bestError = error
                bestZero = zero
                improved = iteration > 0
            } else if parameters.earlyStopping {
                break
            }
            if iteration == parameters.iterations { break }
            zero = sum / weightSum
            beta *= parameters.kappa
        }
        return improved ? -bestZero * scale : min
    }

    /// The weighted criterion error of the group stored with (scale, min), codes as `RTNQuantizer.encode` makes them.
    func error(min: Float) -> Float {
        var total: Float = 0
        for i in 0..<n {
            let q = Swift.min(Swift.max(((x[i] - min) / scale).rounded(.toNearestOrEven), 0), maxCode)
            let e = abs(x[i] - (scale * q + min))
            let w = weights?[i] ?? 1
            switch parameters.criterion {
            case .squaredError: total += w * (e * e)
            case .lpObjective: if e > 0 { total += w * pow(e, parameters.lpNorm) }
            }
        }
        return total
    }
}
