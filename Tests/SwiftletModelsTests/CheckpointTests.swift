// A Llama checkpoint folder (config.json + safetensors, Hugging Face names and layout) computes the
// same logits as the same weights in GGUF form (llama.cpp names, Q/K rows permuted for its rope).
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletTestSupport

private struct TinyLlama {
    let hidden = 16, heads = 4, kvHeads = 2, ffn = 24, vocab = 20, layers = 2
    var headDim: Int { hidden / heads }
    var rng = SplitMix64(seed: 11)

    mutating func values(_ n: Int, scale: Float = 0.4) -> [Float] {
        (0..<n).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) - 0.5) * 2 * scale }
    }

    /// HF rows (n_head, 2, hd/2) -> llama.cpp rows (n_head, hd/2, 2), as its converter permutes q/k.
    func permute(_ w: [Float], heads n: Int, cols: Int) -> [Float] {
        var out = w
        let hd = headDim
        for h in 0..<n { for i in 0..<hd / 2 { for c in 0..<2 {
            let src = h * hd + c * (hd / 2) + i, dst = h * hd + 2 * i + c
            for k in 0..<cols { out[dst * cols + k] = w[src * cols + k] }
        } } }
        return out
    }
}

/// Both models give the same logits (within float rounding) at every position of a short prompt.
private func expectSameLogits(_ m1: DecoderModel, _ m2: DecoderModel, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let pool = ThreadPool(threads: 2)
    func logits(_ m: DecoderModel) throws -> [[Float]] {
        let tokens: [Int32] = [3, 7, 1, 19, 4, 4, 0]
        let cache = m.makeCache(capacity: 16)
        let scratch = m.makeScratch(maxBatch: 8, contextCapacity: 16, threads: 2, logitRows: 8)
        var rows: [[Float]] = []
        try tokens.withUnsafeBufferPointer { b in
            try m.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .all) { _, r in rows.append(Array(r)) }
        }
        return rows
    }
    let a = try logits(m1), b = try logits(m2)
    #expect(a.count == 7, sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() {
        let diff = zip(x, y).map { abs($0 - $1) }.max()!
        // The GGUF model keeps an f16 cache and rounds attention operands like llama.cpp; the f32
        // checkpoint rounds nothing (it matches transformers to 1e-4: FamilyFixtureTests).
        #expect(diff < 5e-3, "position \(i): HF and GGUF logits differ by \(diff)", sourceLocation: sourceLocation)
    }
}

private func checkpointFolder(_ tensors: [(String, [Int], [Float])], config: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
    try Data(config.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
    return dir
}

@Test func checkpointFolderMatchesGGUF() throws {
    var t = TinyLlama()
    var hf: [(String, [Int], [Float])] = []
    var gguf = GGUFWriter()
    gguf.metadata = [
        ("general.architecture", .string("llama")), ("llama.embedding_length", .uint32(16)), ("llama.block_count", .uint32(2)),
        ("llama.feed_forward_length", .uint32(24)), ("llama.attention.head_count", .uint32(4)),
        ("llama.attention.head_count_kv", .uint32(2)), ("llama.context_length", .uint32(64)),
        ("llama.rope.freq_base", .float32(10000)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
        ("llama.vocab_size", .uint32(20)),
    ]
    func add(_ hfName: String, _ ggufName: String, _ shape: [Int], _ v: [Float], permuteHeads: Int? = nil) {
        hf.append((hfName, shape, v))
        let g = permuteHeads.map { t.permute(v, heads: $0, cols: shape[1]) } ?? v
        gguf.tensors.append(GGUFWriter.f32Tensor(ggufName, dims: shape.reversed(), g))
    }
    add("model.embed_tokens.weight", "token_embd.weight", [t.vocab, t.hidden], t.values(t.vocab * t.hidden, scale: 1))
    add("model.norm.weight", "output_norm.weight", [t.hidden], t.values(t.hidden).map { 1 + $0 })
    add("lm_head.weight", "output.weight", [t.vocab, t.hidden], t.values(t.vocab * t.hidden))
    for l in 0..<t.layers {
        let p = "model.layers.\(l)", b = "blk.\(l)"
        add("\(p).input_layernorm.weight", "\(b).attn_norm.weight", [t.hidden], t.values(t.hidden).map { 1 + $0 })
        add("\(p).self_attn.q_proj.weight", "\(b).attn_q.weight", [t.hidden, t.hidden], t.values(t.hidden * t.hidden), permuteHeads: t.heads)
        let kv = t.kvHeads * t.headDim
        add("\(p).self_attn.k_proj.weight", "\(b).attn_k.weight", [kv, t.hidden], t.values(kv * t.hidden), permuteHeads: t.kvHeads)
        add("\(p).self_attn.v_proj.weight", "\(b).attn_v.weight", [kv, t.hidden], t.values(kv * t.hidden))
        add("\(p).self_attn.o_proj.weight", "\(b).attn_output.weight", [t.hidden, t.hidden], t.values(t.hidden * t.hidden))
        add("\(p).post_attention_layernorm.weight", "\(b).ffn_norm.weight", [t.hidden], t.values(t.hidden).map { 1 + $0 })
        add("\(p).mlp.gate_proj.weight", "\(b).ffn_gate.weight", [t.ffn, t.hidden], t.values(t.ffn * t.hidden))
        add("\(p).mlp.up_proj.weight", "\(b).ffn_up.weight", [t.ffn, t.hidden], t.values(t.ffn * t.hidden))
        add("\(p).mlp.down_proj.weight", "\(b).ffn_down.weight", [t.hidden, t.ffn], t.values(t.hidden * t.ffn))
    }
    let dir = try checkpointFolder(hf, config: #"{"model_type":"llama","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":64,"rms_norm_eps":1e-5,"vocab_size":20,"rope_theta":10000}"#)

    let fromHF = try ArchitectureRegistry.load(checkpoint: dir)
    let fromGGUF = try ArchitectureRegistry.load(gguf: GGUFFile(path: GGUFWriter.temporaryFile(gguf.bytes())))
    #expect(fromHF.config.ropeLayout == .halves && fromGGUF.config.ropeLayout == .interleaved)
    try expectSameLogits(fromHF, fromGGUF)

    // A missing tensor and an unsupported model_type are named.
    try Data(#"{"model_type":"mamba"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
    #expect { _ = try ArchitectureRegistry.load(checkpoint: dir) } throws: { "\($0)".contains("model_type mamba is not supported") }
}

@Test func gemma3CheckpointMatchesGGUF() throws {
    // Gemma 3: no q/k permutation, norms stored as w (GGUF: 1 + w), one sliding and one full layer.
    var t = TinyLlama()
    let hidden = 16, heads = 2, headDim = 8, ffn = 24, vocab = 20
    var hf: [(String, [Int], [Float])] = []
    var gguf = GGUFWriter()
    gguf.metadata = [
        ("general.architecture", .string("gemma3")), ("gemma3.embedding_length", .uint32(16)), ("gemma3.block_count", .uint32(2)),
        ("gemma3.feed_forward_length", .uint32(24)), ("gemma3.attention.head_count", .uint32(2)),
        ("gemma3.attention.head_count_kv", .uint32(1)), ("gemma3.attention.key_length", .uint32(8)),
        ("gemma3.attention.value_length", .uint32(8)), ("gemma3.context_length", .uint32(64)),
        ("gemma3.attention.sliding_window", .uint32(3)), ("gemma3.attention.sliding_window_pattern", .uint32(2)),
        ("gemma3.rope.freq_base", .float32(1_000_000)), ("gemma3.attention.layer_norm_rms_epsilon", .float32(1e-6)),
        ("gemma3.vocab_size", .uint32(20)),
    ]
    func add(_ hfName: String, _ ggufName: String, _ shape: [Int], _ v: [Float], norm: Bool = false) {
        hf.append((hfName, shape, v))
        gguf.tensors.append(GGUFWriter.f32Tensor(ggufName, dims: shape.reversed(), norm ? v.map { $0 + 1 } : v))
    }
    add("model.embed_tokens.weight", "token_embd.weight", [vocab, hidden], t.values(vocab * hidden, scale: 1))
    add("model.norm.weight", "output_norm.weight", [hidden], t.values(hidden), norm: true)
    for l in 0..<2 {
        let p = "model.layers.\(l)", b = "blk.\(l)"
        add("\(p).input_layernorm.weight", "\(b).attn_norm.weight", [hidden], t.values(hidden), norm: true)
        add("\(p).self_attn.q_proj.weight", "\(b).attn_q.weight", [heads * headDim, hidden], t.values(heads * headDim * hidden))
        add("\(p).self_attn.k_proj.weight", "\(b).attn_k.weight", [headDim, hidden], t.values(headDim * hidden))
        add("\(p).self_attn.v_proj.weight", "\(b).attn_v.weight", [headDim, hidden], t.values(headDim * hidden))
        add("\(p).self_attn.o_proj.weight", "\(b).attn_output.weight", [hidden, heads * headDim], t.values(hidden * heads * headDim))
        add("\(p).self_attn.q_norm.weight", "\(b).attn_q_norm.weight", [headDim], t.values(headDim), norm: true)
        add("\(p).self_attn.k_norm.weight", "\(b).attn_k_norm.weight", [headDim], t.values(headDim), norm: true)
        add("\(p).post_attention_layernorm.weight", "\(b).post_attention_norm.weight", [hidden], t.values(hidden), norm: true)
        add("\(p).pre_feedforward_layernorm.weight", "\(b).ffn_norm.weight", [hidden], t.values(hidden), norm: true)
        add("\(p).post_feedforward_layernorm.weight", "\(b).post_ffw_norm.weight", [hidden], t.values(hidden), norm: true)
        add("\(p).mlp.gate_proj.weight", "\(b).ffn_gate.weight", [ffn, hidden], t.values(ffn * hidden))
        add("\(p).mlp.up_proj.weight", "\(b).ffn_up.weight", [ffn, hidden], t.values(ffn * hidden))
        add("\(p).mlp.down_proj.weight", "\(b).ffn_down.weight", [hidden, ffn], t.values(hidden * ffn))
    }
    let dir = try checkpointFolder(hf, config: """
    {"model_type":"gemma3_text","hidden_size":16,"intermediate_size":24,"num_hidden_layers":2,"num_attention_heads":2,
     "num_key_value_heads":1,"head_dim":8,"query_pre_attn_scalar":8,"max_position_embeddings":64,"vocab_size":20,
     "sliding_window":3,"layer_types":["sliding_attention","full_attention"],"rope_theta":1000000,"rope_local_base_freq":10000}
    """)
    let fromHF = try ArchitectureRegistry.load(checkpoint: dir)
    let fromGGUF = try ArchitectureRegistry.load(gguf: GGUFFile(path: GGUFWriter.temporaryFile(gguf.bytes())))
    #expect(fromHF.config.slidingLayers == [true, false] && fromGGUF.config.slidingLayers == [true, false])
    try expectSameLogits(fromHF, fromGGUF)
}
