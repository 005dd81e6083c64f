// The config.json fields every decoder family shares, read once for all families.

/// Sizes and flags that every family's config.json spells the same way, with the family's
/// transformers defaults for absent keys. Family configurations hold one and add their own keys.
public struct TransformerDimensions: Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Absent: as many as the attention heads.
    public var numKeyValueHeads: Int?
    /// Absent: hidden size / attention heads.
    public var headDim: Int?
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var tieWordEmbeddings: Bool

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int?, headDim: Int?, maxPositionEmbeddings: Int, rmsNormEps: Double, tieWordEmbeddings: Bool) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
    }

    /// Reads the shared keys from a config.json, keeping `defaults` for the absent ones.
    public init(from decoder: Decoder, defaults d: TransformerDimensions) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? d.numKeyValueHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? d.headDim
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? d.rmsNormEps
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
    }

    /// The decoder configuration these sizes describe, rotating halves (HF checkpoints keep Q/K
    /// rows unpermuted); the family sets the rest.
    public func decoderConfig(architecture: String, attentionScale: Float? = nil) -> DecoderConfig {
        let hd = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        var c = DecoderConfig(
            architecture: architecture, hiddenSize: hiddenSize, layerCount: numHiddenLayers,
            headCount: numAttentionHeads, kvHeadCount: numKeyValueHeads ?? numAttentionHeads,
            headDim: hd, valueDim: hd, ffnSize: intermediateSize, vocabSize: vocabSize,
            contextLength: maxPositionEmbeddings, normEps: Float(rmsNormEps), ropeDims: hd,
            ropeBase: 10000, ropeLayout: .halves, attentionScale: attentionScale ?? 1 / Float(hd).squareRoot())
        c.tiedEmbeddings = tieWordEmbeddings
        return c
    }
}

extension DecoderConfig {
    /// Sliding-window attention from config.json: `window` on the layers `layerTypes` marks
    /// "sliding_attention", or on every layer when there is no list. nil: no window anywhere.
    mutating func setSlidingWindow(_ window: Int?, layerTypes: [String]?) throws {
        guard let window else { return }
        let types = layerTypes ?? Array(repeating: "sliding_attention", count: layerCount)
        guard types.count == layerCount else {
            throw ModelError("\(architecture): layer_types has \(types.count) entries for \(layerCount) layers")
        }
        if let bad = types.first(where: { $0 != "sliding_attention" && $0 != "full_attention" }) {
            throw ModelError("\(architecture): layer type \(bad) is not supported (sliding_attention, full_attention are)")
        }
        slidingWindow = window
        slidingLayers = types.map { $0 == "sliding_attention" }
    }
}
