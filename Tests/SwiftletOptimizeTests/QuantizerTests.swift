// RTN and int8 per-channel quantization: round trips within half a step, f16 parameters, edge cases.
import Testing
import SwiftletCore
import SwiftletOptimize

@Suite struct QuantizerTests {
    @Test(arguments: [4, 8], [32, 64, 128])
    func rtnRoundTripIsWithinHalfAStep(bits: Int, group: Int) throws {
        let rows = 6, k = 256
        for (label, w) in [("gaussian", TestWeights.gaussian(rows * k, seed: 1)),
                           ("heavy-tailed", TestWeights.heavyTailed(rows * k, seed: 2))] {
            let q = try RTNQuantizer.quantize(w, rows: rows, k: k, bits: bits, groupSize: group)
            #expect(q.codes.count == rows * k && q.scales.count == rows * k / group && q.mins.count == q.scales.count)
            #expect(q.codes.allSatisfy { Int($0) <= q.maxCode })
            for g in 0..<q.groupCount {
                #expect(Float(Float16(q.scales[g])) == q.scales[g] && Float(Float16(q.mins[g])) == q.mins[g],
                        "group \(g): scale and min must be f16 values")
            }
            let back = q.dequantized()
            var worst: Float = 0
            for i in w.indices {
                let scale = q.scales[i / group]
                // The f16 grid covers the group (min rounded down, scale up): only float rounding is left.
                let bound = scale / 2 * (1 + 1e-5) + 1e-7 * (abs(w[i]) + abs(q.mins[i / group]))
                worst = max(worst, abs(w[i] - back[i]) / scale)
                #expect(abs(w[i] - back[i]) <= bound, "\(label) \(bits)-bit group \(group) element \(i): \(w[i]) -> \(back[i])")
            }
            print("RTN \(bits)-bit group \(group) \(label): worst error \(worst) steps, \(ReconstructionError(original: w, approx: back))")
        }
    }

    @Test func rtnHandlesConstantAndTinyGroups() throws {
        var w = [Float](repeating: 0.3, count: 64) + [Float](repeating: 0, count: 64)
        w += (0..<64).map { Float($0) * 1e-9 }  // range below f16's smallest step
        let q = try RTNQuantizer.quantize(w, rows: 1, k: 192, bits: 4, groupSize: 64)
        #expect(q.scales[0] == 0 && q.mins[0] == Float(Float16(0.3)))
        #expect(q.scales[1] == 0 && q.mins[1] == 0)
        #expect(q.scales[2] > 0 && q.scales[2].isFinite)
        let back = q.dequantized()
        #expect(back[0..<64].allSatisfy { $0 == Float(Float16(0.3)) })
        #expect(back[64..<128].allSatisfy { $0 == 0 })
        for i in 128..<192 { #expect(abs(back[i] - w[i]) <= q.scales[2] / 2 + 1e-12) }
    }

    @Test func quantizersRejectBadArguments() {
        let w = [Float](repeating: 1, count: 96)
        #expect(throws: QuantizationError("bits must be 4 or 8, got 3")) {
            try RTNQuantizer.quantize(w, rows: 1, k: 96, bits: 3, groupSize: 32)
        }
        #expect(throws: QuantizationError("group size must be 32, 64 or 128, got 48")) {
            try RTNQuantizer.quantize(w, rows: 2, k: 48, bits: 4, groupSize: 48)
        }
        #expect(throws: QuantizationError("row length 96 is not a multiple of the group size 64")) {
            try HQQQuantizer.quantize(w, rows: 1, k: 96, bits: 4, groupSize: 64)
        }
        #expect(throws: QuantizationError("expected 2 x 64 = 128 values, got 96")) {
            try RTNQuantizer.quantize(w, rows: 2, k: 64, bits: 8, groupSize: 32)
        }
    }

    @Test func int8PerChannelRoundTripIsWithinHalfAStep() throws {
        let rows = 9, k = 200
        var w = TestWeights.heavyTailed(rows * k, seed: 3)
        for j in 0..<k { w[4 * k + j] = 0 }  // an all-zero row
        let q = try Int8ChannelQuantizer.quantize(w, rows: rows, k: k)
        #expect(q.scales.count == rows && q.codes.allSatisfy { $0 >= -127 })
        #expect(q.scales[4] == 0)
        let back = q.dequantized()
        for r in 0..<rows {
            let amax = w[r * k..<(r + 1) * k].map(abs).max()!
            #expect(q.scales[r] == amax / 127, "row \(r): scale is max|x| / 127, unrounded")
            #expect(q.codes[r * k..<(r + 1) * k].map { abs(Int($0)) }.max() == (amax > 0 ? 127 : 0))
            for i in r * k..<(r + 1) * k {
                #expect(abs(w[i] - back[i]) <= q.scales[r] / 2 * (1 + 1e-5), "row \(r) element \(i)")
            }
        }
    }

    @Test func threadedQuantizationEqualsSingleThreaded() throws {
        let rows = 37, k = 128
        let w = TestWeights.heavyTailed(rows * k, seed: 4)
        let pool = ThreadPool(threads: 2, spinIterations: 0)
        #expect(try RTNQuantizer.quantize(w, rows: rows, k: k, bits: 4, groupSize: 32, pool: pool)
                == RTNQuantizer.quantize(w, rows: rows, k: k, bits: 4, groupSize: 32))
        #expect(try HQQQuantizer.quantize(w, rows: rows, k: k, bits: 4, pool: pool)
                == HQQQuantizer.quantize(w, rows: rows, k: k, bits: 4))
        #expect(try Int8ChannelQuantizer.quantize(w, rows: rows, k: k, pool: pool) == Int8ChannelQuantizer.quantize(w, rows: rows, k: k))
    }
}
