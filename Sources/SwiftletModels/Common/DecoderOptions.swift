// The config.json keys most decoder families share beyond their sizes: activation, biases,
// sliding-window switches, layer types and rope, read once for all of them.

/// Options shared by the Llama-like families (Llama, Mistral, Qwen 2/3, Phi-3, Mixtral, SmolLM3),
/// with transformers' defaults. A family reads these plus its own keys.
public struct DecoderOptions: Sendable {
    public var hiddenAct = "silu"
    public var attentionBias = false
    public var mlpBias = false
    /// `sliding_window` as given (nil when absent or null); `hasSlidingWindowKey` tells which.
    public var slidingWindow: Int?
    public var hasSlidingWindowKey = false
    public var useSlidingWindow: Bool?
    public var maxWindowLayers: Int?
    public var layerTypes: [String]?
    public var originalMaxPositionEmbeddings: Int?
    public var partialRotaryFactor: Double?
    public var rope = RopeParameters()

    enum CodingKeys: String, CodingKey {
        case hiddenAct = "hidden_act", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case slidingWindow = "sliding_window", useSlidingWindow = "use_sliding_window", maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types", originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case partialRotaryFactor = "partial_rotary_factor"
        case ropeParameters = "rope_parameters", ropeTheta = "rope_theta", ropeScaling = "rope_scaling"
    }

    public init(from decoder: Decoder, defaultTheta: Double) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? attentionBias
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? mlpBias
        hasSlidingWindowKey = c.contains(.slidingWindow)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow)
        maxWindowLayers = try c.decodeIfPresent(Int.self, forKey: .maxWindowLayers)
        layerTypes = try c.decodeIfPresent([String].self, forKey: .layerTypes)
        originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        rope = try RopeParameters.read(c, parameters: .ropeParameters, theta: .ropeTheta, scaling: .ropeScaling, defaultTheta: defaultTheta)
        // Older configs keep these two next to rope_scaling instead of inside it.
        if rope.originalMaxPositionEmbeddings == nil { rope.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings }
        if rope.partialRotaryFactor == nil { rope.partialRotaryFactor = partialRotaryFactor }
    }

    /// The decoder configuration of `dims` with these options: the activation checked, biases
    /// (attention_bias on q/k/v/o, mlp_bias on the MLP) and the rope set. Sliding windows are
    /// the family's to set (each family reads the switches differently).
    public func decoderConfig(_ dims: TransformerDimensions, architecture: String) throws -> DecoderConfig {
        var c = dims.decoderConfig(architecture: architecture)
        guard hiddenAct == "silu" else { throw ModelError("\(architecture): hidden_act \(hiddenAct) is not supported (silu is)") }
        if attentionBias { c.biases.formUnion([.attnQ, .attnK, .attnV, .attnOutput]) }
        if mlpBias { c.biases.formUnion([.ffnGate, .ffnUp, .ffnDown]) }
        try rope.apply(to: &c, maxPositions: dims.maxPositionEmbeddings)
        return c
    }

    /// Qwen's switches: the window applies only with use_sliding_window, on the layers
    /// layer_types marks, by default those from max_window_layers on.
    func qwenSlidingLayers(_ c: inout DecoderConfig) throws {
        guard useSlidingWindow == true, let window = slidingWindow else { return }
        let from = maxWindowLayers ?? 28
        try c.setSlidingWindow(window, layerTypes: layerTypes ?? (0..<c.layerCount).map { $0 >= from ? "sliding_attention" : "full_attention" })
    }
}
