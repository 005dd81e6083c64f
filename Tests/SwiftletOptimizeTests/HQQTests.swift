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
