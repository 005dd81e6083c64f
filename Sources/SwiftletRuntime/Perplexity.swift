// Perplexity over non-overlapping windows, scored as llama.cpp's peer does.
import Foundation
import SwiftletModels

public struct PerplexityResult: Sendable, Codable {
    public var tokensScored: Int
    public var perplexity: Double
    enum CodingKeys: String, CodingKey {
        case tokensScored = "tokens_scored"
        case perplexity
    }
}

extension Engine {
    /// Cuts `tokens` into windows of `context` tokens; in each window every token but the first is
    /// scored from the tokens before it in that window.
    public func perplexity(tokens: [Int32], context: Int) throws -> PerplexityResult {
        guard context >= 2 else { throw RuntimeError("--ctx must be at least 2") }
        guard context <= config.contextLength else {
            throw RuntimeError("--ctx \(context) exceeds the model's context length \(config.contextLength)")
        }
        let (cache, scratch) = makeSequence(capacity: context, promptTokens: context, logitRows: 16)
        var nll = 0.0
        var count = 0
        var start = 0
        while start < tokens.count - 1 {
            let window = Array(tokens[start..<min(tokens.count, start + context)])
            if window.count < 2 { break }
            cache.truncate(to: 0)
            try evaluate(window, cache: cache, scratch: scratch, logits: .all) { i, row in
                guard i + 1 < window.count else { return }
                nll -= logSoftmax(row, at: Int(window[i + 1]))
                count += 1
            }
            start += context
        }
        guard count > 0 else { throw RuntimeError("the text has fewer than 2 tokens: nothing to score") }
        return PerplexityResult(tokensScored: count, perplexity: exp(nll / Double(count)))
    }
}

/// log softmax(row)[index], in double precision.
func logSoftmax(_ row: UnsafeBufferPointer<Float>, at index: Int) -> Double {
    var m = -Float.infinity
    for v in row where v > m { m = v }
    var sum = 0.0
    for v in row { sum += exp(Double(v - m)) }
    return Double(row[index] - m) - log(sum)
}
