// SmolLM3: the Llama layout where every fourth layer (by default) uses no rotary embedding (NoPE).

/// SmolLM3's config.json, with transformers' defaults.
public struct SmolLM3Configuration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 128_256, hiddenSize: 2048, intermediateSize: 11008, numHiddenLayers: 36, numAttentionHeads: 16,
        numKeyValueHeads: 4, headDim: nil, maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, tieWordEmbeddings: true)
    public var options: DecoderOptions
    /// Per layer: 1 uses rope, 0 does not. Absent: layers (i + 1) % interval == 0 do not.
    public var noRopeLayers: [Int]?
    public var noRopeLayerInterval = 4

    enum CodingKeys: String, CodingKey {
        case noRopeLayers = "no_rope_layers", noRopeLayerInterval = "no_rope_layer_interval"
    }

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        options = try DecoderOptions(from: decoder, defaultTheta: 2_000_000)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        noRopeLayers = try c.decodeIfPresent([Int].self, forKey: .noRopeLayers)
        noRopeLayerInterval = try c.decodeIfPresent(Int.self, forKey: .noRopeLayerInterval) ?? noRopeLayerInterval
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = try options.decoderConfig(dims, architecture: "smollm3")
        guard noRopeLayerInterval > 0 else { throw ModelError("smollm3: no_rope_layer_interval must be positive") }
        let usesRope = noRopeLayers ?? (0..<c.layerCount).map { ($0 + 1) % noRopeLayerInterval != 0 ? 1 : 0 }
        guard usesRope.count == c.layerCount else {
            throw ModelError("smollm3: no_rope_layers has \(usesRope.count) entries for \(c.layerCount) layers")
        }
        c.noRopeLayers = usesRope.map { $0 == 0 }
        // The window applies (with use_sliding_window) to the NoPE layers unless layer_types says otherwise.
        if options.useSlidingWindow == true, let window = options.slidingWindow {
            try c.setSlidingWindow(window, layerTypes: options.layerTypes
                ?? usesRope.map { $0 == 0 ? "sliding_attention" : "full_attention" })
        }
        try c.validate()
        return c
    }
}
