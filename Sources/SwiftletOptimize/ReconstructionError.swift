// How far a quantized (or pruned) matrix is from the original: the figures a conversion reports.
import Foundation

/// Error statistics of an approximation `approx` of `original` (same count), accumulated in Double.
public struct ReconstructionError: Sendable, Equatable, CustomStringConvertible {
    public let count: Int
    /// mean (x - x̂)^2
    public let meanSquared: Double
    /// max |x - x̂|
    public let maxAbsolute: Double
    /// mean |x - x̂|^p with the p given (HQQ's objective for p = 0.7)
    public let meanLp: Double
    public let p: Double
    /// mean (x - x̂)^2 / mean x^2 (0 for an all-zero original)
    public let relativeSquared: Double

    public init(original: [Float], approx: [Float], p: Double = 0.7) {
        precondition(original.count == approx.count, "\(original.count) values vs \(approx.count)")
        var squared = 0.0, signal = 0.0, lp = 0.0, worst = 0.0
        for (x, y) in zip(original, approx) {
            let e = abs(Double(x) - Double(y))
            squared += e * e
            signal += Double(x) * Double(x)
            if e > 0 { lp += Foundation.pow(e, p) }
            worst = max(worst, e)
        }
        let n = Double(max(original.count, 1))
        count = original.count
        meanSquared = squared / n
        maxAbsolute = worst
        meanLp = lp / n
        self.p = p
        relativeSquared = signal > 0 ? squared / signal : 0
    }

    public var description: String {
        String(format: "mse %.4g (relative %.4g), max %.4g, mean l%.2g %.4g", meanSquared, relativeSquared, maxAbsolute, p, meanLp)
    }
}
