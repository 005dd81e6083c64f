// A checkpoint folder runs end to end like a GGUF file: tokenizer.json, the chat template from
// tokenizer_config.json, the model, greedy decoding; checked against transformers' own prompt
// ids and tokens (scripts/make-family-fixtures.py, qwen2-chat).
import Foundation
import Testing
import SwiftletModels
import SwiftletRuntime
import SwiftletTokenizers

private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf/qwen2-chat").path

private struct Expected: Decodable {
    struct Message: Decodable { let role: String; let content: String }
    let messages: [Message]
    let prompt: String
    let prompt_ids: [Int32]
    let greedy: [Int32]
}

@Test func checkpointFolderRunsEndToEnd() throws {
    let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
    let engine = try Engine(path: folder, threads: 2)
    #expect(engine.gguf == nil && engine.config.architecture == "qwen2")
    let prompt = try engine.chatPrompt(expected.messages.map { (role: $0.role, content: $0.content) })
    #expect(prompt == expected.prompt)
    let ids = engine.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
    #expect(ids == expected.prompt_ids)

    // Greedy, without stopping at end-of-turn: transformers' fixture runs a fixed count.
    var tokens = ids
    var generated: [Int32] = []
    for _ in expected.greedy.indices {
        let row = try engine.logits(tokens: tokens, all: false)[0]
        let next = Int32(row.indices.max { row[$0] < row[$1] }!)
        generated.append(next)
        tokens.append(next)
    }
    #expect(generated == expected.greedy)
    #expect(engine.describe().contains("checkpoint folder"))
}

@Test func missingPathsAndEmbeddingFoldersAreClearErrors() throws {
    #expect { _ = try Engine(path: "/nonexistent/model") } throws: { "\($0)".contains("no such model file or checkpoint folder") }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bert-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try #"{"model_type": "bert"}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect { _ = try Engine(path: dir) } throws: { "\($0)".contains("use `swiftlet embed`") }
    try #"{"model_type": "gpt_neox"}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    #expect { _ = try Engine(path: dir) } throws: { "\($0)".contains("model_type gpt_neox is not supported (supported: gemma3_text, llama") }
}
