// The generation loop: prefill the prompt in batches, then decode one token at a time.
import Foundation
import SwiftletCore
import SwiftletModels
import SwiftletTokenizers

public struct GenerationResult: Sendable {
    public var promptTokens: Int
    public var tokens: [Int32] = []
    public var text = ""
    /// Why generation ended: "eos" or "length".
    public var finishReason = "length"
    public var prefillSeconds: Double = 0
    public var decodeSeconds: Double = 0
}

extension Engine {
    /// Generates up to `maxNewTokens` after `prompt`, calling `onText` with each decoded piece
    /// (incomplete UTF-8 is held back). Return false from `onText` to stop early.
    public func generate(prompt: [Int32], maxNewTokens: Int, sampling: SamplingParameters,
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        try sampling.validate()
        guard !prompt.isEmpty else { throw RuntimeError("the prompt is empty") }
        guard maxNewTokens >= 0 else { throw RuntimeError("max new tokens must be >= 0") }
        let needed = prompt.count + maxNewTokens
        guard prompt.count <= config.contextLength else {
            throw RuntimeError("the prompt has \(prompt.count) tokens but the model's context is \(config.contextLength)")
        }
        let capacity = min(config.contextLength, needed)
        let (cache, scratch) = makeSequence(capacity: capacity, promptTokens: prompt.count)
        var sampler = Sampler(sampling)
        var result = GenerationResult(promptTokens: prompt.count)
        var history = prompt
        var detok = StreamingDetokenizer(tokenizer: tokenizer)
        var next: Int32 = 0

        let t0 = DispatchTime.now().uptimeNanoseconds
        try evaluate(prompt, cache: cache, scratch: scratch, logits: .last) { _, row in
            next = sampler.sample(row, recent: history[...])
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        result.prefillSeconds = Double(t1 - t0) / 1e9
        var stop = false
        while result.tokens.count < maxNewTokens && !stop {
            if tokenizer.isEndOfGeneration(next) { result.finishReason = "eos"; break }
            result.tokens.append(next)
            history.append(next)
            let piece = detok.append(next)
            result.text += piece
            if !piece.isEmpty && !onText(piece) { stop = true; break }
            if result.tokens.count == maxNewTokens { break }
            if cache.count >= cache.capacity { result.finishReason = "length"; break }
            try step(next, cache: cache, scratch: scratch) { row in next = sampler.sample(row, recent: history[...]) }
        }
        let tail = detok.flush()
        if !tail.isEmpty { result.text += tail; _ = onText(tail) }
        result.decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        return result
    }
}

extension Engine {
    /// Argmax decoding that stops only at the EOS token, as the peer's `greedy` command does.
    public func greedyUntilEOS(prompt: [Int32], maxNewTokens: Int) throws -> [Int32] {
        let capacity = min(config.contextLength, prompt.count + maxNewTokens)
        let (cache, scratch) = makeSequence(capacity: capacity, promptTokens: prompt.count)
        var sampler = Sampler(.greedy)
        var next: Int32 = 0
        try evaluate(prompt, cache: cache, scratch: scratch, logits: .last) { _, row in next = sampler.sample(row) }
        var out: [Int32] = []
        while out.count < maxNewTokens && next != tokenizer.eos {
            out.append(next)
            if out.count == maxNewTokens { break }
            try step(next, cache: cache, scratch: scratch) { row in next = sampler.sample(row) }
        }
        return out
    }
}
