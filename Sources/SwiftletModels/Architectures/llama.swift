// Llama family (Llama 2/3, SmolLM2, Mistral-style GGUFs): RMSNorm, RoPE, grouped-query attention, SwiGLU.
import SwiftletFormats
import SwiftletKernels

public enum LlamaArchitecture {
    /// Llama GGUFs, also Mistral's and Mixtral's (`expert_count` experts in stacked tensors).
    public static func layout(gguf: GGUFFile) throws -> GGUFLayout {
        var c = try config(gguf: gguf, layout: .interleaved)
        let hp = try GGUFHyperparameters(gguf)
        if hp.has("expert_count") {
            c.expertCount = try hp.int("expert_count")
            c.expertsPerToken = try hp.int("expert_used_count")
            try c.validate()
            return GGUFLayout(config: c, names: WeightNames.ggufMoE)
        }
        return GGUFLayout(config: c, names: WeightNames.gguf)
    }

    /// The hyperparameters every Llama-like GGUF spells the same way (`<arch>.block_count`, ...).
    /// - layout: llama.cpp's converter permutes Llama's Q/K rows for adjacent-pair rotation;
    ///   Qwen and Phi GGUFs keep the halves layout.
    public static func config(gguf: GGUFFile, layout: Rope.Layout) throws -> DecoderConfig {
        let hp = try GGUFHyperparameters(gguf)
        let hidden = try hp.int("embedding_length")
        let heads = try hp.int("attention.head_count")
        let headDim = try hp.int("attention.key_length", default: hidden / max(heads, 1))
        var c = DecoderConfig(
            architecture: hp.arch, hiddenSize: hidden, layerCount: try hp.int("block_count"),
            headCount: heads, kvHeadCount: try hp.int("attention.head_count_kv", default: heads),
            headDim: headDim, valueDim: try hp.int("attention.value_length", default: headDim),
            ffnSize: try hp.int("feed_forward_length"), vocabSize: try hp.vocabSize(),
            contextLength: try hp.int("context_length", default: 2048),
            normEps: try hp.float("attention.layer_norm_rms_epsilon", default: 1e-5),
            ropeDims: try hp.int("rope.dimension_count", default: headDim),
            ropeBase: try hp.float("rope.freq_base", default: 10000),
            ropeLayout: layout,
            attentionScale: 1 / Float(headDim).squareRoot())
        if hp.has("rope.scaling.type") || hp.has("rope.scale_linear") {
            let type = gguf["\(hp.arch).rope.scaling.type"]?.string ?? "linear"
            guard type == "linear" || type == "none" else {
                throw ModelError("\(gguf.path): rope scaling \(type) is not supported yet (linear only)")
            }
            if type == "linear" {
                c.ropeScale = try hp.float("rope.scaling.factor", default: try hp.float("rope.scale_linear", default: 1))
            }
        }
        if hp.has("attention.sliding_window") {
            c.slidingWindow = try hp.int("attention.sliding_window")
            c.slidingLayers = Array(repeating: true, count: c.layerCount)
        }
        try c.validate()
        return c
    }
}

/// Llama's config.json, with transformers' defaults.
public struct LlamaConfiguration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: nil, headDim: nil, maxPositionEmbeddings: 2048, rmsNormEps: 1e-6, tieWordEmbeddings: false)
    public var options: DecoderOptions

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 10000)
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "llama")
        try c.setSlidingWindow(options.slidingWindow, layerTypes: nil)
        try c.validate()
        return c
    }
}
