// A candidate model's next-token distributions against its base's on the same tokens: perplexity of
// both, KL(base || candidate) and top-1 agreement, window by window.
import Foundation
import SwiftletModels

/// Two models scored on the same text, position by position.
public struct LogitComparison: Sendable {
    /// Positions scored (every token of a window but the first).
    public var tokensScored: Int
    public var basePerplexity: Double
    public var candidatePerplexity: Double
    /// Mean KL(base || candidate) of the next-token distributions, in nats.
    public var kl: Double
    /// Share of positions where the candidate's most likely next token is the base's.
    public var top1Agreement: Double
}

extension Engine {
    /// Positions evaluated at a time by each model of a comparison, so their logits need only
    /// 2 x slice x vocab floats (the kernels are batch-invariant: slicing a window changes no logit).
    public static let comparisonSlice = 64

    /// Scores `tokens` with this engine (the base) and `candidate` in the windows `perplexity` uses
    /// (the perplexities agree with its figures to about 1e-8: this computes in double precision from
    /// the logits on). The two models take turns over slices of each window, so only a slice of
    /// logits is held at a time. `progress(windowsDone, windows)` is called before each window and at the end.
    public func compare(with candidate: Engine, tokens: [Int32], context: Int,
                        progress: (Int, Int) -> Void = { _, _ in }) throws -> LogitComparison {
        guard context >= 2 else { throw RuntimeError("--ctx must be at least 2") }
        for engine in [self, candidate] where context > engine.config.contextLength {
            throw RuntimeError("--ctx \(context) exceeds the context length \(engine.config.contextLength) of \(engine.path)")
        }
        let vocab = config.vocabSize
        guard candidate.config.vocabSize == vocab else {
            throw RuntimeError("\(candidate.path) has a vocabulary of \(candidate.config.vocabSize) tokens and the base \(vocab): "
                + "their next-token distributions cannot be compared (KL needs the same tokenizer)")
        }
        let windows = stride(from: 0, to: tokens.count - 1, by: context)
            .map { $0..<min(tokens.count, $0 + context) }
            .filter { $0.count >= 2 }
        guard !windows.isEmpty else { throw RuntimeError("the text has fewer than 2 tokens: nothing to score") }

        let slice = min(context, Self.comparisonSlice)
        let (baseCache, baseScratch) = makeSequence(capacity: context, promptTokens: slice, logitRows: 16)
        let (candidateCache, candidateScratch) = candidate.makeSequence(capacity: context, promptTokens: slice, logitRows: 16)
        // Each model's logits for one slice, (slice, vocab).
        let baseRows = UnsafeMutablePointer<Float>.allocate(capacity: slice * vocab)
        let candidateRows = UnsafeMutablePointer<Float>.allocate(capacity: slice * vocab)
        let scores = UnsafeMutableBufferPointer<PositionScore>.allocate(capacity: slice)
        defer {
            baseRows.deallocate()
            candidateRows.deallocate()
            scores.deallocate()
        }

        var total = PositionScore()
        var count = 0
        for (w, range) in windows.enumerated() {
            progress(w, windows.count)
            let window = Array(tokens[range])
            baseCache.truncate(to: 0)
            candidateCache.truncate(to: 0)
            // Position p predicts window[p + 1]: the window's last token is never fed.
            for start in stride(from: 0, to: window.count - 1, by: slice) {
                let part = Array(window[start..<min(window.count - 1, start + slice)])
                try evaluate(part, cache: baseCache, scratch: baseScratch, logits: .all) { i, row in
                    (baseRows + i * vocab).update(from: row.baseAddress!, count: vocab)
                }
                try candidate.evaluate(part, cache: candidateCache, scratch: candidateScratch, logits: .all) { i, row in
                    (candidateRows + i * vocab).update(from: row.baseAddress!, count: vocab)
                }
                pool.parallelFor(part.count) { rows in
                    for i in rows {
                        scores[i] = PositionScore(base: UnsafeBufferPointer(start: baseRows + i * vocab, count: vocab),
                                                  candidate: UnsafeBufferPointer(start: candidateRows + i * vocab, count: vocab),
                                                  target: Int(window[start + i + 1]))
                    }
                }
                // Summed in position order, whatever the threads: the same figures on every run.
                for i in 0..<part.count { total.add(scores[i]) }
                count += part.count
            }
        }
        progress(windows.count, windows.count)
        let n = Double(count)
        return LogitComparison(tokensScored: count, basePerplexity: exp(total.baseNLL / n),
                               candidatePerplexity: exp(total.candidateNLL / n),
                               kl: total.kl / n, top1Agreement: total.agreements / n)
    }
}

/// One position's figures (or their sums).
struct PositionScore {
    var baseNLL = 0.0
    var candidateNLL = 0.0
    var kl = 0.0
    var agreements = 0.0

    init() {}

    /// -log p(target) under each row, KL(softmax(base) || softmax(candidate)) and whether the argmaxes agree.
    init(base: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>, target: Int) {
        let b = RowSoftmax(base), c = RowSoftmax(candidate)
        baseNLL = -b.logProbability(base, at: target)
        candidateNLL = -c.logProbability(candidate, at: target)
        for k in 0..<base.count {
            let lp = b.logProbability(base, at: k)
            kl += exp(lp) * (lp - c.logProbability(candidate, at: k))
        }
        agreements = b.argmax == c.argmax ? 1 : 0
    }

    mutating func add(_ s: PositionScore) {
        baseNLL += s.baseNLL
        candidateNLL += s.candidateNLL
        kl += s.kl
        agreements += s.agreements
    }
}

/// log softmax of one logits row, in double precision throughout (the logits are converted before
/// any arithmetic, so a wide range of logits loses nothing to float rounding).
struct RowSoftmax {
    var argmax = 0
    /// max + log(sum(exp(row - max))): log p(i) = row[i] - logNormalizer.
    var logNormalizer = 0.0

    init(_ row: UnsafeBufferPointer<Float>) {
        var max = -Float.infinity
        for (i, v) in row.enumerated() where v > max {
            max = v
            argmax = i
        }
        let m = Double(max)
        var sum = 0.0
        for v in row { sum += exp(Double(v) - m) }
        logNormalizer = m + log(sum)
    }

    @inline(__always)
    func logProbability(_ row: UnsafeBufferPointer<Float>, at index: Int) -> Double {
        Double(row[index]) - logNormalizer
    }
}
