// Mixtral: the Mistral layout with a sparse mixture of experts in place of the MLP (a router
// picks the top k experts per token; their outputs are summed with renormalized weights).

/// Mixtral's config.json, with transformers' defaults.
public struct MixtralConfiguration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 32000, hiddenSize: 4096, intermediateSize: 14336, numHiddenLayers: 32, numAttentionHeads: 32,
        numKeyValueHeads: 8, headDim: nil, maxPositionEmbeddings: 4096 * 32, rmsNormEps: 1e-5, tieWordEmbeddings: false)
    public var options: DecoderOptions
    public var numLocalExperts = 8
    public var numExpertsPerTok = 2

    enum CodingKeys: String, CodingKey {
        case numLocalExperts = "num_local_experts", numExpertsPerTok = "num_experts_per_tok"
    }

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 1_000_000)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numLocalExperts = try c.decodeIfPresent(Int.self, forKey: .numLocalExperts) ?? numLocalExperts
        numExpertsPerTok = try c.decodeIfPresent(Int.self, forKey: .numExpertsPerTok) ?? numExpertsPerTok
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "mixtral")
        c.expertCount = numLocalExperts
        c.expertsPerToken = numExpertsPerTok
        try c.setSlidingWindow(options.slidingWindow, layerTypes: nil)
        try c.validate()
        return c
    }
}
