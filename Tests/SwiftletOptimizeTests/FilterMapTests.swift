// Filter maps: globs, deny over allow, the built-in maps across GGUF, Hugging Face and BERT names, and
// the errors of malformed maps.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletOptimize
import SwiftletTestSupport

@Suite struct FilterMapTests {
    @Test func globsMatchWholeNames() throws {
        let cases: [(String, String, Bool)] = [
            ("*.q_proj.weight", "model.layers.3.self_attn.q_proj.weight", true),
            ("*.q_proj.weight", "q_proj.weight", false),
            ("*q_proj.weight", "q_proj.weight", true),
            ("blk.*.attn_q.weight", "blk.12.attn_q.weight", true),
            ("blk.*.attn_q.weight", "blk.12.attn_q_norm.weight", false),
            ("blk.?.attn_q.weight", "blk.1.attn_q.weight", true),
            ("blk.?.attn_q.weight", "blk.12.attn_q.weight", false),
            ("blk.*.attn_{q,k,v}.weight", "blk.0.attn_k.weight", true),
            ("blk.*.attn_{q,k,v}.weight", "blk.0.attn_o.weight", false),
            ("*.mlp.{,experts.*.}up_proj.weight", "m.mlp.up_proj.weight", true),
            ("*.mlp.{,experts.*.}up_proj.weight", "m.mlp.experts.7.up_proj.weight", true),
            ("a{b,{c,d}e}f", "adef", true),
            ("a{b,{c,d}e}f", "abf", true),
            ("a{b,{c,d}e}f", "abef", false),
            ("a,b", "a,b", true),
            ("**x*", "abcx", true),
            ("*a*b", "xaxbxb", true),
            ("output.weight", "blk.0.attn_output.weight", false),
            ("*Norm*", "encoder.layer.0.output.LayerNorm.weight", true),
            ("*norm*", "encoder.layer.0.output.LayerNorm.weight", false),
        ]
        for (pattern, name, expected) in cases {
            #expect(try GlobPattern(pattern).matches(name) == expected, "\(pattern) ~ \(name)")
        }
        #expect(throws: GlobPattern.Invalid(description: "empty pattern")) { try GlobPattern("") }
        #expect(throws: GlobPattern.Invalid(description: "unclosed '{' in pattern \"blk.{q,k\"")) { try GlobPattern("blk.{q,k") }
        #expect(throws: GlobPattern.Invalid(description: "unmatched '}' in pattern \"q}\"")) { try GlobPattern("q}") }
    }

    @Test func denyAlwaysWinsAndEmptyAllowSelectsNothing() throws {
        let map = try FilterMap(allow: ["*"], deny: ["*norm*", "blk.0.*"])
        #expect(map.selects("blk.1.attn_q.weight", dims: [64, 64]))
        #expect(!map.selects("blk.1.attn_norm.weight", dims: [64, 64]))
        #expect(!map.selects("blk.0.attn_q.weight", dims: [64, 64]))
        let empty = try FilterMap(allow: [], deny: [])
        let both = try FilterMap(allow: ["blk.1.attn_q.weight"], deny: ["blk.1.attn_q.weight"])
        #expect(!empty.selects("blk.1.attn_q.weight", dims: [64, 64]) && !both.matches("blk.1.attn_q.weight"))
        // Only matrices: a 1-D tensor or a [1, n] row never, a 3-D expert stack yes.
        #expect(!map.selects("blk.1.attn_q.bias", dims: [64]))
        #expect(!map.selects("blk.1.gate.weight", dims: [64, 1]))
        #expect(map.selects("blk.1.ffn_up_exps.weight", dims: [64, 128, 8]))
    }

    /// Names of the three schemes with what each built-in map must do: (name, dims, projections, gemma3).
    static let expectations: [(String, [Int], Bool, Bool)] = [
        // GGUF
        ("token_embd.weight", [576, 49152], false, false),
        ("token_types.weight", [384, 2], false, false),
        ("position_embd.weight", [384, 512], false, false),
        ("output.weight", [576, 49152], false, false),
        ("output_norm.weight", [576], false, false),
        ("blk.0.attn_norm.weight", [576], false, false),
        ("blk.0.attn_q.weight", [576, 576], true, true),
        ("blk.0.attn_k.weight", [576, 192], true, true),
        ("blk.0.attn_v.weight", [576, 192], true, true),
        ("blk.7.attn_qkv.weight", [576, 960], true, true),
        ("blk.0.attn_q.bias", [576], false, false),
        ("blk.0.attn_q_norm.weight", [64], false, false),
        ("blk.0.attn_output.weight", [576, 576], true, false),
        ("blk.0.attn_output_norm.weight", [384], false, false),
        ("blk.0.ffn_norm.weight", [576], false, false),
        ("blk.0.post_attention_norm.weight", [576], false, false),
        ("blk.0.ffn_gate.weight", [576, 1536], true, false),
        ("blk.0.ffn_up.weight", [576, 1536], true, true),
        ("blk.29.ffn_down.weight", [1536, 576], true, true),
        ("blk.3.ffn_gate_inp.weight", [576, 8], false, false),
        ("blk.3.ffn_gate_exps.weight", [576, 768, 8], true, false),
        ("blk.3.ffn_up_exps.weight", [576, 768, 8], true, true),
        ("blk.3.ffn_down_exps.weight", [768, 576, 8], true, true),
        ("blk.3.ffn_up_shexp.weight", [576, 768], true, true),
        ("blk.0.layer_output_norm.weight", [384], false, false),
        // Hugging Face decoders
        ("model.embed_tokens.weight", [49152, 576], false, false),
        ("model.layers.0.self_attn.q_proj.weight", [576, 576], true, true),
        ("model.layers.0.self_attn.k_proj.weight", [192, 576], true, true),
        ("model.layers.0.self_attn.v_proj.weight", [192, 576], true, true),
        ("model.layers.0.self_attn.q_proj.bias", [576], false, false),
        ("model.layers.0.self_attn.o_proj.weight", [576, 576], true, false),
        ("model.layers.0.self_attn.qkv_proj.weight", [960, 576], true, true),
        ("model.layers.0.self_attn.q_norm.weight", [64], false, false),
        ("model.layers.0.mlp.gate_proj.weight", [1536, 576], true, false),
        ("model.layers.0.mlp.up_proj.weight", [1536, 576], true, true),
        ("model.layers.11.mlp.down_proj.weight", [576, 1536], true, true),
        ("model.layers.0.mlp.gate_up_proj.weight", [3072, 576], true, false),
        ("model.layers.0.input_layernorm.weight", [576], false, false),
        ("model.layers.0.post_attention_layernorm.weight", [576], false, false),
        ("model.layers.0.pre_feedforward_layernorm.weight", [576], false, false),
        ("model.norm.weight", [576], false, false),
        ("lm_head.weight", [49152, 576], false, false),
        ("model.layers.0.block_sparse_moe.gate.weight", [8, 4096], false, false),
        ("model.layers.0.block_sparse_moe.experts.3.w1.weight", [14336, 4096], true, false),
        ("model.layers.0.block_sparse_moe.experts.3.w2.weight", [4096, 14336], true, true),
        ("model.layers.0.block_sparse_moe.experts.3.w3.weight", [14336, 4096], true, true),
        ("model.layers.0.mlp.gate.weight", [60, 2048], false, false),
        ("model.layers.0.mlp.experts.5.gate_proj.weight", [1408, 2048], true, false),
        ("model.layers.0.mlp.experts.5.up_proj.weight", [1408, 2048], true, true),
        ("model.layers.0.mlp.shared_expert.down_proj.weight", [2048, 5632], true, true),
        ("model.layers.0.mlp.shared_expert_gate.weight", [1, 2048], false, false),
        ("language_model.model.layers.0.self_attn.v_proj.weight", [256, 640], true, true),
        // BERT
        ("embeddings.word_embeddings.weight", [30522, 384], false, false),
        ("embeddings.position_embeddings.weight", [512, 384], false, false),
        ("embeddings.token_type_embeddings.weight", [2, 384], false, false),
        ("embeddings.LayerNorm.weight", [384], false, false),
        ("encoder.layer.0.attention.self.query.weight", [384, 384], true, true),
        ("encoder.layer.0.attention.self.key.weight", [384, 384], true, true),
        ("encoder.layer.0.attention.self.value.weight", [384, 384], true, true),
        ("encoder.layer.0.attention.self.query.bias", [384], false, false),
        ("encoder.layer.0.attention.output.dense.weight", [384, 384], true, false),
        ("encoder.layer.0.attention.output.LayerNorm.weight", [384], false, false),
        ("encoder.layer.0.intermediate.dense.weight", [1536, 384], true, true),
        ("encoder.layer.5.output.dense.weight", [384, 1536], true, true),
        ("encoder.layer.5.output.LayerNorm.weight", [384], false, false),
        ("bert.encoder.layer.2.attention.self.key.weight", [384, 384], true, true),
        ("bert.encoder.layer.2.attention.output.dense.weight", [384, 384], true, false),
        ("pooler.dense.weight", [384, 384], false, false),
        ("bert.pooler.dense.weight", [384, 384], false, false),
    ]

    @Test func builtInMapsSelectExactlyTheIntendedTensors() throws {
        #expect(FilterMap.builtInNames == ["projections", "gemma3"])
        let projections = try FilterMap.named("projections"), gemma3 = try FilterMap.named("gemma3")
        for (name, dims, inProjections, inGemma3) in Self.expectations {
            #expect(projections.selects(name, dims: dims) == inProjections, "projections: \(name)")
            #expect(gemma3.selects(name, dims: dims) == inGemma3, "gemma3: \(name)")
        }
        #expect(throws: RecipeError(problems: [.init(field: "", message:
            "unknown filter map \"attention\" (built-in maps: projections, gemma3)")])) { try FilterMap.named("attention") }
    }

    /// On the real models' tensor lists: SmolLM2 (GGUF, 30 layers) and MiniLM (BERT, 6 layers).
    @Test func builtInMapsOnRealTensorLists() throws {
        let projections = try FilterMap.named("projections"), gemma3 = try FilterMap.named("gemma3")
        if let path = try TestModels.require(TestModels.smollm2) {
            let tensors = try GGUFFile(path: path).tensors
            let p = tensors.filter { projections.selects($0.name, dims: $0.dims) }.map(\.name)
            let g = tensors.filter { gemma3.selects($0.name, dims: $0.dims) }.map(\.name)
            #expect(p.count == 30 * 7 && g.count == 30 * 5, "\(p.count) and \(g.count) selected")
            #expect(Set(p).subtracting(g) == Set((0..<30).flatMap { ["blk.\($0).attn_output.weight", "blk.\($0).ffn_gate.weight"] }))
        }
        if let path = try TestModels.require(TestModels.minilm) {
            let tensors = try SafetensorsFile(path: path + "/model.safetensors").tensors
            let p = tensors.filter { projections.selects($0.name, dims: $0.shape) }.map(\.name)
            let g = tensors.filter { gemma3.selects($0.name, dims: $0.shape) }.map(\.name)
            #expect(p.count == 6 * 6 && g.count == 6 * 5, "\(p.count) and \(g.count) selected")
            #expect(Set(p).subtracting(g) == Set((0..<6).map { "encoder.layer.\($0).attention.output.dense.weight" }))
        }
    }

    @Test func jsonMapsRoundTripAndReportEveryProblem() throws {
        let map = try FilterMap(json: ["allow": ["blk.*.attn_{q,k}.weight"], "deny": ["blk.0.*"]])
        #expect(map.selects("blk.3.attn_k.weight", dims: [8, 8]) && !map.selects("blk.0.attn_k.weight", dims: [8, 8]))
        #expect(try FilterMap(json: map.json) == map)
        #expect(try FilterMap(json: ["deny": ["*"]]).allow.isEmpty)

        let bad: JSONValue = ["allow": ["ok.*", 3, "", "x{y"], "deny": "*norm*", "extra": true]
        #expect(throws: RecipeError(problems: [
            .init(field: "filter.extra", message: "unknown key (known keys: allow, deny)"),
            .init(field: "filter.allow[1]", message: "expected a string pattern, got 3"),
            .init(field: "filter.allow[2]", message: "empty pattern"),
            .init(field: "filter.allow[3]", message: "unclosed '{' in pattern \"x{y\""),
            .init(field: "filter.deny", message: "expected an array of patterns, got \"*norm*\""),
        ])) { try FilterMap(json: bad, field: "filter") }
        #expect(throws: RecipeError(problems: [.init(field: "", message: "expected an object, got [\"*\"]")])) {
            try FilterMap(json: ["*"])
        }
    }

    @Test func loadReadsAFileAndNamesItInErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-filter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.json").path, bad = dir.appendingPathComponent("bad.json").path
        let wrong = dir.appendingPathComponent("wrong.json").path
        try #"{"allow": ["*.q_proj.weight"]}"#.write(toFile: good, atomically: true, encoding: .utf8)
        try #"{"allow": ["*.q_proj.weight"],"#.write(toFile: bad, atomically: true, encoding: .utf8)
        try #"{"allow": [""]}"#.write(toFile: wrong, atomically: true, encoding: .utf8)
        #expect(try FilterMap.load(path: good).matches("a.q_proj.weight"))
        do throws(RecipeError) {
            _ = try FilterMap.load(path: bad)
            Issue.record("a malformed file must fail")
        } catch {
            #expect(error.file == bad && error.description.hasPrefix("\(bad): not valid JSON"), "\(error)")
        }
        #expect(throws: RecipeError(file: wrong, problems: [.init(field: "allow[0]", message: "empty pattern")])) {
            try FilterMap.load(path: wrong)
        }
        do throws(RecipeError) {
            _ = try FilterMap.load(path: dir.appendingPathComponent("missing.json").path)
            Issue.record("a missing file must fail")
        } catch {
            #expect(error.description.contains("missing.json: cannot read the file"), "\(error)")
        }
    }
}
