// Every decoder family, loaded from a tiny Hugging Face checkpoint, against transformers' own
// outputs (scripts/make-family-fixtures.py): logits within 1e-4 relative, identical greedy tokens,
// and the prompt at once equal to the prompt token by token.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletTestSupport

private struct Expected: Decodable {
    let model_type: String
    let input_ids: [Int32]
    let logits: [[Float]]
    let greedy: [Int32]
    let greedy_min_margin: Float
}

private let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf").path

private let families = ["llama", "llama-rope-linear", "llama-rope-llama3", "llama-rope-yarn", "mistral", "qwen2", "qwen3",
                        "gemma3_text", "phi3", "mixtral", "smollm3"]

private func load(_ family: String) throws -> (DecoderModel, Expected) {
    let folder = fixtureRoot + "/" + family
    let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
    return (try ArchitectureRegistry.load(checkpoint: folder), expected)
}

/// Logits of every position of `tokens`, evaluated in batches of `batch` tokens.
func allLogits(_ m: DecoderModel, _ tokens: [Int32], batch: Int, pool: ThreadPool) throws -> [[Float]] {
    let cache = m.makeCache(capacity: 64)
    let scratch = m.makeScratch(maxBatch: batch, contextCapacity: 64, threads: pool.threadCount, logitRows: batch)
    var rows: [[Float]] = []
    var start = 0
    while start < tokens.count {
        let chunk = Array(tokens[start..<min(tokens.count, start + batch)])
        try chunk.withUnsafeBufferPointer { b in
            try m.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .all) { _, r in rows.append(Array(r)) }
        }
        start += batch
    }
    return rows
}

private func argmax(_ row: [Float]) -> Int32 { Int32(row.indices.max { row[$0] < row[$1] }!) }

@Test(arguments: families)
func familyMatchesTransformers(_ family: String) throws {
    let (model, expected) = try load(family)
    #expect(model.config.architecture == expected.model_type)
    let pool = ThreadPool(threads: 2)
    let rows = try allLogits(model, expected.input_ids, batch: 32, pool: pool)
    try #require(rows.count == expected.logits.count)
    var worst: Float = 0
    for (mine, theirs) in zip(rows, expected.logits) {
        let scale = theirs.map(abs).max()!
        worst = max(worst, zip(mine, theirs).map { abs($0 - $1) }.max()! / scale)
    }
    print("\(family): max relative logit error \(worst)")
    #expect(worst <= 1e-4, "\(family): logits differ from transformers by \(worst) (relative)")

    // Greedy continuation with the KV cache, one token at a time after the prompt.
    let cache = model.makeCache(capacity: 64)
    let scratch = model.makeScratch(maxBatch: 32, contextCapacity: 64, threads: 2)
    var next: Int32 = 0
    try expected.input_ids.withUnsafeBufferPointer { b in
        try model.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .last) { _, r in next = argmax(Array(r)) }
    }
    var generated: [Int32] = []
    for _ in expected.greedy.indices {
        generated.append(next)
        try [next].withUnsafeBufferPointer { b in
            try model.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .last) { _, r in next = argmax(Array(r)) }
        }
    }
    #expect(generated == expected.greedy, "\(family): greedy tokens differ (transformers' smallest top-2 margin \(expected.greedy_min_margin))")

    // The prompt at once equals the prompt token by token, bit for bit.
    let single = try allLogits(model, expected.input_ids, batch: 1, pool: pool)
    #expect(single == rows, "\(family): batched and token-by-token logits differ")
}

/// Gemma 3's multimodal checkpoints keep the text model under `language_model.` next to a vision
/// tower: the same weights, wrapped so, give the same logits (the vision parts are set aside).
@Test func multimodalGemma3WrapperLoadsItsTextModel() throws {
    let (textModel, expected) = try load("gemma3_text")
    let source = try SafetensorsCheckpoint(path: fixtureRoot + "/gemma3_text")
    var tensors: [(String, [Int], [Float])] = []
    for name in source.tensorNames {
        let info = source.info(name)!
        let count = info.shape.reduce(1, *)
        let values = Array(UnsafeBufferPointer(start: source.data(name)!.assumingMemoryBound(to: Float.self), count: count))
        tensors.append(("language_model." + name, info.shape, values))  // as transformers 4 saves them
    }
    tensors.append(("vision_tower.embeddings.patch_embedding.weight", [4, 3], Array(repeating: 0.5, count: 12)))
    tensors.append(("multi_modal_projector.mm_soft_emb_norm.weight", [4], Array(repeating: 1, count: 4)))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gemma3-mm-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
    let textConfig = try String(contentsOfFile: fixtureRoot + "/gemma3_text/config.json", encoding: .utf8)
    try #"{"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"], "text_config": \#(textConfig)}"#
        .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    let wrapped = try ArchitectureRegistry.load(checkpoint: dir)
    let pool = ThreadPool(threads: 2)
    let a = try allLogits(wrapped, expected.input_ids, batch: 32, pool: pool)
    let b = try allLogits(textModel, expected.input_ids, batch: 32, pool: pool)
    #expect(a == b)
}

/// A fixture's tensors, edited by `edit`, written to a fresh folder with its config.json.
private func editedCopy(of family: String, _ edit: (inout [(String, [Int], [Float])]) -> Void) throws -> String {
    let source = try SafetensorsCheckpoint(path: fixtureRoot + "/" + family)
    var tensors: [(String, [Int], [Float])] = source.tensorNames.sorted().map { name in
        let info = source.info(name)!
        let values = Array(UnsafeBufferPointer(start: source.data(name)!.assumingMemoryBound(to: Float.self), count: info.shape.reduce(1, *)))
        return (name, info.shape, values)
    }
    edit(&tensors)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(family)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
    try FileManager.default.copyItem(atPath: fixtureRoot + "/\(family)/config.json", toPath: dir + "/config.json")
    return dir
}

/// Each defect of a checkpoint is one line naming the tensor.
@Test(arguments: [
    ("qwen2", "drop", "model.layers.1.self_attn.q_proj.bias", "missing tensor model.layers.1.self_attn.q_proj.bias"),
    ("qwen2", "extra", "model.layers.0.mlp.extra.weight", "unexpected tensor model.layers.0.mlp.extra.weight"),
    ("qwen2", "reshape", "model.layers.0.self_attn.k_proj.weight", "tensor model.layers.0.self_attn.k_proj.weight has shape [32, 64], expected [64, 32]"),
    ("mixtral", "drop", "model.layers.0.block_sparse_moe.experts.3.w2.weight", "missing tensor model.layers.0.block_sparse_moe.experts.3.w2.weight"),
    ("phi3", "reshape", "model.layers.1.self_attn.qkv_proj.weight", "tensor model.layers.1.self_attn.qkv_proj.weight has shape [128, 64], expected [64, 128]"),
])
func checkpointDefectsAreNamed(_ family: String, _ defect: String, _ tensor: String, _ message: String) throws {
    let dir = try editedCopy(of: family) { tensors in
        switch defect {
        case "drop": tensors.removeAll { $0.0 == tensor }
        case "extra": tensors.append((tensor, [4], [1, 2, 3, 4]))
        default:
            let i = tensors.firstIndex { $0.0 == tensor }!
            tensors[i].1 = tensors[i].1.reversed()
        }
    }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect { _ = try ArchitectureRegistry.load(checkpoint: dir) } throws: { error in
        let text = "\(error)"
        return text.contains(message) && !text.contains("\n")
    }
}
