// Pruning: exact magnitude sparsity with deterministic ties, the cubic schedule, row pruning, and the MLP
// shrink plan (highest scores kept, a multiple of the granularity, gathers).
import Testing
import SwiftletOptimize

@Suite struct PruningTests {
    @Test(arguments: [0.0, 0.1, 0.25, 0.5, 0.731, 0.9, 1.0])
    func magnitudePruningHitsTheExactSparsity(sparsity: Double) {
        let n = 96 * 257
        let original = TestWeights.heavyTailed(n, seed: 20)
        var w = original
        let count = MagnitudePruning.prune(&w, sparsity: sparsity)
        let expected = Int((sparsity * Double(n)).rounded(.toNearestOrEven))
        #expect(count == expected)
        #expect(w.count(where: { $0 == 0 }) == expected, "zeros at sparsity \(sparsity)")
        // The pruned entries are the smallest: every survivor is at least as large as every pruned one.
        let prunedMax = zip(original, w).filter { $0.1 == 0 }.map { abs($0.0) }.max() ?? 0
        let keptMin = w.filter { $0 != 0 }.map(abs).min() ?? .infinity
        #expect(prunedMax <= keptMin)
        #expect(zip(original, w).allSatisfy { $1 == 0 || $0 == $1 }, "survivors unchanged")
    }

    @Test func magnitudeTiesAreBrokenByIndex() {
        var w: [Float] = [0.5, -0.5, 0.5, 0.1, -0.5, 0.5, 0.9, 0.5]
        MagnitudePruning.prune(&w, sparsity: 0.5)  // 4: the 0.1, then the first three of the six ±0.5
        #expect(w == [0, 0, 0, 0, -0.5, 0.5, 0.9, 0.5])
        var again = w
        MagnitudePruning.prune(&again, sparsity: 0.75)  // the earlier zeros stay, then the next two 0.5s
        #expect(again == [0, 0, 0, 0, 0, 0, 0.9, 0.5])
        #expect(MagnitudePruning.pruneCount(sparsity: 0.5, of: 5) == 2 && MagnitudePruning.pruneCount(sparsity: 0.3, of: 5) == 2)
    }

    @Test func cubicScheduleValues() {
        let s = MagnitudePruning.gradualSchedule(initial: 0, final: 0.5, steps: 4)
        // 0.5 - 0.5 * (1 - t/4)^3
        let expected = [0.2890625, 0.4375, 0.4921875, 0.5]
        #expect(zip(s, expected).allSatisfy { abs($0 - $1) < 1e-12 } && s.count == 4, "\(s)")
        #expect(MagnitudePruning.gradualSchedule(initial: 0.2, final: 0.8, steps: 1) == [0.8])
        let t = MagnitudePruning.gradualSchedule(initial: 0.1, final: 0.9, steps: 10)
        #expect(zip(t, t.dropFirst()).allSatisfy { $0 < $1 } && t.last == 0.9)
        #expect(abs(t[0] - (0.9 - 0.8 * 0.729)) < 1e-12)

        // Pruning to each target in turn reaches every target exactly.
        var w = TestWeights.gaussian(4096, seed: 21)
        for target in s {
            MagnitudePruning.prune(&w, sparsity: target)
            #expect(w.count(where: { $0 == 0 }) == MagnitudePruning.pruneCount(sparsity: target, of: 4096))
        }
    }

    @Test func structuredPruningZerosTheWeakestRows() {
        let rows = 8, k = 5
        let rowScale: [Float] = [3, 1, 4, 1, 5, 9, 2, 6]
        var w = (0..<rows * k).map { rowScale[$0 / k] * (($0 % 2 == 0) ? 1 : -1) }
        let norms = StructuredPruning.rowNorms(w, rows: rows, k: k)
        #expect(abs(norms[5] - 9 * Double(k).squareRoot()) < 1e-9)
        let pruned = StructuredPruning.pruneRows(&w, rows: rows, k: k, sparsity: 0.375)  // 3 rows: 1, 3 (tie), 6
        #expect(pruned == [1, 3, 6])
        for r in 0..<rows { #expect(w[r * k..<(r + 1) * k].allSatisfy { $0 == 0 } == pruned.contains(r), "row \(r)") }
    }

    @Test func mlpShrinkPlanKeepsTheHighestScoringUnits() throws {
        let hidden = 16, intermediate = 128
        // Unit i's gate, up and down norms are known multiples; the score is their product.
        let unitScale = (0..<intermediate).map { Float(($0 * 37) % intermediate + 1) / Float(intermediate) }
        let up = (0..<intermediate * hidden).map { unitScale[$0 / hidden] }
        let gate = (0..<intermediate * hidden).map { _ in Float(0.5) }
        let down = (0..<hidden * intermediate).map { unitScale[$0 % intermediate] * 2 }
        let plan = try MLPShrinkPlan(gate: gate, up: up, down: down, hidden: hidden, intermediate: intermediate,
                                     sparsity: 0.5, granularity: 32)
        #expect(plan.kept.count == 64 && plan.kept == plan.kept.sorted())
        let expectedScores = unitScale.map { 2 * (4 * Double($0)) * (8 * Double($0)) }  // ||gate|| = 0.5 * 4, ||up|| = 4u, ||down col|| = 2u * 4
        #expect(zip(plan.scores, expectedScores).allSatisfy { abs($0 - $1) <= 1e-6 * $1 })
        let keptMin = plan.kept.map { plan.scores[$0] }.min()!
        let droppedMax = (0..<intermediate).filter { !plan.kept.contains($0) }.map { plan.scores[$0] }.max()!
        #expect(keptMin > droppedMax)

        // Gathers: rows of up (intermediate x hidden), columns of down (hidden x intermediate).
        let upKept = plan.gatherRows(up, k: hidden), downKept = plan.gatherColumns(down, rows: hidden)
        #expect(upKept.count == 64 * hidden && downKept.count == hidden * 64)
        for (j, unit) in plan.kept.enumerated() {
            #expect(upKept[j * hidden] == unitScale[unit] && downKept[3 * 64 + j] == down[3 * intermediate + unit])
        }

        // Without a gate the score is ||up_i|| * ||down_:,i||; same ranking here.
        let ungated = try MLPShrinkPlan(gate: nil, up: up, down: down, hidden: hidden, intermediate: intermediate,
                                        sparsity: 0.5, granularity: 32)
        #expect(ungated.kept == plan.kept)
    }

    @Test func mlpKeepCountIsAMultipleOfTheGranularity() throws {
        #expect(try MLPShrinkPlan.keepCount(intermediate: 1536, sparsity: 0.25, granularity: 32) == 1152)
        #expect(try MLPShrinkPlan.keepCount(intermediate: 1536, sparsity: 0.3, granularity: 32) == 1088)  // 1075.2 -> 33.6 granules -> 34
        #expect(try MLPShrinkPlan.keepCount(intermediate: 1536, sparsity: 0.99, granularity: 32) == 32)  // at least one granule
        #expect(try MLPShrinkPlan.keepCount(intermediate: 100, sparsity: 0, granularity: 32) == 96)
        #expect(try MLPShrinkPlan.keepCount(intermediate: 100, sparsity: 0.1, granularity: 1) == 90)
        for s in stride(from: 0.0, to: 1.0, by: 0.07) {
            #expect(try MLPShrinkPlan.keepCount(intermediate: 1536, sparsity: s, granularity: 64) % 64 == 0)
        }
        #expect(throws: PruningError("granularity must be in 1...16 (the intermediate size), got 32")) {
            try MLPShrinkPlan.keepCount(intermediate: 16, sparsity: 0.5, granularity: 32)
        }
        #expect(throws: PruningError("sparsity must be in [0, 1), got 1.0")) {
            try MLPShrinkPlan.keepCount(intermediate: 64, sparsity: 1, granularity: 32)
        }
        #expect(throws: PruningError.self) {
            try MLPShrinkPlan(gate: nil, up: [1, 2], down: [1], hidden: 1, intermediate: 2, sparsity: 0, granularity: 1)
        }
    }
}
