// Hyperparameters of a decoder-only transformer, shared by every architecture file.
import SwiftletKernels

/// The MLP's gating activation.
public enum GatedActivation: String, Sendable {
    case silu      // SwiGLU (Llama, Mistral, Qwen, Phi)
    case geluTanh  // GeGLU with the tanh approximation (Gemma)
}

/// Everything the shared decoder forward pass needs to know about a model's shape and variants.
/// Architecture files fill it from GGUF metadata (or, later, config.json), then call `validate()`.
public struct DecoderConfig: Sendable {
    public var architecture: String
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var valueDim: Int
    public var ffnSize: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var normEps: Float
    public var ropeDims: Int
    public var ropeBase: Float
    public var ropeLayout: Rope.Layout
    public var ropeScale: Float = 1
    /// Explicit inverse frequencies (Hugging Face checkpoints, scaled ropes); nil: ggml's base/scale.
    public var ropeFrequencies: RopeFrequencies? = nil
    /// The same for sliding-window layers when they have their own rope (Gemma 3).
    public var slidingRopeFrequencies: RopeFrequencies? = nil
    /// Layers that apply no rotary embedding at all (SmolLM3's NoPE layers); empty: every layer does.
    public var noRopeLayers: [Bool] = []
    /// Rope base for sliding-window layers when it differs (Gemma 3's local base).
    public var slidingRopeBase: Float? = nil
    /// Attention window of sliding layers (a key is visible if query - key < window).
    public var slidingWindow: Int? = nil
    /// Which layers use the sliding window (empty: none).
    public var slidingLayers: [Bool] = []
    public var activation: GatedActivation = .silu
    /// Per-head RMSNorm of queries and keys before RoPE (Gemma 3, Qwen 3).
    public var qkNorm = false
    /// Extra RMSNorms on the attention and MLP outputs before the residual add (Gemma 2/3).
    public var postNorms = false
    /// Input embeddings are multiplied by this (Gemma: sqrt(hidden)).
    public var embeddingScale: Float? = nil
    /// Scale applied to q.k (default 1/sqrt(headDim)).
    public var attentionScale: Float
    /// Final logits are soft-capped to this when set.
    public var finalLogitSoftcap: Float? = nil
    public var tiedEmbeddings = false
    /// Projections that carry a bias vector (Qwen 2's q/k/v; Llama's attention_bias/mlp_bias).
    public var biases: Set<TensorRole> = []
    /// Sparse mixture of experts (Mixtral): experts per layer and how many each token uses; 0: dense MLP.
    public var expertCount = 0
    public var expertsPerToken = 0
    /// How keys and values are stored: f16 like llama.cpp, or f32 for full-precision checkpoints.
    public var cacheType: KVCacheType = .f16

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }
    public var vDim: Int { kvHeadCount * valueDim }

    public func isSliding(_ layer: Int) -> Bool { slidingWindow != nil && layer < slidingLayers.count && slidingLayers[layer] }
    public func usesRope(_ layer: Int) -> Bool { layer >= noRopeLayers.count || !noRopeLayers[layer] }
    public var isMoE: Bool { expertCount > 0 }

    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw ModelError("\(architecture): invalid configuration: \(what)") }
        }
        try check(hiddenSize > 0 && hiddenSize <= 1 << 16, "hidden size \(hiddenSize)")
        try check(layerCount > 0 && layerCount <= 1024, "layer count \(layerCount)")
        try check(headCount > 0 && kvHeadCount > 0 && headCount % kvHeadCount == 0,
                  "\(headCount) heads cannot share \(kvHeadCount) key/value heads")
        try check(headDim > 0 && headDim <= 1024 && valueDim > 0 && valueDim <= 1024, "head size \(headDim)")
        try check(ropeDims > 0 && ropeDims <= headDim && ropeDims % 2 == 0, "rope dimensions \(ropeDims)")
        try check(ffnSize > 0, "feed-forward size \(ffnSize)")
        try check(vocabSize > 0, "vocabulary size \(vocabSize)")
        try check(contextLength > 0, "context length \(contextLength)")
        try check(normEps > 0 && normEps < 1, "norm epsilon \(normEps)")
        if let w = slidingWindow { try check(w > 0, "sliding window \(w)") }
        try check(expertCount == 0 || (expertsPerToken > 0 && expertsPerToken <= expertCount && expertCount <= 1024),
                  "\(expertsPerToken) experts per token out of \(expertCount)")
    }
}

/// Element type of the key/value cache.
public enum KVCacheType: String, Sendable {
    case f16, f32
    public var bytes: Int { self == .f16 ? 2 : 4 }
}

/// A model that cannot be built or run; the message says what and why.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
