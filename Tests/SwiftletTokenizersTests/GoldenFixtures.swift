// Golden token ids from the llama.cpp peer (scripts/make-tokenizer-fixtures.py) and the real models.
import Foundation
import SwiftletFormats
import SwiftletTestSupport
import SwiftletTokenizers

struct Golden: Decodable, Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let text: String
        let parse_special: Bool
    }
    struct Model: Decodable, Sendable {
        let file: String
        /// Set for SmolLM2's vocabulary run with another pre-tokenizer.
        let pre: String?
        let vocabulary_size: Int
        let bos: Int32?
        let eos: Int32?
        let eot: Int32?
        let add_bos: Bool
        let eog: [Int32]
        let ids: [[Int32]]
        let decoded: [String]?
    }
    let cases: [Case]
    let models: [String: Model]

    static let shared: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden.json")
        // A missing or broken fixture is a bug in the repository, not a skip.
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(Golden.self, from: data)
    }()
}

/// The real models' tokenizers, loaded once per test process. nil: model absent on a developer machine.
enum LoadedTokenizers {
    struct Loaded: Sendable {
        let tokenizer: any Tokenizer
        let seconds: Double
    }

    static let smollm2 = Result { try load(TestModels.smollm2) }
    static let gemma3 = Result { try load(TestModels.gemma3) }
    /// SmolLM2's vocabulary with each other byte-level pre-tokenizer ("smollm2@llama-bpe", ...).
    static let variants = Result { () throws -> [String: Loaded]? in
        guard let path = try TestModels.require(TestModels.smollm2) else { return nil }
        let gguf = try GGUFFile(path: path)
        var out: [String: Loaded] = [:]
        for (key, m) in Golden.shared.models {
            guard let pre = m.pre else { continue }
            out[key] = Loaded(tokenizer: try TokenizerLoader.load(gguf: gguf, preTokenizer: pre), seconds: 0)
        }
        return out
    }

    static func get(_ key: String) throws -> Loaded? {
        switch key {
        case "smollm2": return try smollm2.get()
        case "gemma3": return try gemma3.get()
        default:
            guard let all = try variants.get() else { return nil }
            guard let t = all[key] else { fatalError("unknown model key \(key)") }
            return t
        }
    }

    private static func load(_ path: String) throws -> Loaded? {
        guard let path = try TestModels.require(path) else { return nil }
        let start = Date()
        let t = try TokenizerLoader.load(path: path)
        return Loaded(tokenizer: t, seconds: Date().timeIntervalSince(start))
    }
}
