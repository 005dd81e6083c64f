// The built-in filter maps, each spelled for the three naming schemes Swiftlet loads: GGUF
// (`blk.N.attn_q.weight`), Hugging Face decoders (`model.layers.N.self_attn.q_proj.weight`) and BERT
// (`encoder.layer.N.attention.self.query.weight`).

extension FilterMap {
    /// Never touched by a built-in map: embeddings, the output head, norms, MoE routers, poolers.
    static let untouched = [
        "token_embd.weight", "token_types.weight", "position_embd.weight", "*embed_tokens.weight", "*embeddings.*",
        "output.weight", "*lm_head.weight",
        "*norm*", "*Norm*",
        "blk.*.ffn_gate_inp*", "*.mlp.gate.weight", "*.block_sparse_moe.gate.weight", "*shared_expert_gate*",
        "*pooler*",
    ]

    static let builtIns: [(name: String, map: FilterMap)] = [
        // Every attention and MLP projection.
        ("projections", try! FilterMap(allow: [
            "blk.*.attn_{q,k,v,qkv,output}.weight",
            "blk.*.ffn_{gate,up,down}{,_exps,_shexp}.weight",
            "*.self_attn.{q,k,v,o,qkv}_proj.weight",
            "*.mlp.{gate,up,down,gate_up}_proj.weight",
            "*.mlp.{experts.*,shared_expert}.{gate,up,down}_proj.weight",
            "*.block_sparse_moe.experts.*.w{1,2,3}.weight",
            "*encoder.layer.*.attention.self.{query,key,value}.weight",
            "*encoder.layer.*.{attention.output,intermediate,output}.dense.weight",
        ], deny: untouched)),
        // The seed's pruning map: Q/K/V and MLP up/down (Mixtral: w3 up, w2 down), not the attention
        // output projection (nor the gate).
        ("gemma3", try! FilterMap(allow: [
            "blk.*.attn_{q,k,v,qkv}.weight",
            "blk.*.ffn_{up,down}{,_exps,_shexp}.weight",
            "*.self_attn.{q,k,v,qkv}_proj.weight",
            "*.mlp.{,experts.*.,shared_expert.}{up,down}_proj.weight",
            "*.block_sparse_moe.experts.*.w{2,3}.weight",
            "*encoder.layer.*.attention.self.{query,key,value}.weight",
            "*encoder.layer.*.{intermediate,output}.dense.weight",
        ], deny: untouched + ["blk.*.attn_output.weight", "*.self_attn.o_proj.weight", "*.attention.output.dense.weight"])),
    ]
}
