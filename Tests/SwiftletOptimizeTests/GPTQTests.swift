// GPTQ's error feedback for int8 per channel and on the group grids of rtn4/rtn8: the factor is the upper
// Cholesky factor of the damped inverse, diagonal inputs reduce it to round-to-nearest, and on correlated
// inputs it lowers the layer's output error (what it minimizes) below round-to-nearest's, with the same
// scales (and mins).
import Foundation
import Testing
import SwiftletCore
import SwiftletOptimize

@Suite struct GPTQTests {
    /// n input rows of k channels that share a few common factors (so channels correlate, as in real
    /// hidden states), with per-channel energies spread over two orders of magnitude.
    static func correlatedInputs(n: Int, k: Int, seed: UInt64) -> [Float] {
        let factors = 4
        let mix = TestWeights.gaussian(factors * k, sd: 1, seed: seed)
        let z = TestWeights.gaussian(n * factors, sd: 1, seed: seed + 1)
        let noise = TestWeights.gaussian(n * k, sd: 0.3, seed: seed + 2)
        var x = [Float](repeating: 0, count: n * k)
        for t in 0..<n {
            for j in 0..<k {
                var v = noise[t * k + j]
                for f in 0..<factors { v += z[t * factors + f] * mix[f * k + j] }
                x[t * k + j] = v * pow(10, Float(j % 7) / 3)
            }
        }
        return x
    }

    static func secondMoments(_ x: [Float], n: Int, k: Int) -> [Double] {
        var h = [Double](repeating: 0, count: k * k)
        for t in 0..<n {
            for a in 0..<k { for b in 0..<k { h[a * k + b] += Double(x[t * k + a]) * Double(x[t * k + b]) } }
        }
        return h
    }

    /// Σ over inputs and rows of ((w - ŵ)·x)².
    static func outputError(_ w: [Float], _ approx: [Float], rows: Int, k: Int, _ x: [Float], n: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for t in 0..<n {
                var d = 0.0
                for j in 0..<k { d += Double(w[r * k + j] - approx[r * k + j]) * Double(x[t * k + j]) }
                total += d * d
            }
        }
        return total
    }

    @Test func factorIsTheUpperCholeskyFactorOfTheDampedInverse() throws {
        let k = 24, n = 200
        let h = Self.secondMoments(Self.correlatedInputs(n: n, k: k, seed: 3), n: n, k: k)
        let damping = 0.01
        let f = try GPTQFactor(secondMoments: h, k: k, damping: damping)
        #expect(Set(f.order) == Set(0..<k))
        for i in 1..<k { #expect(h[f.order[i - 1] * k + f.order[i - 1]] >= h[f.order[i] * k + f.order[i]], "act order: decreasing H_jj") }
        // (UᵀU)(A) = I with A the permuted, damped H.
        let lambda = damping * (0..<k).map { h[$0 * k + $0] }.reduce(0, +) / Double(k)
        let u = f.upper
        for i in 0..<k {
            for j in 0..<k {
                var v = 0.0
                for m in 0..<k {
                    var utu = 0.0   // (UᵀU)[i][m]
                    for p in 0...min(i, m) { utu += u[p * k + i] * u[p * k + m] }
                    v += utu * (h[f.order[m] * k + f.order[j]] + (m == j ? lambda : 0))
                }
                #expect(abs(v - (i == j ? 1 : 0)) < 1e-4, "(UᵀU A)[\(i)][\(j)] = \(v)")
            }
        }
    }

    @Test func diagonalInputsMakeItRoundToNearest() throws {
        let rows = 8, k = 64
        let w = TestWeights.heavyTailed(rows * k, seed: 5)
        var h = [Double](repeating: 0, count: k * k)
        for j in 0..<k { h[j * k + j] = Double(1 + j % 5) }
        let feedback = try Int8ChannelQuantizer.quantize(w, rows: rows, k: k, feedback: GPTQFactor(secondMoments: h, k: k))
        let plain = try Int8ChannelQuantizer.quantize(w, rows: rows, k: k)
        #expect(feedback == plain, "uncorrelated inputs leave no error to carry over")
    }

    @Test(arguments: [(64, 48), (256, 32)])
    func feedbackLowersTheOutputErrorBelowRoundToNearest(k: Int, rows: Int) throws {
        let n = 4 * k
        let x = Self.correlatedInputs(n: n, k: k, seed: 11)
        let pool = ThreadPool(threads: 2, spinIterations: 0)
        for (label, w) in [("gaussian", TestWeights.gaussian(rows * k, seed: 7)), ("heavy-tailed", TestWeights.heavyTailed(rows * k, seed: 8))] {
            let factor = try GPTQFactor(secondMoments: Self.secondMoments(x, n: n, k: k), k: k)
            let gptq = try Int8ChannelQuantizer.quantize(w, rows: rows, k: k, feedback: factor, pool: pool)
            let plain = try Int8ChannelQuantizer.quantize(w, rows: rows, k: k)
            #expect(gptq.scales == plain.scales, "the scheme is the same: max|x| / 127 per row")
            #expect(gptq.codes.allSatisfy { $0 >= -127 })
            let e = Self.outputError(w, gptq.dequantized(), rows: rows, k: k, x, n: n)
            let e0 = Self.outputError(w, plain.dequantized(), rows: rows, k: k, x, n: n)
            print("GPTQ int8 \(label) k=\(k): output error \(e) vs round-to-nearest \(e0) (\(e / e0))")
            #expect(e < 0.8 * e0, "\(label): GPTQ \(e) vs RTN \(e0)")
        }
    }

    @Test func badSecondMomentsAreClearErrors() {
        #expect(throws: QuantizationError("expected a 4 x 4 second-moment matrix, got 15 values")) {
            try GPTQFactor(secondMoments: [Double](repeating: 1, count: 15), k: 4)
        }
        var h = [Double](repeating: 0, count: 16)
        h[5] = .nan
        #expect(throws: QuantizationError("the calibration inputs' second moments are not finite or have a negative diagonal")) {
            try GPTQFactor(secondMoments: h, k: 4)
        }
        #expect(throws: QuantizationError("GPTQ's factor is for 4 input columns, the rows hold 8")) {
            try Int8ChannelQuantizer.quantize([Float](repeating: 1, count: 8), rows: 1, k: 8,
                                              feedback: GPTQFactor(secondMoments: [Double](repeating: 1, count: 16), k: 4))
        }
    }

    @Test func anInputTheCalibrationNeverReachedIsStillRounded() throws {
        // All-zero second moments (dead inputs) leave only the damping: a diagonal, so plain rounding.
        let w = TestWeights.gaussian(4 * 32, seed: 9)
        let f = try GPTQFactor(secondMoments: [Double](repeating: 0, count: 32 * 32), k: 32)
        #expect(try Int8ChannelQuantizer.quantize(w, rows: 4, k: 32, feedback: f) == Int8ChannelQuantizer.quantize(w, rows: 4, k: 32))
    }

    @Test(arguments: [(4, 32), (4, 64), (8, 64)])
    func groupFeedbackKeepsTheGridAndLowersTheOutputError(bits: Int, group: Int) throws {
        let k = 128, rows = 32, n = 4 * k
        let x = Self.correlatedInputs(n: n, k: k, seed: 21)
        let factor = try GPTQFactor(secondMoments: Self.secondMoments(x, n: n, k: k), k: k)
        let pool = ThreadPool(threads: 2, spinIterations: 0)
        for (label, w) in [("gaussian", TestWeights.gaussian(rows * k, seed: 17)), ("heavy-tailed", TestWeights.heavyTailed(rows * k, seed: 18))] {
            let plain = try RTNQuantizer.quantize(w, rows: rows, k: k, bits: bits, groupSize: group)
            let gptq = try plain.roundedWithFeedback(w, feedback: factor, pool: pool)
            #expect(gptq.scales == plain.scales && gptq.mins == plain.mins, "static groups: RTN's grid")
            #expect(gptq.codes.allSatisfy { Int($0) <= gptq.maxCode } && gptq.codes != plain.codes)
            let e = Self.outputError(w, gptq.dequantized(), rows: rows, k: k, x, n: n)
            let e0 = Self.outputError(w, plain.dequantized(), rows: rows, k: k, x, n: n)
            print("GPTQ \(bits)-bit g\(group) \(label): output error \(e) vs round-to-nearest \(e0) (\(e / e0))")
            #expect(e < 0.8 * e0, "\(label): GPTQ \(e) vs RTN \(e0)")
        }
    }

    @Test func groupFeedbackOnDiagonalInputsIsRoundToNearest() throws {
        let rows = 8, k = 128
        let w = TestWeights.heavyTailed(rows * k, seed: 25)
        var h = [Double](repeating: 0, count: k * k)
        for j in 0..<k { h[j * k + j] = Double(1 + j % 3) }
        let plain = try RTNQuantizer.quantize(w, rows: rows, k: k, bits: 4, groupSize: 32)
        #expect(try plain.roundedWithFeedback(w, feedback: GPTQFactor(secondMoments: h, k: k)) == plain)
        #expect(throws: QuantizationError("GPTQ's factor is for 64 input columns, the rows hold 128")) {
            try plain.roundedWithFeedback(w, feedback: GPTQFactor(secondMoments: [Double](repeating: 0, count: 64 * 64), k: 64))
        }
        #expect(throws: QuantizationError("expected 8 x 128 = 1024 values, got 1023")) {
            try plain.roundedWithFeedback(Array(w.dropLast()), feedback: GPTQFactor(secondMoments: h, k: k))
        }
    }
}
