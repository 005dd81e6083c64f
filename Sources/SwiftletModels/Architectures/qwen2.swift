// Qwen 2 / 2.5: the Llama layout with biases on the q, k and v projections.
import SwiftletFormats

/// Qwen 2 GGUFs: the Llama keys, halves rope, q/k/v biases.
public enum Qwen2Architecture {
    public static func layout(gguf: GGUFFile) throws -> GGUFLayout {
        var c = try LlamaArchitecture.config(gguf: gguf, layout: .halves)
        c.biases.formUnion([.attnQ, .attnK, .attnV])
        try c.validate()
        return GGUFLayout(config: c, names: WeightNames.gguf)
    }
}

/// Qwen 2's config.json, with transformers' defaults.
public struct Qwen2Configuration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 151_936, hiddenSize: 4096, intermediateSize: 22016, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: 32, headDim: nil, maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, tieWordEmbeddings: false)
    public var options: DecoderOptions

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 10000)
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "qwen2")
        c.biases.formUnion([.attnQ, .attnK, .attnV])
        try options.qwenSlidingLayers(&c)
        try c.validate()
        return c
    }
}
