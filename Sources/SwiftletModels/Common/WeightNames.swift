// Weight names are data: one table from tensor roles to their names in each checkpoint format.
import Foundation

/// What a tensor is for in a decoder-only transformer.
public enum TensorRole: String, CaseIterable, Sendable {
    case tokenEmbedding, outputNorm, output
    case attnNorm, attnQ, attnK, attnV, attnOutput, attnQNorm, attnKNorm, postAttnNorm
    case ffnNorm, ffnGate, ffnUp, ffnDown, postFfnNorm
    /// Fused projections some families store as one tensor (Phi-3): q|k|v rows, gate|up rows.
    case attnQKV, ffnGateUp
    /// Mixture of experts: the router, and each expert's projections (`%e` is the expert index).
    case ffnRouter, expertGate, expertUp, expertDown

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

    /// GGUF names of Phi-3: fused attn_qkv, and ffn_up holding gate|up.
    public static let ggufPhi3: [TensorRole: String] = gguf.filter { ![.attnQ, .attnK, .attnV, .ffnGate, .ffnUp].contains($0.key) }
        .merging([.attnQKV: "blk.%d.attn_qkv.weight", .ffnGateUp: "blk.%d.ffn_up.weight"]) { _, new in new }

    /// GGUF names of mixture-of-experts Llamas (Mixtral): each expert projection is one stacked
    /// 3-D tensor (no `%e`: expert e is the e-th block of rows).
    public static let ggufMoE: [TensorRole: String] = gguf.filter { ![.ffnGate, .ffnUp, .ffnDown].contains($0.key) }
        .merging([.ffnRouter: "blk.%d.ffn_gate_inp.weight", .expertGate: "blk.%d.ffn_gate_exps.weight",
                  .expertUp: "blk.%d.ffn_up_exps.weight", .expertDown: "blk.%d.ffn_down_exps.weight"]) { _, new in new }

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

    /// Prefix renames of the sanitize step (SanitizedTensorSource): multimodal wrappers (Gemma 3)
    /// keep the text model under language_model (transformers 4) or model.language_model (5).
    public static let huggingFaceRenames: [(from: String, to: String)] = [
        ("language_model.model.", "model."), ("language_model.lm_head.", "lm_head."), ("model.language_model.", "model."),
    ]

    /// Parts of multimodal checkpoints the text model does not use.
    public static let huggingFaceIgnoredPrefixes = [
        "vision_tower.", "multi_modal_projector.", "model.vision_tower.", "model.multi_modal_projector.",
    ]

    /// GGUF tensors that carry nothing the forward pass needs (precomputed tables).
    public static let ggufIgnored: Set<String> = ["rope_freqs.weight"]

    /// Hugging Face names of Phi-3 checkpoints (Phi-3, Phi-4): fused q|k|v and gate|up projections.
    public static let huggingFacePhi3: [TensorRole: String] = huggingFaceLlama.filter {
        ![.attnQ, .attnK, .attnV, .ffnGate, .ffnUp].contains($0.key)
    }.merging([
        .attnQKV: "model.layers.%d.self_attn.qkv_proj.weight",
        .ffnGateUp: "model.layers.%d.mlp.gate_up_proj.weight",
    ]) { _, new in new }

    /// Hugging Face names of Mixtral checkpoints: a router and experts w1 (gate), w3 (up), w2 (down).
    public static let huggingFaceMixtral: [TensorRole: String] = huggingFaceLlama.filter {
        ![.ffnGate, .ffnUp, .ffnDown].contains($0.key)
    }.merging([
        .ffnRouter: "model.layers.%d.block_sparse_moe.gate.weight",
        .expertGate: "model.layers.%d.block_sparse_moe.experts.%e.w1.weight",
        .expertUp: "model.layers.%d.block_sparse_moe.experts.%e.w3.weight",
        .expertDown: "model.layers.%d.block_sparse_moe.experts.%e.w2.weight",
    ]) { _, new in new }

    public static func name(_ table: [TensorRole: String], _ role: TensorRole, layer: Int? = nil, expert: Int? = nil) -> String {
        var name = table[role]!
        if let layer { name = name.replacingOccurrences(of: "%d", with: String(layer)) }
        if let expert { name = name.replacingOccurrences(of: "%e", with: String(expert)) }
        return name
    }

    /// What every per-layer name of `table` starts with, `%d` standing for the layer index
    /// (`blk.%d.`, `model.layers.%d.`): the per-layer names up to the dot after their index.
    public static func layerPrefix(_ table: [TensorRole: String]) -> String {
        let prefixes = Set(table.filter { $0.key.perLayer }.values.map { name -> String in
            guard let index = name.range(of: "%d.") else { preconditionFailure("per-layer name \(name) has no %d.") }
            return String(name[..<index.upperBound])
        })
        precondition(prefixes.count == 1, "a name table's per-layer names must share one prefix, not \(prefixes.sorted())")
        return prefixes.first!
    }

    /// The layer a tensor belongs to under `table`'s naming (its layer prefix with a decimal index,
    /// `blk.3.` -> 3), or nil for tensors outside the layers (embedding, final norm, output, tables).
    public static func layer(of name: String, in table: [TensorRole: String]) -> Int? {
        let prefix = layerPrefix(table)
        let parts = prefix.components(separatedBy: "%d")
        guard name.hasPrefix(parts[0]) else { return nil }
        let rest = name.dropFirst(parts[0].count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(parts[1]) else { return nil }
        return Int(digits)
    }

    /// Every name table, GGUF's first.
    public static let tables: [[TensorRole: String]] = [gguf, ggufPhi3, ggufMoE, huggingFaceLlama, huggingFaceGemma3,
                                                        huggingFacePhi3, huggingFaceMixtral]

    /// The role and layer of a per-layer tensor under the first table that names it (`blk.3.attn_q.weight`
    /// -> (attnQ, 3)), or nil for tensors outside the layers or in no table. Where tables give one name
    /// two roles (GGUF's ffn_up is Phi-3's gate|up) the first table's role is returned.
    public static func locate(_ name: String) -> (role: TensorRole, layer: Int)? {
        for table in tables {
            guard let layer = layer(of: name, in: table) else { continue }
            for role in table.keys where role.perLayer {
                let parts = self.name(table, role, layer: layer).components(separatedBy: "%e")
                if parts.count == 1 ? name == parts[0] : matchesExpert(name, parts[0], parts[1]) { return (role, layer) }
            }
        }
        return nil
    }

    /// Whether `name` is prefix, a decimal expert index, then suffix.
    static func matchesExpert(_ name: String, _ prefix: String, _ suffix: String) -> Bool {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return false }
        return name.dropFirst(prefix.count).dropLast(suffix.count).allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The bias tensor that goes with a weight tensor (`x.weight` -> `x.bias`, in both conventions).
    public static func biasName(of weight: String) -> String {
        weight.hasSuffix(".weight") ? String(weight.dropLast(".weight".count)) + ".bias" : weight + ".bias"
    }
}
