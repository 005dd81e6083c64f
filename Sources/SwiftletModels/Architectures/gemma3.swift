// Gemma 3 text: GeGLU, pre/post norms, scaled embeddings, QK-norm, 5 sliding : 1 global layers.
import SwiftletFormats

public enum Gemma3Architecture {
    public static func layout(gguf: GGUFFile) throws -> GGUFLayout { GGUFLayout(config: try config(gguf: gguf), names: WeightNames.gguf) }

    /// Defaults follow transformers' Gemma3TextConfig where the GGUF omits a value.
    public static func config(gguf: GGUFFile) throws -> DecoderConfig {
        let hp = try GGUFHyperparameters(gguf)
        let hidden = try hp.int("embedding_length")
        let heads = try hp.int("attention.head_count")
        let headDim = try hp.int("attention.key_length", default: 256)
        let layers = try hp.int("block_count")
        // Every sixth layer attends globally; the others use the sliding window.
        let pattern = try hp.int("attention.sliding_window_pattern", default: 6)
        // query_pre_attn_scalar defaults to head_dim (the 27B model uses hidden / heads).
        let queryScalar = try hp.float("attention.query_pre_attn_scalar", default: Float(headDim))
        var c = DecoderConfig(
            architecture: hp.arch, hiddenSize: hidden, layerCount: layers,
            headCount: heads, kvHeadCount: try hp.int("attention.head_count_kv", default: heads),
            headDim: headDim, valueDim: try hp.int("attention.value_length", default: headDim),
            ffnSize: try hp.int("feed_forward_length"), vocabSize: try hp.vocabSize(),
            contextLength: try hp.int("context_length", default: 131_072),
            normEps: try hp.float("attention.layer_norm_rms_epsilon", default: 1e-6),
            ropeDims: try hp.int("rope.dimension_count", default: headDim),
            ropeBase: try hp.float("rope.freq_base", default: 1_000_000),
            ropeLayout: .halves,
            attentionScale: 1 / queryScalar.squareRoot())
        c.slidingRopeBase = try hp.float("rope.freq_base_swa", default: 10_000)
        c.slidingWindow = try hp.int("attention.sliding_window", default: 512)
        c.slidingLayers = (0..<layers).map { pattern > 0 && ($0 + 1) % pattern != 0 }
        if hp.has("rope.scaling.factor") { c.ropeScale = try hp.float("rope.scaling.factor") }
        c.activation = .geluTanh
        c.qkNorm = true
        c.postNorms = true
        c.embeddingScale = Float(hidden).squareRoot()
        if hp.has("final_logit_softcapping") { c.finalLogitSoftcap = try hp.float("final_logit_softcapping") }
        try c.validate()
        return c
    }
}

/// Gemma 3's text config.json (`gemma3_text`, or the `text_config` of `gemma3`), with
/// transformers' defaults. (HF norm weights are stored as w where the model uses 1 + w; the GGUF
/// converter folds the 1 in, so the checkpoint loader adds it: Registry's normOffset.)
public struct Gemma3TextConfiguration: Decodable, Sendable {
    public var dims = TransformerDimensions(
        vocabSize: 262_208, hiddenSize: 2304, intermediateSize: 9216, numHiddenLayers: 26, numAttentionHeads: 8,
        numKeyValueHeads: 4, headDim: 256, maxPositionEmbeddings: 131_072, rmsNormEps: 1e-6, tieWordEmbeddings: true)
    public var hiddenActivation = "gelu_pytorch_tanh"
    public var queryPreAttnScalar = 256.0
    public var slidingWindow = 4096
    public var layerTypes: [String]?
    public var slidingWindowPattern = 6
    public var finalLogitSoftcapping: Double?
    public var ropeLocalBaseFreq = 10_000.0
    public var rope = RopeParameters()
    public var localRope = RopeParameters()

    enum CodingKeys: String, CodingKey {
        case hiddenActivation = "hidden_activation", queryPreAttnScalar = "query_pre_attn_scalar"
        case slidingWindow = "sliding_window", layerTypes = "layer_types", slidingWindowPattern = "sliding_window_pattern"
        case finalLogitSoftcapping = "final_logit_softcapping", ropeLocalBaseFreq = "rope_local_base_freq"
        case ropeParameters = "rope_parameters", ropeTheta = "rope_theta", ropeScaling = "rope_scaling"
    }

    public init(from decoder: Decoder) throws {
        dims = try TransformerDimensions(from: decoder, defaults: dims)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? hiddenActivation
        queryPreAttnScalar = try c.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar) ?? queryPreAttnScalar
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow) ?? slidingWindow
        layerTypes = try c.decodeIfPresent([String].self, forKey: .layerTypes)
        slidingWindowPattern = try c.decodeIfPresent(Int.self, forKey: .slidingWindowPattern) ?? slidingWindowPattern
        finalLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .finalLogitSoftcapping)
        ropeLocalBaseFreq = try c.decodeIfPresent(Double.self, forKey: .ropeLocalBaseFreq) ?? ropeLocalBaseFreq
        rope = try RopeParameters.read(c, parameters: .ropeParameters, theta: .ropeTheta, scaling: .ropeScaling,
                                       defaultTheta: 1_000_000)
        // Sliding layers: v5 gives them their own rope_parameters entry; before, only a base.
        if let perKind = try? c.decode([String: RopeParameters].self, forKey: .ropeParameters), let local = perKind["sliding_attention"] {
            localRope = local
        }
        if localRope.ropeTheta == nil { localRope.ropeTheta = ropeLocalBaseFreq }
    }

    public func decoderConfig() throws -> DecoderConfig {
        var c = dims.decoderConfig(architecture: "gemma3_text", attentionScale: 1 / Float(queryPreAttnScalar).squareRoot())
        guard hiddenActivation == "gelu_pytorch_tanh" else {
            throw ModelError("gemma3_text: hidden_activation \(hiddenActivation) is not supported (gelu_pytorch_tanh is)")
        }
        try rope.apply(to: &c, maxPositions: dims.maxPositionEmbeddings)
        c.slidingRopeBase = Float(localRope.ropeTheta ?? ropeLocalBaseFreq)
        c.slidingRopeFrequencies = try localRope.frequencies(dims: c.ropeDims, maxPositions: dims.maxPositionEmbeddings,
                                                             architecture: c.architecture)
        c.slidingWindow = slidingWindow
        let layers = c.layerCount
        let types = layerTypes ?? (0..<layers).map { ($0 + 1) % slidingWindowPattern != 0 ? "sliding_attention" : "full_attention" }
        guard types.count == layers else {
            throw ModelError("gemma3_text: layer_types has \(types.count) entries for \(layers) layers")
        }
        c.slidingLayers = types.map { $0 == "sliding_attention" }
        c.activation = .geluTanh
        c.qkNorm = true
        c.postNorms = true
        c.embeddingScale = Float(c.hiddenSize).squareRoot()
        c.finalLogitSoftcap = finalLogitSoftcapping.map(Float.init)
        try c.validate()
        return c
    }
}
