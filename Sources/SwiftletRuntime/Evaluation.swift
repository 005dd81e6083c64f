// Optimized models (quantized, pruned) against their base on one text: quality, size, speed and
// peak memory, one model loaded at a time for speed and memory, the base plus one candidate for quality.
import Foundation
import SwiftletModels

/// One model's figures. Decoders fill the perplexity, KL, top-1 and tok/s fields; embedding models
/// the cosine and embeddings/s ones. Absent fields are left out of the JSON.
public struct ModelEvaluation: Sendable, Codable {
    public enum Role: String, Sendable, Codable { case base, candidate }

    public var model: String
    public var role: Role
    /// The model file, or the folder's weight files (*.safetensors, *.gguf).
    public var sizeBytes: Int64
    /// Peak resident memory while this model alone was loaded and measured.
    public var peakRssMB = 0.0

    public var perplexity: Double?
    /// Mean KL(base || this model) of the next-token distributions, in nats.
    public var kl: Double?
    public var top1Agreement: Double?
    public var tokensScored: Int?
    public var prefillTokS: Double?
    public var decodeTokS: Double?

    /// Mean and least cosine similarity of this model's embeddings to the base's, text by text.
    public var cosine: Double?
    public var cosineMin: Double?
    public var embedPerS: Double?
    /// Texts embedded (the non-empty lines).
    public var texts: Int?

    public init(model: String, role: Role, sizeBytes: Int64) {
        self.model = model
        self.role = role
        self.sizeBytes = sizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case model, role, perplexity, kl, cosine, texts
        case sizeBytes = "size_bytes"
        case peakRssMB = "peak_rss_mb"
        case top1Agreement = "top1_agreement"
        case tokensScored = "tokens_scored"
        case prefillTokS = "prefill_tok_s"
        case decodeTokS = "decode_tok_s"
        case cosineMin = "cosine_min"
        case embedPerS = "embed_per_s"
    }
}

public struct EvaluationOptions: Sendable {
    /// Window length in tokens for perplexity and KL.
    public var context = 512
    /// Most tokens of the text to score (nil: all).
    public var maxTokens: Int?
    /// Prepend the BOS token to the text.
    public var bos = false
    /// Speed: prefill `benchPrompt` tokens, then decode `benchGen`; medians of `benchReps` runs.
    public var benchPrompt = 128
    public var benchGen = 64
    public var benchReps = 3
    /// Worker threads per model (nil: one per core) and the largest prompt batch.
    public var threads: Int?
    public var maxBatch = 512

    public init() {}
}

/// Where an evaluation is: the phase, the model, and `step` of `total` units of work on it.
public struct EvaluationProgress: Sendable {
    public enum Phase: String, Sendable {
        /// Load and benchmark one model alone.
        case speed
        /// Score the text with the base and one candidate.
        case quality
        /// Embed the text's lines with one model (speed, memory and the vectors at once).
        case embedding
    }
    public var phase: Phase
    public var model: String
    /// Which model of the phase's `models`, from 0.
    public var index: Int
    public var models: Int
    public var step: Int
    public var total: Int
}

/// Compares candidates with a base on one text. Decoders: perplexity, KL(base || candidate), top-1
/// agreement, size, prefill/decode speed and peak memory. Embedding models (a BERT checkpoint folder):
/// cosine similarity to the base's embeddings, size, embeddings/s and peak memory.
public struct Evaluation: Sendable {
    public var base: String
    public var candidates: [String]
    public var options: EvaluationOptions

    public init(base: String, candidates: [String], options: EvaluationOptions = EvaluationOptions()) {
        self.base = base
        self.candidates = candidates
        self.options = options
    }

    var paths: [String] { [base] + candidates }

    /// Runs every phase; one result per model, the base first.
    public func run(text: String, progress: (EvaluationProgress) -> Void = { _ in }) throws -> [ModelEvaluation] {
        var results = try paths.enumerated().map { i, path in
            ModelEvaluation(model: path, role: i == 0 ? .base : .candidate, sizeBytes: Int64(try ModelSize.bytes(path)))
        }
        let kinds = try paths.map(ModelKind.of)
        for (path, kind) in zip(paths, kinds) where kind != kinds[0] {
            throw RuntimeError("\(path) is \(kind.description) and the base \(base) \(kinds[0].description): compare like with like")
        }
        switch kinds[0] {
        case .decoder: try evaluateDecoders(text: text, into: &results, progress: progress)
        case .embedding: try evaluateEmbedders(text: text, into: &results, progress: progress)
        }
        return results
    }

    func evaluateDecoders(text: String, into results: inout [ModelEvaluation],
                          progress: (EvaluationProgress) -> Void) throws {
        // Speed and memory, one model at a time; each candidate checked against the base's vocabulary on the way.
        var reference = TextReference(tokens: [], vocabSize: 0)
        for (i, path) in paths.enumerated() {
            progress(EvaluationProgress(phase: .speed, model: path, index: i, models: paths.count, step: 0, total: 1))
            ProcessMemory.releaseFreeMemory()
            ProcessMemory.resetPeak()
            let (bench, seen) = try benchmark(path, text: text, against: i == 0 ? nil : reference)
            if i == 0 { reference = seen }
            results[i].peakRssMB = ProcessMemory.peakResidentMB()
            results[i].prefillTokS = bench.prefillTokS
            results[i].decodeTokS = bench.decodeTokS
            progress(EvaluationProgress(phase: .speed, model: path, index: i, models: paths.count, step: 1, total: 1))
        }
        ProcessMemory.releaseFreeMemory()

        // Quality: the base with one candidate at a time.
        let baseEngine = try load(base)
        for (i, path) in candidates.enumerated() {
            let candidate = try load(path)
            let c = try baseEngine.compare(with: candidate, tokens: reference.tokens, context: options.context) { done, total in
                progress(EvaluationProgress(phase: .quality, model: path, index: i, models: candidates.count, step: done, total: total))
            }
            results[0].perplexity = c.basePerplexity
            results[0].kl = 0
            results[0].top1Agreement = 1
            results[0].tokensScored = c.tokensScored
            results[i + 1].perplexity = c.candidatePerplexity
            results[i + 1].kl = c.kl
            results[i + 1].top1Agreement = c.top1Agreement
            results[i + 1].tokensScored = c.tokensScored
        }
    }

    /// Loads `path`, tokenizes the text and benchmarks it; the engine is released on return. A candidate
    /// is first checked `against` the base's vocabulary and tokens, so a mismatch stops the run early.
    func benchmark(_ path: String, text: String, against base: TextReference?) throws -> (BenchResult, TextReference) {
        let engine = try load(path)
        guard options.context <= engine.config.contextLength else {
            throw RuntimeError("--ctx \(options.context) exceeds the context length \(engine.config.contextLength) of \(path)")
        }
        var tokens = engine.tokenize(text, bos: options.bos)
        if let n = options.maxTokens, n < tokens.count { tokens = Array(tokens[0..<n]) }
        let seen = TextReference(tokens: tokens, vocabSize: engine.config.vocabSize)
        if let base {
            try seen.check(path, against: base, basePath: self.base)
        } else if tokens.count < 2 {
            throw RuntimeError("the text has \(tokens.count) token\(tokens.count == 1 ? "" : "s"): at least 2 are needed to score it")
        }
        let bench = try engine.bench(tokens: tokens, prompt: options.benchPrompt, gen: options.benchGen, reps: options.benchReps)
        return (bench, seen)
    }

    func load(_ path: String) throws -> Engine {
        try Engine(path: path, threads: options.threads, maxBatch: options.maxBatch)
    }
}

/// What a candidate must share with its base for KL to mean anything: the vocabulary and the text's tokens.
struct TextReference {
    var tokens: [Int32]
    var vocabSize: Int

    func check(_ path: String, against base: TextReference, basePath: String) throws {
        let why = "a different tokenizer or vocabulary, so their next-token distributions cannot be compared (KL)"
        guard vocabSize == base.vocabSize else {
            throw RuntimeError("\(path) has a vocabulary of \(vocabSize) tokens and the base \(basePath) \(base.vocabSize): \(why)")
        }
        guard let k = tokens.indices.first(where: { $0 >= base.tokens.count || tokens[$0] != base.tokens[$0] })
                ?? (tokens.count < base.tokens.count ? tokens.count : nil) else { return }
        let at = { (ids: [Int32]) in k < ids.count ? "id \(ids[k])" : "the end" }
        throw RuntimeError("\(path) tokenizes the text differently from the base \(basePath) (token \(k): \(at(tokens)) vs \(at(base.tokens))): \(why)")
    }
}
