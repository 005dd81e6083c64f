// Phi-3 / Phi-4: the Llama layout with fused q|k|v and gate|up projections, partial rotary
// embeddings and longrope scaling (the fused tensors are split at load, see WeightNames).
import SwiftletFormats

/// Phi-3 GGUFs: the Llama keys, halves rope over rope.dimension_count dims, fused attn_qkv and
/// ffn_up (gate|up) tensors.
public enum Phi3Architecture {
    public static func layout(gguf: GGUFFile) throws -> GGUFLayout {
        if gguf.tensorsByName["rope_factors_long.weight"] != nil {
            throw ModelError("\(gguf.path): Phi-3 longrope factors in GGUF are not supported yet (checkpoint folders are)")
        }
        let c = try LlamaArchitecture.config(gguf: gguf, layout: .halves)
        return GGUFLayout(config: c, names: WeightNames.ggufPhi3)
    }
}

/// Phi-3's config.json, with transformers' defaults.
public struct Phi3Configuration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 32064, hiddenSize: 3072, intermediateSize: 8192, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: nil, headDim: nil, maxPositionEmbeddings: 4096, rmsNormEps: 1e-5, tieWordEmbeddings: false)
    public var options: DecoderOptions

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 10000)
        // transformers: original_max_position_embeddings defaults to 4096 for Phi-3.
        if options.rope.originalMaxPositionEmbeddings == nil { options.rope.originalMaxPositionEmbeddings = 4096 }
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "phi3")
        try c.setSlidingWindow(options.slidingWindow, layerTypes: nil)
        try c.validate()
        return c
    }
}
