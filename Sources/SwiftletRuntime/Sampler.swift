// Next-token sampling: greedy, temperature, top-k, top-p, min-p and repetition penalty, seeded.
import Foundation
import SwiftletCore

/// Sampling settings. `temperature == 0` means greedy (argmax).
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0.8
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repetitionPenalty: Float = 1.0
    /// How many recent tokens the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    public var seed: UInt64 = 0

    public init() {}

    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    /// Checks ranges; the error lists every field that is out of range.
    public func validate() throws {
        var bad: [String] = []
        if !(temperature >= 0 && temperature <= 100) { bad.append("temperature \(temperature) must be in 0...100") }
        if topK < 0 { bad.append("top-k \(topK) must be >= 0 (0 disables it)") }
        if !(topP > 0 && topP <= 1) { bad.append("top-p \(topP) must be in (0, 1]") }
        if !(minP >= 0 && minP <= 1) { bad.append("min-p \(minP) must be in [0, 1]") }
        if !(repetitionPenalty > 0 && repetitionPenalty <= 10) { bad.append("repetition penalty \(repetitionPenalty) must be in (0, 10]") }
        if repetitionWindow < 0 { bad.append("repetition window \(repetitionWindow) must be >= 0") }
        if !bad.isEmpty { throw RuntimeError("invalid sampling parameters: " + bad.joined(separator: "; ")) }
    }
}

/// xoshiro256** seeded through SplitMix64: the same seed gives the same stream on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// A uniform float in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

/// Picks tokens from logits. Holds its random state, so one sampler serves one sequence.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SeededGenerator
    private var candidates: [(id: Int32, logit: Float)] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededGenerator(seed: parameters.seed)
    }

    /// Chooses the next token. `recent` are the latest tokens, for the repetition penalty.
    /// Order as llama.cpp's default chain: penalty, top-k, top-p, min-p, temperature, draw.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, recent: ArraySlice<Int32> = []) -> Int32 {
        let p = parameters
        if p.repetitionPenalty != 1 && !recent.isEmpty {
            // Penalize a copy of the affected entries only.
            return sampleWithPenalty(logits, recent: recent.suffix(p.repetitionWindow))
        }
        return sampleFiltered(logits, penalized: [:])
    }

    private mutating func sampleWithPenalty(_ logits: UnsafeBufferPointer<Float>, recent: ArraySlice<Int32>) -> Int32 {
        var penalized: [Int32: Float] = [:]
        for t in recent where penalized[t] == nil && Int(t) < logits.count {
            let l = logits[Int(t)]
            penalized[t] = l > 0 ? l / parameters.repetitionPenalty : l * parameters.repetitionPenalty
        }
        return sampleFiltered(logits, penalized: penalized)
    }

    private mutating func sampleFiltered(_ logits: UnsafeBufferPointer<Float>, penalized: [Int32: Float]) -> Int32 {
        let p = parameters
        @inline(__always) func value(_ i: Int) -> Float { penalized.isEmpty ? logits[i] : (penalized[Int32(i)] ?? logits[i]) }
        if p.temperature == 0 {
            var best = 0
            var bestValue = -Float.infinity
            for i in 0..<logits.count {
                let v = value(i)
                if v > bestValue { bestValue = v; best = i }
            }
            return Int32(best)
        }
        // Top-k. With k = 0 (the whole vocabulary) nothing is sorted that need not be: top-p
        // needs only the largest entries holding its mass, min-p only those above its cut, and
        // plain temperature sampling no order at all.
        var maxLogit = -Float.infinity
        for i in 0..<logits.count { maxLogit = max(maxLogit, value(i)) }
        var total: Float = 0
        if p.topK > 0 && p.topK < logits.count {
            selectLargest(p.topK, logits.count, value)
            for c in candidates { total += expf(c.logit - maxLogit) }
        } else {
            for i in 0..<logits.count { total += expf(value(i) - maxLogit) }
            if p.topP < 1 {
                // The k largest for k = 64, 256, 1024; a flatter distribution sorts everything.
                var want = 64
                while true {
                    if want > 1024 {
                        candidates.removeAll(keepingCapacity: true)
                        for i in 0..<logits.count { candidates.append((Int32(i), value(i))) }
                        candidates.sort { $0.logit > $1.logit }
                        break
                    }
                    selectLargest(min(want, logits.count), logits.count, value)
                    var mass: Float = 0
                    for c in candidates { mass += expf(c.logit - maxLogit) }
                    if mass >= p.topP * total || candidates.count == logits.count { break }
                    want *= 4
                }
            } else {
                candidates.removeAll(keepingCapacity: true)
                // Min-p keeps p >= minP * p_max, i.e. logit >= max + ln(minP).
                let cut = p.minP > 0 ? maxLogit + logf(p.minP) : -Float.infinity
                for i in 0..<logits.count where value(i) >= cut { candidates.append((Int32(i), value(i))) }
                if p.minP > 0 { candidates.sort { $0.logit > $1.logit } }
            }
        }
        // Probabilities of the candidates (sorted, descending, when top-p or min-p look at the order).
        var probs = candidates.map { expf($0.logit - maxLogit) }
        // Top-p: smallest prefix with mass >= topP.
        if p.topP < 1 {
            var mass: Float = 0
            var keep = probs.count
            for (i, q) in probs.enumerated() {
                mass += q / total
                if mass >= p.topP { keep = i + 1; break }
            }
            probs.removeLast(probs.count - keep)
        }
        // Min-p: drop candidates below minP times the best probability.
        if p.minP > 0 {
            let cut = probs[0] * p.minP
            var keep = probs.count
            while keep > 1 && probs[keep - 1] < cut { keep -= 1 }
            probs.removeLast(probs.count - keep)
        }
        // Temperature on the survivors, then draw.
        let invT = 1 / p.temperature
        for i in probs.indices { probs[i] = expf((candidates[i].logit - maxLogit) * invT) }
        total = probs.reduce(0, +)
        var r = rng.nextUnit() * total
        for (i, q) in probs.enumerated() {
            r -= q
            if r < 0 { return candidates[i].id }
        }
        return candidates[probs.count - 1].id
    }
}

extension Sampler {
    /// Keeps the k largest values in `candidates`, sorted descending (a bounded insertion list:
    /// each of the n values costs one comparison unless it enters the list).
    fileprivate mutating func selectLargest(_ k: Int, _ n: Int, _ value: (Int) -> Float) {
        candidates.removeAll(keepingCapacity: true)
        var threshold = -Float.infinity
        for i in 0..<n {
            let v = value(i)
            if candidates.count == k && v <= threshold { continue }
            var j = candidates.count
            if candidates.count < k { candidates.append((Int32(i), v)) } else { j = k - 1; candidates[j] = (Int32(i), v) }
            while j > 0 && candidates[j - 1].logit < v { candidates.swapAt(j, j - 1); j -= 1 }
            if candidates.count == k { threshold = candidates[k - 1].logit }
        }
    }
}

/// An error of the runtime (bad parameters, context exhausted...) with a message for the user.
public struct RuntimeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
