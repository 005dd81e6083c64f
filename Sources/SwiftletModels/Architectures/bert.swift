// BERT encoder (model_type "bert") as a sentence-embedding model: post-norm bidirectional blocks, pooled and normalized.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletKernels

/// BERT's config.json, with transformers' BertConfig defaults for absent keys.
public struct BertConfiguration: Decodable, Sendable {
    public var vocabSize = 30522
    public var hiddenSize = 768
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var intermediateSize = 3072
    /// "gelu" is the exact (erf) GELU; no other activation is supported.
    public var hiddenAct = "gelu"
    public var maxPositionEmbeddings = 512
    public var typeVocabSize = 2
    public var layerNormEps = 1e-12
    /// Only "absolute" (learned position embeddings) is supported.
    public var positionEmbeddingType = "absolute"
    /// A BERT used as a decoder (causal mask, cross-attention) is not supported.
    public var isDecoder = false

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", positionEmbeddingType = "position_embedding_type", isDecoder = "is_decoder"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? numAttentionHeads
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? maxPositionEmbeddings
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? typeVocabSize
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? positionEmbeddingType
        isDecoder = try c.decodeIfPresent(Bool.self, forKey: .isDecoder) ?? isDecoder
    }

    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Checks that the forward pass can run this configuration; the error names the key.
    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw ModelError("bert: \(what)") }
        }
        try check(hiddenAct == "gelu", "hidden_act \(hiddenAct) is not supported (gelu, the exact erf form, is)")
        try check(positionEmbeddingType == "absolute", "position_embedding_type \(positionEmbeddingType) is not supported (absolute is)")
        try check(!isDecoder, "is_decoder true is not supported (encoder only)")
        try check(hiddenSize > 0 && hiddenSize <= 1 << 16, "invalid hidden_size \(hiddenSize)")
        try check(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0,
                  "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        try check(numHiddenLayers > 0 && numHiddenLayers <= 1024, "invalid num_hidden_layers \(numHiddenLayers)")
        try check(intermediateSize > 0, "invalid intermediate_size \(intermediateSize)")
        try check(vocabSize > 0, "invalid vocab_size \(vocabSize)")
        try check(maxPositionEmbeddings > 0, "invalid max_position_embeddings \(maxPositionEmbeddings)")
        try check(typeVocabSize > 0, "invalid type_vocab_size \(typeVocabSize)")
        try check(layerNormEps > 0 && layerNormEps < 1, "invalid layer_norm_eps \(layerNormEps)")
    }
}

/// Working memory for encoding up to `maxTokens` tokens, allocated once so the forward pass
/// allocates nothing. One per concurrent caller; the model itself holds no per-request state.
public final class BertScratch: @unchecked Sendable {
    public let maxTokens: Int
    public let threads: Int
    /// (maxTokens, hidden) each; x holds the hidden states between blocks.
    let x, q, k, v, att, tmp: UnsafeMutablePointer<Float>
    /// (maxTokens, intermediate)
    let inter: UnsafeMutablePointer<Float>
    /// (threads, maxTokens) attention scores.
    let scores: UnsafeMutablePointer<Float>
    /// (maxTokens, activation bytes of the widest input): inputs quantized for quantized weights.
    let quantizedInput: UnsafeMutableRawPointer
    /// Per layer, its multiplications grouped by shared input (q/k/v, attention output,
    /// intermediate, output), fixed here so the forward pass builds no lists.
    private(set) var plans: [[[MatmulJob]]] = []
    private let allocations: [UnsafeMutablePointer<Float>]

    init(weights: BertWeights, config c: BertConfiguration, maxTokens: Int, threads: Int) {
        self.maxTokens = maxTokens
        self.threads = threads
        var all: [UnsafeMutablePointer<Float>] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(n, 1))
            all.append(p)
            return p
        }
        let rows = maxTokens * c.hiddenSize
        x = floats(rows); q = floats(rows); k = floats(rows); v = floats(rows); att = floats(rows); tmp = floats(rows)
        inter = floats(maxTokens * c.intermediateSize)
        scores = floats(threads * maxTokens)
        let linears = weights.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOutput, $0.intermediate, $0.output].map(\.linear) }
        let rowBytes = linears.map { $0.kernels.activationType == .f32 ? 0 : $0.kernels.activationBytes($0.inputs) }.max() ?? 0
        quantizedInput = UnsafeMutableRawPointer(floats(max(1, maxTokens * rowBytes / 4 + 1)))
        allocations = all
        plans = weights.layers.map { l in
            [[MatmulJob(linear: l.query.linear, out: q), MatmulJob(linear: l.key.linear, out: k), MatmulJob(linear: l.value.linear, out: v)],
             [MatmulJob(linear: l.attentionOutput.linear, out: tmp)],
             [MatmulJob(linear: l.intermediate.linear, out: inter)],
             [MatmulJob(linear: l.output.linear, out: tmp)]]
        }
    }

    deinit { for p in allocations { UnsafeMutableRawPointer(p).deallocate() } }
}

/// A BERT encoder with its sentence-embedding head (pooling + optional normalization), e.g.
/// sentence-transformers/all-MiniLM-L6-v2. Token ids in, one vector out; tokenization happens elsewhere.
public final class BertModel: @unchecked Sendable {
    public let config: BertConfiguration
    public let weights: BertWeights
    public let sentence: SentenceEmbeddingConfig

    public init(config: BertConfiguration, weights: BertWeights, sentence: SentenceEmbeddingConfig = SentenceEmbeddingConfig()) {
        self.config = config
        self.weights = weights
        self.sentence = sentence
    }

    /// Loads a checkpoint folder: config.json (model_type bert), model.safetensors (or shards) and,
    /// when present, the sentence-transformers files that choose the pooling.
    public static func load(checkpoint folder: String) throws -> BertModel {
        let configPath = folder + "/config.json"
        guard let json = FileManager.default.contents(atPath: configPath) else { throw ModelError("\(folder): no readable config.json") }
        let type = try HFConfigLoader.modelType(json, path: configPath)
        guard type == "bert" || type == "BertModel" else { throw ModelError("\(configPath): model_type \(type) is not bert") }
        let config = try HFConfigLoader.decode(BertConfiguration.self, from: json, path: configPath)
        try config.validate()
        let source: SafetensorsCheckpoint
        do { source = try SafetensorsCheckpoint(path: folder) } catch { throw ModelError("\(error)") }
        return BertModel(config: config, weights: try BertWeights(config: config, source: source),
                         sentence: try SentenceEmbeddingConfig.load(folder: folder))
    }

    /// Length of an embedding.
    public var dimension: Int { config.hiddenSize }
    /// The longest input the position embeddings cover.
    public var maxTokens: Int { config.maxPositionEmbeddings }

    public func makeScratch(maxTokens: Int, threads: Int) -> BertScratch {
        BertScratch(weights: weights, config: config, maxTokens: min(maxTokens, config.maxPositionEmbeddings), threads: threads)
    }

    /// The sentence embedding of one token sequence (ids including [CLS] and [SEP]).
    public func embed(tokens: [Int32], pool: ThreadPool) throws -> [Float] {
        try embed(tokens: tokens, scratch: makeScratch(maxTokens: tokens.count, threads: pool.threadCount), pool: pool)
    }

    /// The sentence embedding of one token sequence, using `scratch` for all working memory.
    public func embed(tokens: [Int32], scratch s: BertScratch, pool: ThreadPool) throws -> [Float] {
        try forward(tokens, s, pool)
        return [Float](unsafeUninitializedCapacity: dimension) { out, count in
            sentence.pool(s.x, tokens: tokens.count, width: dimension, stride: dimension, into: out.baseAddress!)
            count = dimension
        }
    }

    /// Sentence embeddings of several sequences, one at a time through one scratch.
    public func embed(batch: [[Int32]], pool: ThreadPool) throws -> [[Float]] {
        let s = makeScratch(maxTokens: batch.map(\.count).max() ?? 1, threads: pool.threadCount)
        return try batch.map { try embed(tokens: $0, scratch: s, pool: pool) }
    }

    /// The last hidden states, (tokens, hidden) row-major: transformers' `last_hidden_state`.
    public func hiddenStates(tokens: [Int32], pool: ThreadPool) throws -> [Float] {
        let s = makeScratch(maxTokens: tokens.count, threads: pool.threadCount)
        try forward(tokens, s, pool)
        return Array(UnsafeBufferPointer(start: s.x, count: tokens.count * dimension))
    }

    /// Runs the encoder over `tokens` (token type 0, positions 0..<n); the result is left in s.x.
    func forward(_ tokens: [Int32], _ s: BertScratch, _ pool: ThreadPool) throws {
        let c = config, w = weights, n = tokens.count, H = c.hiddenSize, I = c.intermediateSize
        guard n > 0 else { throw ModelError("bert: no tokens to embed") }
        guard n <= c.maxPositionEmbeddings else {
            throw ModelError("bert: \(n) tokens exceed max_position_embeddings \(c.maxPositionEmbeddings); truncate the input")
        }
        guard n <= s.maxTokens else { throw ModelError("bert: \(n) tokens exceed the scratch size \(s.maxTokens)") }
        guard s.threads >= pool.threadCount else { throw ModelError("bert: scratch made for \(s.threads) threads, pool has \(pool.threadCount)") }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw ModelError("bert: token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        let eps = Float(c.layerNormEps)
        let heads = c.numAttentionHeads, hd = c.headDim, scale = 1 / Float(hd).squareRoot()

        // Embeddings: word + position + token type 0, then LayerNorm.
        perToken(n, pool) { i in
            let x = s.x + i * H, t = s.tmp + i * H
            w.wordEmbeddings.row(Int(tokens[i]), into: x)
            w.positionEmbeddings.row(i, into: t)
            Vector.add(x, t, H)
            w.tokenTypeEmbeddings.row(0, into: t)
            Vector.add(x, t, H)
            EncoderOps.layerNorm(x, weight: w.embeddingNorm.weight.values, bias: w.embeddingNorm.bias.values, x, H, eps: eps)
        }

        for (layer, plan) in zip(w.layers, s.plans) {
            // Self-attention: every token sees every token.
            multiply(plan[0], input: s.x, n: n, s, pool)
            perToken(n, pool) { i in
                EncoderOps.addBias(s.q + i * H, layer.query.bias.values, H)
                EncoderOps.addBias(s.k + i * H, layer.key.bias.values, H)
                EncoderOps.addBias(s.v + i * H, layer.value.bias.values, H)
            }
            pool.run { t, threads in
                let scores = s.scores + t * s.maxTokens
                for pair in ThreadPool.chunk(n * heads, part: t, of: threads) {
                    let i = pair / heads, h = pair % heads
                    EncoderOps.attention(q: s.q + i * H + h * hd, k: s.k + h * hd, v: s.v + h * hd, stride: H, headDim: hd,
                                         keys: 0..<n, scale: scale, scores: scores, out: s.att + i * H + h * hd)
                }
            }
            multiply(plan[1], input: s.att, n: n, s, pool)
            perToken(n, pool) { i in residualNorm(s.x + i * H, s.tmp + i * H, layer.attentionOutput.bias, layer.attentionNorm, H, eps) }

            // Feed-forward: dense + GELU, dense, residual, LayerNorm.
            multiply(plan[2], input: s.x, n: n, s, pool)
            perToken(n, pool) { i in EncoderOps.biasGelu(s.inter + i * I, layer.intermediate.bias.values, I) }
            multiply(plan[3], input: s.inter, n: n, s, pool)
            perToken(n, pool) { i in residualNorm(s.x + i * H, s.tmp + i * H, layer.output.bias, layer.outputNorm, H, eps) }
        }
    }

    /// x = LayerNorm(x + y + bias) (BERT's post-norm residual).
    @inline(__always)
    func residualNorm(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ bias: NormWeight,
                      _ norm: LayerNormWeights, _ n: Int, _ eps: Float) {
        EncoderOps.addBias(y, bias.values, n)
        Vector.add(y, x, n)
        EncoderOps.layerNorm(y, weight: norm.weight.values, bias: norm.bias.values, x, n, eps: eps)
    }

    @inline(__always)
    func perToken(_ n: Int, _ pool: ThreadPool, _ body: (Int) -> Void) {
        if n == 1 { body(0); return }
        pool.parallelFor(n) { r in for i in r { body(i) } }
    }

    /// out = W input for each (W, out), n rows of f32 input. Jobs whose weights take the same
    /// activation format run in one dispatch (every thread takes its share of each W's rows).
    func multiply(_ jobs: [MatmulJob], input x: UnsafeMutablePointer<Float>, n: Int, _ s: BertScratch, _ pool: ThreadPool) {
        var i = 0
        while i < jobs.count {
            var j = i + 1
            while j < jobs.count && jobs[j].linear.kernels.activationType == jobs[i].linear.kernels.activationType { j += 1 }
            multiplySameInput(jobs[i..<j], input: x, n: n, s, pool)
            i = j
        }
    }

    /// Float weights read the f32 rows as they are; quantized weights read them quantized once
    /// to their activation format (ggml's vec_dot_type: Q8_0 / Q8_1) in the scratch.
    func multiplySameInput(_ jobs: ArraySlice<MatmulJob>, input x: UnsafeMutablePointer<Float>, n: Int, _ s: BertScratch, _ pool: ThreadPool) {
        let first = jobs.first!.linear
        let k = first.inputs
        var input = UnsafeRawPointer(x)
        var stride = k * 4
        if first.kernels.activationType != .f32 {
            stride = first.kernels.activationBytes(k)
            let xq = s.quantizedInput
            perToken(n, pool) { r in first.kernels.quantizeActivation(x + r * k, xq + r * stride, k) }
            input = UnsafeRawPointer(xq)
        }
        pool.run { t, threads in
            for job in jobs {
                let w = job.linear, y = job.out
                let rows = ThreadPool.chunk(w.outputs, part: t, of: threads, granule: 16)
                if rows.isEmpty { continue }
                if n == 1 {
                    w.kernels.matvec(w.weights, rows, w.inputs, input, y + rows.lowerBound)
                } else {
                    w.kernels.matmul(w.weights, rows, w.inputs, input, stride, n, y, w.outputs)
                }
            }
        }
    }
}
