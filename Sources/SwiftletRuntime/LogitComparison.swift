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
    /// Scores `tokens` with this engine (the base) and `candidate` in the windows `perplexity` uses
    /// (its figures agree with `perplexity`'s to about 1e-8; this one computes in double precision
    /// from the logits on). Only one window of the base's logits is held at a time. `progress(windowsDone, windows)` is called before each window and at the end.
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

        let (baseCache, baseScratch) = makeSequence(capacity: context, promptTokens: context, logitRows: 16)
        let (candidateCache, candidateScratch) = candidate.makeSequence(capacity: context, promptTokens: context, logitRows: 16)
        // The base's rows of one window, (context, vocab); the candidate's arrive in blocks, (block, vocab).
        let block = 16
        let baseRows = UnsafeMutablePointer<Float>.allocate(capacity: context * vocab)
        let candidateRows = UnsafeMutablePointer<Float>.allocate(capacity: block * vocab)
        let scores = UnsafeMutableBufferPointer<PositionScore>.allocate(capacity: context)
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
            let scored = window.count - 1
            baseCache.truncate(to: 0)
            try evaluate(window, cache: baseCache, scratch: baseScratch, logits: .all) { i, row in
                guard i < scored else { return }
                (baseRows + i * vocab).update(from: row.baseAddress!, count: vocab)
            }
            candidateCache.truncate(to: 0)
            try candidate.evaluate(window, cache: candidateCache, scratch: candidateScratch, logits: .all) { i, row in
                guard i < scored else { return }
                let slot = i % block
                (candidateRows + slot * vocab).update(from: row.baseAddress!, count: vocab)
                guard slot == block - 1 || i == scored - 1 else { return }
                // A full block (or the window's last): score its positions on all threads.
                let first = i - slot
                candidate.pool.parallelFor(slot + 1) { part in
                    for s in part {
                        let p = first + s
                        scores[p] = PositionScore(
                            base: UnsafeBufferPointer(start: baseRows + p * vocab, count: vocab),
                            candidate: UnsafeBufferPointer(start: candidateRows + s * vocab, count: vocab),
                            target: Int(window[p + 1]))
                    }
                }
            }
            // Summed in position order, whatever the threads: the same figures on every run.
            for p in 0..<scored { total.add(scores[p]) }
            count += scored
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
