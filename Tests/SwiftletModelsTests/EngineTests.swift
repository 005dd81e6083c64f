// Engine behaviour on the real model and on small synthetic files: batching, limits, errors, seeds.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletRuntime
import SwiftletTestSupport

@Test func batchedPrefillEqualsStepByStepDecode() throws {
    guard let path = try TestModels.require(TestModels.smollm2) else { return }
    let engine = try Engines.get(path)
    let tokens = engine.tokenize("The quick brown fox jumps over the lazy dog because")
    let batched = try engine.logits(tokens: tokens, all: true)
    let single = try Engine(path: path, maxBatch: 1).logits(tokens: tokens, all: true)
    #expect(batched.count == tokens.count && single.count == tokens.count)
    // The kernels sum every (row, activation) pair in one order whatever the batch, so batching
    // changes nothing, bit for bit.
    for (i, (a, b)) in zip(batched, single).enumerated() {
        #expect(a == b, "position \(i): prefill and decode logits differ by \(zip(a, b).map { abs($0 - $1) }.max()!)")
    }
}

@Test func contextLengthIsEnforced() throws {
    guard let path = try TestModels.require(TestModels.smollm2) else { return }
    let engine = try Engines.get(path)
    let cache = engine.model.makeCache(capacity: 4)
    let scratch = engine.model.makeScratch(maxBatch: 8, contextCapacity: 4, threads: engine.pool.threadCount)
    let tokens: [Int32] = [1, 2, 3, 4, 5]
    #expect {
        try tokens.withUnsafeBufferPointer { b in
            try engine.model.forward(b, cache: cache, scratch: scratch, pool: engine.pool, logits: .last) { _, _ in }
        }
    } throws: { "\($0)".contains("context length exceeded") }
    #expect { _ = try engine.logits(tokens: [Int32](repeating: 1, count: 8193), all: false) } throws: {
        "\($0)".contains("context length 8192")
    }
    #expect { _ = try engine.logits(tokens: [49152], all: false) } throws: { "\($0)".contains("outside the vocabulary") }
}

@Test func seededSamplingIsReproducible() throws {
    guard let path = try TestModels.require(TestModels.smollm2) else { return }
    let engine = try Engines.get(path)
    var p = SamplingParameters()
    p.temperature = 1.0
    p.topK = 0
    p.topP = 0.95
    p.seed = 42
    let prompt = engine.tokenize("Once upon a time")
    let a = try engine.generate(prompt: prompt, maxNewTokens: 24, sampling: p)
    let b = try engine.generate(prompt: prompt, maxNewTokens: 24, sampling: p)
    #expect(a.tokens == b.tokens && a.text == b.text)
    p.seed = 7
    let c = try engine.generate(prompt: prompt, maxNewTokens: 24, sampling: p)
    #expect(c.tokens != a.tokens)
}

@Test func streamedPiecesConcatenateToTheText() throws {
    guard let path = try TestModels.require(TestModels.gemma3) else { return }
    let engine = try Engines.get(path)
    var pieces: [String] = []
    let result = try engine.generate(prompt: engine.tokenize("日本の首都は", bos: true), maxNewTokens: 20,
                                     sampling: .greedy) { pieces.append($0); return true }
    #expect(pieces.joined() == result.text)
    #expect(!result.text.isEmpty && !result.text.contains("\u{FFFD}"))
}

@Test func samplingParametersAreValidated() {
    var p = SamplingParameters()
    p.temperature = -1
    p.topP = 2
    #expect { try p.validate() } throws: { e in
        let s = "\(e)"
        return s.contains("temperature") && s.contains("top-p")
    }
}

// Synthetic files: architecture detection and weight checks fail clearly.
private func tinyLlama(arch: String = "llama", dropping: String? = nil) throws -> String {
    var w = GGUFWriter()
    let h = 8, f = 16, v = 12
    w.metadata = [
        ("general.architecture", .string(arch)),
        ("\(arch).embedding_length", .uint32(UInt32(h))), ("\(arch).block_count", .uint32(1)),
        ("\(arch).feed_forward_length", .uint32(UInt32(f))), ("\(arch).attention.head_count", .uint32(2)),
        ("\(arch).attention.head_count_kv", .uint32(1)), ("\(arch).context_length", .uint32(64)),
        ("tokenizer.ggml.model", .string("llama")),
        ("tokenizer.ggml.tokens", .array(.string, (0..<v).map { .string("t\($0)") })),
        ("tokenizer.ggml.scores", .array(.float32, (0..<v).map { _ in .float32(0) })),
        ("tokenizer.ggml.token_type", .array(.int32, (0..<v).map { _ in .int32(1) })),
    ]
    func t(_ name: String, _ dims: [Int]) -> GGUFWriter.Tensor {
        GGUFWriter.f32Tensor(name, dims: dims, (0..<dims.reduce(1, *)).map { Float(($0 * 37) % 11) / 11 - 0.5 })
    }
    w.tensors = [t("token_embd.weight", [h, v]), t("output_norm.weight", [h]),
                 t("blk.0.attn_norm.weight", [h]), t("blk.0.attn_q.weight", [h, h]), t("blk.0.attn_k.weight", [h, 4]),
                 t("blk.0.attn_v.weight", [h, 4]), t("blk.0.attn_output.weight", [h, h]), t("blk.0.ffn_norm.weight", [h]),
                 t("blk.0.ffn_gate.weight", [h, f]), t("blk.0.ffn_up.weight", [h, f]), t("blk.0.ffn_down.weight", [f, h])]
    w.tensors.removeAll { $0.name == dropping }
    return try GGUFWriter.temporaryFile(w.bytes())
}

@Test func tinySyntheticLlamaRuns() throws {
    let engine = try Engine(path: try tinyLlama(), threads: 2)
    #expect(engine.config.tiedEmbeddings)
    let rows = try engine.logits(tokens: [1, 2, 3], all: true)
    #expect(rows.count == 3 && rows.allSatisfy { $0.count == 12 && $0.allSatisfy(\.isFinite) })
}

@Test func unsupportedArchitectureListsSupported() throws {
    let path = try tinyLlama(arch: "mamba")
    #expect { _ = try Engine(path: path) } throws: { e in
        let s = "\(e)"
        return s.contains("architecture mamba is not supported") && s.contains("gemma3") && s.contains("llama")
    }
}

@Test func missingTensorIsNamed() throws {
    let path = try tinyLlama(dropping: "blk.0.ffn_up.weight")
    #expect { _ = try Engine(path: path) } throws: { "\($0)".contains("missing tensor blk.0.ffn_up.weight") }
}

@Test func truncatedModelIsAClearError() throws {
    guard let path = try TestModels.require(TestModels.smollm2) else { return }
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(50_000_000)
    let cut = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).gguf")
    try bytes.write(to: cut)
    defer { try? FileManager.default.removeItem(at: cut) }
    #expect { _ = try Engine(path: cut.path) } throws: { "\($0)".contains("outside the file") }
}

@Test func chatPromptUsesTheModelsTemplate() throws {
    guard let path = try TestModels.require(TestModels.smollm2) else { return }
    let engine = try Engines.get(path)
    // Rendered by jinja2 from the same template (trim_blocks, lstrip_blocks).
    let expected = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    #expect(try engine.chatPrompt([(role: "user", content: "What is the capital of France?")]) == expected)
    #expect(engine.tokenize(expected).count == 37)
    guard let gemma = try TestModels.require(TestModels.gemma3) else { return }
    #expect { _ = try Engines.get(gemma).chatPrompt([(role: "user", content: "hi")]) } throws: {
        "\($0)".contains("has no chat template")
    }
}
