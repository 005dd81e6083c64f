// Weight names are data: one table from tensor roles to their names in each checkpoint format.
import Foundation

/// What a tensor is for in a decoder-only transformer.
public enum TensorRole: String, CaseIterable, Sendable {
    case tokenEmbedding, outputNorm, output
    case attnNorm, attnQ, attnK, attnV, attnOutput, attnQNorm, attnKNorm, postAttnNorm
    case ffnNorm, ffnGate, ffnUp, ffnDown, postFfnNorm

    public var perLayer: Bool {
        switch self {
        case .tokenEmbedding, .outputNorm, .output: return false
        default: return true
        }
    }
}

public enum WeightNames {
    /// GGUF tensor names (llama.cpp's convention); `%d` is the layer index.
    public static let gguf: [TensorRole: String] = [
        .tokenEmbedding: "token_embd.weight",
        .outputNorm: "output_norm.weight",
        .output: "output.weight",
        .attnNorm: "blk.%d.attn_norm.weight",
        .attnQ: "blk.%d.attn_q.weight",
        .attnK: "blk.%d.attn_k.weight",
        .attnV: "blk.%d.attn_v.weight",
        .attnOutput: "blk.%d.attn_output.weight",
        .attnQNorm: "blk.%d.attn_q_norm.weight",
        .attnKNorm: "blk.%d.attn_k_norm.weight",
        .postAttnNorm: "blk.%d.post_attention_norm.weight",
        .ffnNorm: "blk.%d.ffn_norm.weight",
        .ffnGate: "blk.%d.ffn_gate.weight",
        .ffnUp: "blk.%d.ffn_up.weight",
        .ffnDown: "blk.%d.ffn_down.weight",
        .postFfnNorm: "blk.%d.post_ffw_norm.weight",
    ]

    /// Hugging Face names of Llama-family checkpoints (Llama, Mistral, SmolLM2, Qwen-style
    /// layouts). Their RMSNorm before the MLP is called post_attention_layernorm.
    public static let huggingFaceLlama: [TensorRole: String] = [
        .tokenEmbedding: "model.embed_tokens.weight",
        .outputNorm: "model.norm.weight",
        .output: "lm_head.weight",
        .attnNorm: "model.layers.%d.input_layernorm.weight",
        .attnQ: "model.layers.%d.self_attn.q_proj.weight",
        .attnK: "model.layers.%d.self_attn.k_proj.weight",
        .attnV: "model.layers.%d.self_attn.v_proj.weight",
        .attnOutput: "model.layers.%d.self_attn.o_proj.weight",
        .attnQNorm: "model.layers.%d.self_attn.q_norm.weight",
        .attnKNorm: "model.layers.%d.self_attn.k_norm.weight",
        .ffnNorm: "model.layers.%d.post_attention_layernorm.weight",
        .ffnGate: "model.layers.%d.mlp.gate_proj.weight",
        .ffnUp: "model.layers.%d.mlp.up_proj.weight",
        .ffnDown: "model.layers.%d.mlp.down_proj.weight",
    ]

    /// Hugging Face names of Gemma 3 text checkpoints: norms before and after both blocks.
    public static let huggingFaceGemma3: [TensorRole: String] = huggingFaceLlama.merging([
        .postAttnNorm: "model.layers.%d.post_attention_layernorm.weight",
        .ffnNorm: "model.layers.%d.pre_feedforward_layernorm.weight",
        .postFfnNorm: "model.layers.%d.post_feedforward_layernorm.weight",
    ]) { _, new in new }

    /// Hugging Face tensors that carry nothing the forward pass needs (old checkpoints store rope tables).
    public static func huggingFaceIgnored(layers: Int) -> Set<String> {
        Set((0..<layers).map { "model.layers.\($0).self_attn.rotary_emb.inv_freq" })
    }

    /// GGUF tensors that carry nothing the forward pass needs (precomputed tables).
    public static let ggufIgnored: Set<String> = ["rope_freqs.weight"]

    public static func name(_ table: [TensorRole: String], _ role: TensorRole, layer: Int? = nil) -> String {
        let pattern = table[role]!
        guard let layer else { return pattern }
        return pattern.replacingOccurrences(of: "%d", with: String(layer))
    }
}
