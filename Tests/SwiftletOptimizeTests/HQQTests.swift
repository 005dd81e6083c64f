// HQQ against its RTN starting point: never worse per group in its criterion error, better on most groups and
// on average, on random and real weights. Figures are printed for the record.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletOptimize
import SwiftletTestSupport

/// Per-group errors of a quantization: sum |e|^0.7 and sum e^2, in Double.
struct GroupErrors {
    var lp: [Double] = []
    var squared: [Double] = []

    init(_ w: [Float], _ q: GroupQuantized) {
        let back = q.dequantized()
        for g in 0..<q.groupCount {
            var lpSum = 0.0, sqSum = 0.0
            for i in g * q.groupSize..<(g + 1) * q.groupSize {
                let e = abs(Double(w[i]) - Double(back[i]))
                if e > 0 { lpSum += pow(e, 0.7) }
                sqSum += e * e
            }
            lp.append(lpSum)
            squared.append(sqSum)
        }
    }
}

/// HQQ against RTN on one matrix, under both criteria.
struct HQQComparison {
    let groups: Int
    /// Groups where HQQ (default criterion) is worse / strictly better than RTN in L2.
    let worseSquared: Int, betterSquared: Int
    /// Groups where HQQ with the lp criterion is worse / strictly better than RTN in lp.
    let worseLp: Int, betterLp: Int
    /// Totals over the matrix: RTN, HQQ (default criterion), HQQ (lp criterion).
    let squared: (rtn: Double, hqq: Double, hqqLp: Double)
    let lp: (rtn: Double, hqq: Double, hqqLp: Double)

    init(_ w: [Float], rows: Int, k: Int, bits: Int, group: Int, label: String) throws {
        let rtn = try RTNQuantizer.quantize(w, rows: rows, k: k, bits: bits, groupSize: group)
        let hqq = try HQQQuantizer.quantize(w, rows: rows, k: k, bits: bits, groupSize: group)
        let hqqLp = try HQQQuantizer.quantize(w, rows: rows, k: k, bits: bits, groupSize: group,
                                              parameters: HQQParameters(criterion: .lpObjective))
        // The scale is RTN's; only the min moves, to another f16 value.
        #expect(hqq.scales == rtn.scales && hqqLp.scales == rtn.scales, "\(label): HQQ keeps RTN's scales")
        #expect((hqq.mins + hqqLp.mins).allSatisfy { Float(Float16($0)) == $0 }, "\(label): HQQ mins are f16 values")
        let r = GroupErrors(w, rtn), h = GroupErrors(w, hqq), l = GroupErrors(w, hqqLp)
        groups = rtn.groupCount
        // The quantizer sums in Float; allow for that against these Double sums.
        worseSquared = (0..<groups).count { h.squared[$0] > r.squared[$0] * (1 + 1e-5) + 1e-20 }
        betterSquared = (0..<groups).count { h.squared[$0] < r.squared[$0] * (1 - 1e-6) }
        worseLp = (0..<groups).count { l.lp[$0] > r.lp[$0] * (1 + 1e-5) + 1e-12 }
        betterLp = (0..<groups).count { l.lp[$0] < r.lp[$0] * (1 - 1e-6) }
        let total = { (a: [Double]) in a.reduce(0, +) }
        squared = (total(r.squared), total(h.squared), total(l.squared))
        lp = (total(r.lp), total(h.lp), total(l.lp))
        let n = Double(w.count)
        print(String(format: "%@ %d-bit g%d: mse RTN %.4g, HQQ %.4g (%+.2f%%, better on %.1f%% of groups), HQQ-lp %.4g (%+.2f%%) | "
                     + "lp/elt RTN %.4g, HQQ %.4g (%+.2f%%), HQQ-lp %.4g (%+.2f%%, better on %.1f%%)",
                     label, bits, group, squared.rtn / n, squared.hqq / n, 100 * (squared.hqq / squared.rtn - 1),
                     100 * Double(betterSquared) / Double(groups), squared.hqqLp / n, 100 * (squared.hqqLp / squared.rtn - 1),
                     lp.rtn / n, lp.hqq / n, 100 * (lp.hqq / lp.rtn - 1), lp.hqqLp / n, 100 * (lp.hqqLp / lp.rtn - 1),
                     100 * Double(betterLp) / Double(groups)))
    }

    /// The guarantees that hold for any matrix: never worse per group, each in its own criterion, and the
    /// lp criterion lowers the lp total.
    func checkGuarantees(_ label: String) {
        #expect(worseSquared == 0, "\(label): HQQ worse than RTN in L2 on \(worseSquared) groups")
        #expect(worseLp == 0, "\(label): HQQ (lp criterion) worse than RTN in lp on \(worseLp) groups")
        #expect(squared.hqq <= squared.rtn && lp.hqqLp <= lp.rtn, "\(label): totals")
    }

    var betterShare: Double { Double(betterSquared) / Double(groups) }
}

@Suite struct HQQTests {
    @Test(arguments: [4, 8], [32, 64, 128])
    func neverWorseThanRTNOnRandomWeights(bits: Int, group: Int) throws {
        let rows = 16, k = 512
        for (label, w) in [("gaussian", TestWeights.gaussian(rows * k, seed: 10)),
                           ("heavy-tailed", TestWeights.heavyTailed(rows * k, seed: 11))] {
            let c = try HQQComparison(w, rows: rows, k: k, bits: bits, group: group, label: label)
            c.checkGuarantees(label)
            #expect(c.lp.hqq < c.lp.rtn && c.lp.hqqLp < c.lp.rtn, "\(label): HQQ lowers the lp objective on average")
            #expect(c.squared.hqq < c.squared.rtn, "\(label): HQQ lowers the L2 error")
            if bits == 4 { #expect(c.betterShare > 0.5, "\(label): HQQ strictly better on \(c.betterSquared) of \(c.groups) groups") }
        }
    }

    @Test func codesAreRecomputedWithTheRoundedParameters() throws {
        let rows = 8, k = 128
        let w = TestWeights.heavyTailed(rows * k, seed: 12)
        let q = try HQQQuantizer.quantize(w, rows: rows, k: k, bits: 4)
        for i in w.indices {
            let g = i / q.groupSize
            let expected = min(max(((w[i] - q.mins[g]) / q.scales[g]).rounded(.toNearestOrEven), 0), 15)
            #expect(Float(q.codes[i]) == expected, "element \(i)")
        }
    }

    @Test func noIterationsIsRTN() throws {
        let rows = 4, k = 256
        let w = TestWeights.gaussian(rows * k, seed: 13)
        #expect(try HQQQuantizer.quantize(w, rows: rows, k: k, bits: 4, parameters: HQQParameters(iterations: 0))
                == RTNQuantizer.quantize(w, rows: rows, k: k, bits: 4))
    }

    /// SmolLM2's Q4_1 weights (blocks of 32, so RTN at group 32 is exact and HQQ is tried at 64 and 128), and
    /// MiniLM's f32 weights.
    @Test func betterThanRTNOnRealWeights() throws {
        var matrices: [(label: String, w: [Float], rows: Int, k: Int, groups: [Int])] = []
        if let path = try TestModels.require(TestModels.smollm2) {
            let gguf = try GGUFFile(path: path)
            let rtn = try RTNQuantizer.quantize(try TestWeights.gguf(gguf, "blk.0.attn_q.weight").values, rows: 576, k: 576, bits: 4, groupSize: 32)
            #expect(rtn.dequantized() == (try TestWeights.gguf(gguf, "blk.0.attn_q.weight").values), "Q4_1 blocks are RTN groups of 32")
            for name in ["blk.0.attn_q.weight", "blk.0.attn_output.weight", "blk.5.ffn_down.weight", "blk.20.ffn_up.weight"] {
                let (w, rows, k) = try TestWeights.gguf(gguf, name)
                matrices.append(("SmolLM2 \(name)", w, rows, k, [64, 128].filter { k % $0 == 0 }))
            }
        }
        if let path = try TestModels.require(TestModels.minilm) {
            let st = try SafetensorsFile(path: path + "/model.safetensors")
            for name in ["encoder.layer.0.attention.self.query.weight", "encoder.layer.3.intermediate.dense.weight",
                         "encoder.layer.5.output.dense.weight"] {
                let (w, rows, k) = try TestWeights.safetensors(st, name)
                matrices.append(("MiniLM \(name)", w, rows, k, [32, 64, 128]))
            }
        }
        if let m = matrices.max(by: { $0.w.count < $1.w.count }) {
            let pool = ThreadPool(threads: 2, spinIterations: 0)
            let clock = ContinuousClock()
            let one = try clock.measure { _ = try HQQQuantizer.quantize(m.w, rows: m.rows, k: m.k, bits: 4) }
            let two = try clock.measure { _ = try HQQQuantizer.quantize(m.w, rows: m.rows, k: m.k, bits: 4, pool: pool) }
            let rtn = try clock.measure { _ = try RTNQuantizer.quantize(m.w, rows: m.rows, k: m.k, bits: 4) }
            print("\(m.label) (\(m.rows) x \(m.k)) 4-bit g64: HQQ \(one) on 1 thread, \(two) on 2; RTN \(rtn)")
        }
        for m in matrices {
            for bits in [4, 8] {
                for group in bits == 4 ? m.groups : [64] where m.k % group == 0 {
                    let c = try HQQComparison(m.w, rows: m.rows, k: m.k, bits: bits, group: group, label: m.label)
                    c.checkGuarantees(m.label)
                    #expect(c.betterShare > (bits == 4 ? 0.85 : 0.5),
                            "\(m.label) \(bits)-bit g\(group): HQQ strictly better on \(c.betterSquared) of \(c.groups) groups")
                    #expect(c.lp.hqqLp < c.lp.rtn * 0.99, "\(m.label): HQQ (lp criterion) lowers the lp objective on average")
                    if m.label.hasPrefix("MiniLM") {
                        #expect(c.lp.hqq < c.lp.rtn, "\(m.label): HQQ lowers the lp objective on average")
                    }
                }
            }
        }
    }
}

/// Activation-aware HQQ: errors weighed per input channel (column), sum w_j (x - x̂)^2.
@Suite struct HQQChannelWeightTests {
    /// Per-group sum w_j (x - x̂)^2 in Double, j the column of each element.
    static func weightedErrors(_ x: [Float], _ q: GroupQuantized, _ w: [Float]) -> [Double] {
        let back = q.dequantized()
        return (0..<q.groupCount).map { g in
            (g * q.groupSize..<(g + 1) * q.groupSize).reduce(0.0) { sum, i in
                let e = Double(x[i]) - Double(back[i])
                return sum + Double(w[i % q.k]) * e * e
            }
        }
    }

    /// Log-normal channel weights spread over about six orders of magnitude, some exactly 0, the way the
    /// mean squares of a layer's input channels are (a few massive channels, many quiet ones).
    static func channelWeights(_ k: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<k).map { j in j % 37 == 5 ? 0 : exp(3 * TestWeights.normal(&rng)) }
    }

    /// Weights that were a 4-bit grid already, in blocks of 32 with their own scales and mins (the base
    /// models are dequantized Q4 GGUFs), plus one outlier column.
    static func gridded(rows: Int, k: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var w = [Float](repeating: 0, count: rows * k)
        for b in stride(from: 0, to: w.count, by: 32) {
            let scale = 0.002 + 0.004 * TestWeights.unit(&rng), min = -8 * scale * (0.5 + TestWeights.unit(&rng))
            for i in b..<b + 32 { w[i] = min + scale * Float(Int(TestWeights.unit(&rng) * 16)) }
        }
        for r in 0..<rows { w[r * k + 3] *= 6 }
        return w
    }

    /// Never worse than RTN per group in the weighted error, with either weighting; the acceptance
    /// weighting is also never worse than unweighted HQQ there (it chooses among the same candidates).
    @Test(arguments: [4, 8], [32, 64, 128])
    func neverWorseThanRTNInTheWeightedError(bits: Int, group: Int) throws {
        let rows = 16, k = 512
        let weights = Self.channelWeights(k, seed: 20)
        for (label, x) in [("gaussian", TestWeights.gaussian(rows * k, seed: 21)),
                           ("heavy-tailed", TestWeights.heavyTailed(rows * k, seed: 22)),
                           ("gridded", Self.gridded(rows: rows, k: k, seed: 23))] {
            let rtn = try RTNQuantizer.quantize(x, rows: rows, k: k, bits: bits, groupSize: group)
            let plain = try HQQQuantizer.quantize(x, rows: rows, k: k, bits: bits, groupSize: group)
            let r = Self.weightedErrors(x, rtn, weights), p = Self.weightedErrors(x, plain, weights)
            for weighting in [HQQParameters.ChannelWeighting.acceptance, .solver] {
                let q = try HQQQuantizer.quantize(x, rows: rows, k: k, bits: bits, groupSize: group,
                                                  parameters: HQQParameters(channelWeighting: weighting), channelWeights: weights)
                #expect(q.scales == rtn.scales)
                let h = Self.weightedErrors(x, q, weights)
                // The quantizer sums in Float; allow for that against these Double sums.
                let worse = (0..<r.count).count { h[$0] > r[$0] * (1 + 1e-5) + 1e-20 }
                #expect(worse == 0, "\(label) \(weighting): worse than RTN in the weighted error on \(worse) of \(r.count) groups")
                if weighting == .acceptance {
                    let worsePlain = (0..<r.count).count { h[$0] > p[$0] * (1 + 1e-5) + 1e-20 }
                    #expect(worsePlain == 0, "\(label): worse than unweighted HQQ in the weighted error on \(worsePlain) groups")
                }
                let total = { (a: [Double]) in a.reduce(0, +) }
                #expect(total(h) <= total(r), "\(label) \(weighting)")
                if group == 64 { print(String(format: "%@ %d-bit g%d %@: weighted error vs RTN: unweighted HQQ %+.2f%%, weighted %+.2f%%", label, bits, group,
                             "\(weighting)", 100 * (total(p) / total(r) - 1), 100 * (total(h) / total(r) - 1))) }
            }
        }
    }

    /// Uniform weights, of any size, and all-zero ones give exactly the unweighted result.
    @Test func uniformWeightsAreTheUnweightedResult() throws {
        let rows = 8, k = 256
        for x in [TestWeights.heavyTailed(rows * k, seed: 24), Self.gridded(rows: rows, k: k, seed: 25)] {
            for criterion in [HQQParameters.Criterion.squaredError, .lpObjective] {
                for weighting in [HQQParameters.ChannelWeighting.acceptance, .solver] {
                    let parameters = HQQParameters(criterion: criterion, channelWeighting: weighting)
                    let plain = try HQQQuantizer.quantize(x, rows: rows, k: k, bits: 4, parameters: parameters)
                    for c: Float in [1, 3.7, 1e-9, 0] {
                        let q = try HQQQuantizer.quantize(x, rows: rows, k: k, bits: 4, parameters: parameters,
                                                          channelWeights: Array(repeating: c, count: k))
                        #expect(q == plain, "\(criterion) \(weighting), weights \(c)")
                    }
                }
            }
        }
    }

    /// Weights on a few channels pull the zero-point towards fitting them: the weighted solver lowers the
    /// weighted error below what choosing between the unweighted solver and RTN reaches.
    @Test func theWeightedSolverFitsTheHeavyChannels() throws {
        let rows = 64, k = 256
        let x = TestWeights.heavyTailed(rows * k, seed: 26), weights = Self.channelWeights(k, seed: 27)
        let rtn = try RTNQuantizer.quantize(x, rows: rows, k: k, bits: 4)
        let errors = try [HQQParameters.ChannelWeighting.acceptance, .solver].map { weighting in
            Self.weightedErrors(x, try HQQQuantizer.quantize(x, rows: rows, k: k, bits: 4, parameters: HQQParameters(channelWeighting: weighting),
                                                             channelWeights: weights), weights).reduce(0, +)
        }
        let r = Self.weightedErrors(x, rtn, weights).reduce(0, +)
        print(String(format: "weighted error vs RTN: acceptance %+.2f%%, solver %+.2f%%", 100 * (errors[0] / r - 1), 100 * (errors[1] / r - 1)))
        #expect(errors[1] < errors[0] && errors[0] < r)
    }

    @Test func badChannelWeightsAreErrors() {
        let x = TestWeights.gaussian(4 * 64, seed: 28)
        for w: [Float] in [Array(repeating: 1, count: 63), Array(repeating: -1, count: 64), [.nan] + Array(repeating: 1, count: 63)] {
            #expect(throws: QuantizationError.self) { try HQQQuantizer.quantize(x, rows: 4, k: 64, bits: 4, channelWeights: w) }
        }
    }
}
