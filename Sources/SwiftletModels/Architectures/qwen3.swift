// Qwen 3: the Llama layout with per-head RMSNorm of queries and keys (no biases by default).
import SwiftletFormats

/// Qwen 3 GGUFs: the Llama keys, halves rope, q/k norms.
public enum Qwen3Architecture {
    public static func layout(gguf: GGUFFile) throws -> GGUFLayout {
        var c = try LlamaArchitecture.config(gguf: gguf, layout: .halves)
        c.qkNorm = true
        try c.validate()
        return GGUFLayout(config: c, names: WeightNames.gguf)
    }
}

/// Qwen 3's config.json, with transformers' defaults.
public struct Qwen3Configuration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 151_936, hiddenSize: 4096, intermediateSize: 22016, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: 32, headDim: 128, maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, tieWordEmbeddings: false)
    public var options: DecoderOptions

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 10000)
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "qwen3")
        c.qkNorm = true
        try options.qwenSlidingLayers(&c)
        try c.validate()
        return c
    }
}
