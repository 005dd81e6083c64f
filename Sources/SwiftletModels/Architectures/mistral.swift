// Mistral: the Llama layout with sliding-window attention on every layer.

/// Mistral's config.json, with transformers' defaults (a 4096-token window unless the config
/// sets `sliding_window`, null meaning none).
public struct MistralConfiguration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 32000, hiddenSize: 4096, intermediateSize: 14336, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: 8, headDim: nil, maxPositionEmbeddings: 4096 * 32, rmsNormEps: 1e-6, tieWordEmbeddings: false)
    public var options: DecoderOptions

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 10000)
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "mistral")
        try c.setSlidingWindow(options.hasSlidingWindowKey ? options.slidingWindow : 4096, layerTypes: nil)
        try c.validate()
        return c
    }
}
