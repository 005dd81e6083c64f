// Gemma 3 text: GeGLU, pre/post norms, scaled embeddings, QK-norm, 5 sliding : 1 global layers.
import SwiftletFormats

public enum Gemma3Architecture {
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
        c.tiedEmbeddings = gguf.tensorsByName["output.weight"] == nil
        try c.validate()
        return c
    }
}
