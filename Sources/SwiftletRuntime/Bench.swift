// Throughput measurement with the peer's conventions: prefill at depth 0, decode after a context.
import Foundation
import SwiftletModels

public struct BenchResult: Sendable, Codable {
    public var engine = "swiftlet"
    public var threads: Int
    public var promptTokens: Int
    public var genTokens: Int
    public var prefillTokS: Double
    public var decodeTokS: Double
    public var prefillRuns: [Double]
    public var decodeRuns: [Double]
    public var peakRssMB: Double
    /// For a model run under a memory budget: what streaming read and waited for.
    public var streaming: StreamingBench?

    enum CodingKeys: String, CodingKey {
        case engine, threads
        case promptTokens = "prompt_tokens"
        case genTokens = "gen_tokens"
        case prefillTokS = "prefill_tok_s"
        case decodeTokS = "decode_tok_s"
        case prefillRuns = "prefill_runs"
        case decodeRuns = "decode_runs"
        case peakRssMB = "peak_rss_mb"
        case streaming
    }
}

extension Engine {
    /// Prefill: tokens/s evaluating `prompt` tokens in batches from an empty cache.
    /// Decode: tokens/s for `gen` single-token steps after a context of `prompt` tokens.
    /// Each is run `reps` times; the medians are reported.
    public func bench(tokens source: [Int32], prompt: Int, gen: Int, reps: Int) throws -> BenchResult {
        guard prompt >= 1, gen >= 1, reps >= 1 else { throw RuntimeError("--prompt, --gen and --reps must be >= 1") }
        guard prompt + gen <= config.contextLength else {
            throw RuntimeError("--prompt + --gen = \(prompt + gen) exceeds the model's context length \(config.contextLength)")
        }
        var toks = source
        if toks.isEmpty { toks = [tokenizer.bos ?? 0] }
        while toks.count < prompt + gen { toks += toks }
        let promptTokens = Array(toks[0..<prompt])
        let follow = Array(toks[prompt..<(prompt + gen)])
        let (cache, scratch) = makeSequence(capacity: prompt + gen, promptTokens: prompt)
        var prefill: [Double] = []
        var decode: [Double] = []
        var prefillStats = StreamingStats(), decodeStats = StreamingStats()
        var decodeSeconds = 0.0, diskBytes = 0
        ProcessMemory.resetPeak()
        for _ in 0..<reps {
            cache.truncate(to: 0)
            let s0 = streamer?.stats
            let t0 = DispatchTime.now().uptimeNanoseconds
            try evaluate(promptTokens, cache: cache, scratch: scratch, logits: .last) { _, _ in }
            let t1 = DispatchTime.now().uptimeNanoseconds
            let s1 = streamer?.stats, io1 = ProcessIO.readBytes()
            prefill.append(Double(prompt) / (Double(t1 - t0) / 1e9))
            // Which token is fed does not change the cost: feed the text's next tokens.
            for t in follow { try step(t, cache: cache, scratch: scratch) { _ in } }
            let t2 = DispatchTime.now().uptimeNanoseconds
            decode.append(Double(gen) / (Double(t2 - t1) / 1e9))
            if let s0, let s1, let s2 = streamer?.stats {
                prefillStats = prefillStats + (s1 - s0)
                decodeStats = decodeStats + (s2 - s1)
                decodeSeconds += Double(t2 - t1) / 1e9
                diskBytes += ProcessIO.readBytes() - io1
            }
        }
        return BenchResult(threads: pool.threadCount, promptTokens: prompt, genTokens: gen,
                           prefillTokS: median(prefill), decodeTokS: median(decode),
                           prefillRuns: prefill, decodeRuns: decode, peakRssMB: ProcessMemory.peakResidentMB(),
                           streaming: streamer.map {
                               StreamingBench(streamer: $0, prefill: prefillStats, decode: decodeStats, decodeSeconds: decodeSeconds,
                                              diskBytes: diskBytes, tokens: gen * reps, kvCacheBytes: cache.byteCount,
                                              activationBytes: scratch.byteCount)
                           })
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

