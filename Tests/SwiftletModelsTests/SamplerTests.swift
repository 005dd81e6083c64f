// Sampling without a model: the filters keep exactly the tokens they should.
import Foundation
import Testing
import SwiftletRuntime

private func logits(_ n: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { _ in g.nextUnit() * 12 - 6 }
}

/// The exact nucleus by full sort: the smallest prefix of tokens by descending logit with mass >= p.
private func nucleus(_ l: [Float], _ p: Float) -> Set<Int32> {
    let order = l.indices.sorted { l[$0] > l[$1] }
    let m = l.max()!
    let total = l.reduce(Float(0)) { $0 + expf($1 - m) }
    var mass: Float = 0
    var out = Set<Int32>()
    for i in order {
        out.insert(Int32(i))
        mass += expf(l[i] - m) / total
        if mass >= p { break }
    }
    return out
}

@Test(arguments: [0.5, 0.9, 0.99] as [Float])
func topPOverTheWholeVocabularyDrawsFromTheExactNucleus(topP: Float) {
    // Flat enough that the 0.99 nucleus needs the full sort, peaked enough that 0.5 does not.
    var l = logits(20_000, seed: 3)
    for i in 0..<40 { l[i * 97] += 9 }
    let allowed = nucleus(l, topP)
    var params = SamplingParameters()
    params.topK = 0
    params.topP = topP
    params.minP = 0
    params.temperature = 1
    params.seed = 5
    var sampler = Sampler(params)
    var seen = Set<Int32>()
    l.withUnsafeBufferPointer { b in
        for _ in 0..<400 {
            let t = sampler.sample(b)
            #expect(allowed.contains(t), "token \(t) is outside the nucleus of \(allowed.count)")
            seen.insert(t)
        }
    }
    // The 40 boosted tokens carry most of the mass: most of those in the nucleus get drawn.
    #expect(seen.count >= min(allowed.count, 40) * 3 / 4, "only \(seen.count) of \(allowed.count) nucleus tokens drawn")
}

@Test func minPAndTopKKeepTheirCandidates() {
    var l = [Float](repeating: -10, count: 1000)
    l[7] = 5; l[8] = 5 + logf(0.5); l[9] = 5 + logf(0.01)   // p relative to the best: 1, 0.5, 0.01
    var params = SamplingParameters()
    params.topK = 0
    params.topP = 1
    params.minP = 0.1
    params.temperature = 1
    var sampler = Sampler(params)
    var seen = Set<Int32>()
    l.withUnsafeBufferPointer { b in for _ in 0..<500 { seen.insert(sampler.sample(b)) } }
    #expect(seen == [7, 8])
    params.minP = 0
    params.topK = 1
    var greedyLike = Sampler(params)
    l.withUnsafeBufferPointer { b in for _ in 0..<50 { #expect(greedyLike.sample(b) == 7) } }
}
