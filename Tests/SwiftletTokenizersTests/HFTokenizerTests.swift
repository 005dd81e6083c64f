// Tokenizers loaded from Hugging Face tokenizer.json must give the ids and decoded text of the `tokenizers`
// library (Fixtures/hf, made by scripts/make-hf-tokenizer-fixtures.py) for every style and the real
// all-MiniLM-L6-v2; tokenizer_config.json is read as transformers reads it; bad files fail in one line.
import Foundation
import Testing
import SwiftletFormats
import SwiftletTestSupport
import SwiftletTokenizers

struct HFExpected: Decodable, Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let text: String
        let parse_special: Bool
    }
    struct Style: Decodable, Sendable {
        let ids: [[Int32]]
        let ids_special: [[Int32]]
        let decoded: [String]
        let decoded_special: [String]
        let vocabulary_size: Int
    }
    let cases: [Case]
    let tokenizers: [String: Style]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf")

    static let shared: HFExpected = {
        // A missing or broken fixture is a bug in the repository, not a skip.
        let data = try! Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode(HFExpected.self, from: data)
    }()

    /// The folder of a style: a committed fixture, or the real MiniLM checkpoint (nil when absent off CI).
    static func folder(_ style: String) throws -> String? {
        if style == "minilm" { return try TestModels.require(TestModels.minilm) }
        return directory.appendingPathComponent(style).path
    }
}

@Suite struct HFTokenizerTests {
    static let styles = HFExpected.shared.tokenizers.keys.sorted()
    static let fixtureStyles = styles.filter { $0 != "minilm" }

    @Test(arguments: styles)
    func idsMatchTokenizersLibrary(style: String) throws {
        guard let folder = try HFExpected.folder(style) else { return }
        let t = try TokenizerLoader.load(folder: folder)
        let expected = try #require(HFExpected.shared.tokenizers[style])
        let cases = HFExpected.shared.cases
        try #require(expected.ids.count == cases.count)
        #expect(t.vocabularySize == expected.vocabulary_size)
        for (i, c) in cases.enumerated() {
            #expect(t.encode(c.text, parseSpecial: c.parse_special) == expected.ids[i], "\(style) case \(c.name)")
            if c.parse_special {
                #expect(t.encodeWithSpecialTokens(c.text) == expected.ids_special[i], "\(style) case \(c.name) with special tokens")
            }
        }
    }

    @Test(arguments: styles)
    func decodeMatchesTokenizersLibrary(style: String) throws {
        guard let folder = try HFExpected.folder(style) else { return }
        let t = try TokenizerLoader.load(folder: folder)
        let expected = try #require(HFExpected.shared.tokenizers[style])
        for (i, c) in HFExpected.shared.cases.enumerated() {
            #expect(t.decode(expected.ids[i]) == expected.decoded[i], "\(style) case \(c.name)")
            #expect(t.decode(expected.ids_special[i]) == expected.decoded_special[i], "\(style) case \(c.name) with special tokens")
            // Token by token (as generation streams it) gives the same text.
            var stream = StreamingDetokenizer(tokenizer: t)
            let streamed = expected.ids[i].map { stream.append($0) }.joined() + stream.flush()
            #expect(streamed == expected.decoded[i], "\(style) case \(c.name) streamed")
        }
    }

    /// What each style's post-processor and config make of BOS: (bos text, eos text, addBOS).
    static let facts: [String: (bos: String?, eos: String?, addBOS: Bool)] = [
        "gpt2": ("<|endoftext|>", "<|endoftext|>", false),
        "qwen2": (nil, "<|im_end|>", false),
        "llama3": ("<|begin_of_text|>", "<|eot_id|>", true),
        "roberta": ("<s>", "</s>", true),
        "llama2": ("<s>", "</s>", true),
        "mistral": ("<s>", "</s>", true),
        "metaspace-always": (nil, nil, false),
        "sentencepiece-unk": ("<s>", nil, true),
        "gemma": ("<bos>", "<eos>", true),
        "bert": ("[CLS]", "[SEP]", true),
        "minilm": ("[CLS]", "[SEP]", true),
    ]

    @Test(arguments: styles)
    func specialTokenFacts(style: String) throws {
        guard let folder = try HFExpected.folder(style) else { return }
        let t = try TokenizerLoader.load(folder: folder)
        let facts = try #require(Self.facts[style], "no facts for \(style)")
        #expect(t.bos.map(t.tokenText) == facts.bos)
        #expect(t.eos.map(t.tokenText) == facts.eos)
        #expect(t.addBOS == facts.addBOS)
        if let eos = t.eos { #expect(t.isEndOfGeneration(eos)) }
        // A BOS-prepending template is what encode(addSpecial:) adds.
        let expected = try #require(HFExpected.shared.tokenizers[style])
        let i = try #require(HFExpected.shared.cases.firstIndex { $0.name == "prose" })
        let prose = HFExpected.shared.cases[i].text
        if style != "bert" && style != "minilm" && style != "roberta" {
            #expect(t.encode(prose, addSpecial: true, parseSpecial: true) == expected.ids_special[i])
        }
        #expect(t.encode(prose, addSpecial: false, parseSpecial: true) == expected.ids[i])
    }

    @Test func chatMLTokensEndGeneration() throws {
        let t = try TokenizerLoader.load(folder: HFExpected.directory.appendingPathComponent("qwen2").path)
        let imEnd = try #require(t.encode("<|im_end|>", parseSpecial: true).first)
        #expect(t.eot == imEnd)
        #expect(t.isEndOfGeneration(imEnd))
        #expect(t.tokenText(imEnd) == "<|im_end|>")
        // A special token renders only when asked; a non-special added token always does.
        #expect(t.decode([imEnd]) == "")
        #expect(t.decode([imEnd], renderSpecial: true) == "<|im_end|>")
        let think = t.encode("<think>", parseSpecial: false)
        #expect(think.count == 1)
        #expect(t.decode(think) == "<think>")
    }

    // MARK: a real vocabulary

    /// SmolLM2's pre-tokenizer variants in golden.json and the tokenizer.json pre_tokenizer of each.
    static func smolVariant(_ name: String) -> (pre: [String: Any], ignoreMerges: Bool)? {
        func split(_ regex: String) -> [String: Any] {
            ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": regex], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]]]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        return [
            "smollm2": (["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel]], false),
            "smollm2@gpt-2": (byteLevel, false),
            "smollm2@llama-bpe": (split(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#), true),
            "smollm2@qwen2": (split(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#), false),
        ][name]
    }

    /// SmolLM2's 49k-token vocabulary and merges, written as a tokenizer.json with each pre-tokenizer, give
    /// llama.cpp's ids for the GGUF golden texts.
    @Test(arguments: ["smollm2", "smollm2@gpt-2", "smollm2@llama-bpe", "smollm2@qwen2"])
    func realVocabularyThroughTokenizerJSON(variant: String) throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let gguf = try GGUFFile(path: path)
        let tokens = try #require(gguf.metadata["tokenizer.ggml.tokens"]?.strings)
        let types = try #require(gguf.metadata["tokenizer.ggml.token_type"]?.ints)
        let merges = try #require(gguf.metadata["tokenizer.ggml.merges"]?.strings)
        let v = try #require(Self.smolVariant(variant))
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        try #require(vocab.count == tokens.count)
        let json: [String: Any] = [
            "added_tokens": tokens.indices.filter { types[$0] == 3 }.map { i in
                ["id": i, "content": tokens[i], "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false]
            },
            "pre_tokenizer": v.pre,
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": merges, "ignore_merges": v.ignoreMerges],
        ]
        let folder = try TempFolder()
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder.path + "/tokenizer.json"))
        let t = try TokenizerLoader.load(folder: folder.path)
        let golden = Golden.shared
        let expected = try #require(golden.models[variant])
        #expect(t.vocabularySize == expected.vocabulary_size)
        for (i, c) in golden.cases.enumerated() {
            #expect(t.encode(c.text, parseSpecial: c.parse_special) == expected.ids[i], "\(variant) case \(c.name)")
            if let decoded = expected.decoded { #expect(t.decode(expected.ids[i]) == decoded[i], "\(variant) case \(c.name) decoded") }
        }
    }

    // MARK: tokenizer_config.json

    @Test func configOfLlama3() throws {
        let c = try TokenizerLoader.config(folder: HFExpected.directory.appendingPathComponent("llama3").path)
        #expect(c.bosToken == "<|begin_of_text|>")
        #expect(c.eosToken == "<|eot_id|>")  // given as {"content": ...}
        #expect(c.addBOS == nil)
        #expect(c.chatTemplate == "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}")
        #expect(c.modelMaxLength == nil)  // transformers' 1e30 placeholder
    }

    @Test func chatTemplateJinjaTakesPrecedence() throws {
        let folder = HFExpected.directory.appendingPathComponent("qwen2")
        let c = try TokenizerLoader.config(folder: folder.path)
        let jinja = try String(contentsOf: folder.appendingPathComponent("chat_template.jinja"), encoding: .utf8)
        #expect(c.chatTemplate == jinja)
        #expect(c.chatTemplate?.hasPrefix("{% for message in messages %}") == true)
        #expect(c.bosToken == nil)
        #expect(c.eosToken == "<|im_end|>")
        #expect(c.padToken == "<|endoftext|>")
        #expect(c.addBOS == false)
        #expect(c.modelMaxLength == 131072)
        // The template renders with the chat template engine.
        let template = try ChatTemplate(source: try #require(c.chatTemplate))
        let prompt = try template.render(messages: [["role": .string("user"), "content": .string("hi")]],
                                         context: ["add_generation_prompt": .bool(true)])
        #expect(prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func configTemplateListTakesDefault() throws {
        let c = try TokenizerLoader.config(folder: HFExpected.directory.appendingPathComponent("llama2").path)
        #expect(c.chatTemplate == "default {{ messages }}")
        #expect(c.bosToken == "<s>")
        #expect(c.unkToken == "<unk>")
        #expect(c.addBOS == true)
        #expect(c.addEOS == false)
        #expect(c.modelMaxLength == 4096)
    }

    @Test func missingConfigIsEmpty() throws {
        let c = try TokenizerLoader.config(folder: HFExpected.directory.appendingPathComponent("metaspace-always").path)
        #expect(c == HFTokenizerConfig())
    }

    @Test func configOfMiniLM() throws {
        guard let folder = try TestModels.require(TestModels.minilm) else { return }
        let c = try TokenizerLoader.config(folder: folder)
        #expect(c.tokenizerClass == "BertTokenizer")
        #expect(c.unkToken == "[UNK]")
        #expect(c.padToken == "[PAD]")
        #expect(c.modelMaxLength == 512)
        #expect(c.chatTemplate == nil)
    }

    @Test func configAddBOSOverridesTemplate() throws {
        let folder = try TempFolder(copying: "gemma")
        try folder.write("tokenizer_config.json", #"{"add_bos_token": false, "bos_token": "<bos>"}"#)
        let t = try TokenizerLoader.load(folder: folder.path)
        #expect(t.addBOS == false)
        #expect(t.bos.map(t.tokenText) == "<bos>")
        // The post-processor still adds it, as `tokenizers` does.
        #expect(t.encodeWithSpecialTokens("hi").first == t.bos)
    }

    // MARK: errors

    @Test func missingTokenizerJSON() throws {
        let folder = try TempFolder()
        let e = try #require(throws: TokenizerError.self) { try TokenizerLoader.load(folder: folder.path) }
        #expect(e.description == "\(folder.path): no tokenizer.json in the folder")
    }

    @Test func malformedJSON() throws {
        let folder = try TempFolder()
        try folder.write("tokenizer.json", #"{"model": {"type": "BPE", "vocab": {"a": 0}"#)
        let e = try #require(throws: TokenizerError.self) { try TokenizerLoader.load(folder: folder.path) }
        #expect(e.description.hasPrefix("\(folder.path)/tokenizer.json: malformed JSON"))
        #expect(!e.description.contains("\n"))
    }

    @Test func malformedConfig() throws {
        let folder = try TempFolder(copying: "gpt2")
        try folder.write("tokenizer_config.json", "{\"bos_token\": ")
        let e = try #require(throws: TokenizerError.self) { try TokenizerLoader.config(folder: folder.path) }
        #expect(e.description.hasPrefix("\(folder.path)/tokenizer_config.json: malformed JSON"))
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(folder: folder.path) }
    }

    /// Each edit of a valid tokenizer.json and the error it must give (after "<path>/tokenizer.json: ").
    static let unsupported: [(style: String, edit: @Sendable (inout [String: Any]) -> Void, message: String)] = [
        ("gpt2", { j in j["model"] = ["type": "Unigram", "vocab": [["a", 0.0]]] },
         #"model: unsupported model type "Unigram" (supported: BPE, WordPiece)"#),
        ("llama2", { j in j["normalizer"] = ["type": "Precompiled", "precompiled_charsmap": "AA=="] },
         #"normalizer: unsupported normalizer type "Precompiled" (supported: BertNormalizer, Lowercase, NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence, Strip, StripAccents)"#),
        ("gpt2", { j in j["pre_tokenizer"] = ["type": "Whitespace"] },
         #"pre_tokenizer: unsupported pre-tokenizer type "Whitespace" (supported: BertPreTokenizer, ByteLevel, Digits, Metaspace, Sequence, Split, WhitespaceSplit)"#),
        ("gpt2", { j in j["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false] },
         #"pre_tokenizer.pattern: unsupported Split regex "\\w+" (supported: the GPT-2, Llama 3 and Qwen 2 patterns)"#),
        ("gpt2", { j in j["decoder"] = ["type": "CTC"] },
         #"decoder: unsupported decoder type "CTC" (supported: ByteFallback, ByteLevel, Fuse, Metaspace, Replace, Sequence, Strip, WordPiece)"#),
        ("gpt2", { j in j["post_processor"] = ["type": "Mystery"] },
         #"post_processor: unsupported post-processor type "Mystery" (supported: BertProcessing, ByteLevel, RobertaProcessing, Sequence, TemplateProcessing)"#),
        ("gpt2", { j in j["model"] = nil }, #"missing "model""#),
        ("gpt2", { j in
            var model = j["model"] as! [String: Any]
            model["vocab"] = ["a", "b"]
            j["model"] = model
        }, "model.vocab: expected an object"),
        ("gpt2", { j in
            j["added_tokens"] = [["id": 99_999_999, "content": "<big>", "special": true]]
        }, "added_tokens[0].id: token id 99999999 is out of range (0...16777216)"),
        ("llama2", { j in
            var model = j["model"] as! [String: Any]
            model["merges"] = [["▁t", "zzz"]]
            j["model"] = model
        }, #"model.merges[0]: merge token "zzz" is not in the vocabulary"#),
    ]

    @Test(arguments: 0..<unsupported.count)
    func unsupportedOrBrokenPartsAreNamed(index: Int) throws {
        let u = Self.unsupported[index]
        let folder = try TempFolder(copying: u.style)
        try folder.editTokenizerJSON(u.edit)
        let e = try #require(throws: TokenizerError.self) { try TokenizerLoader.load(folder: folder.path) }
        #expect(e.description == "\(folder.path)/tokenizer.json: \(u.message)")
    }
}

/// A temporary folder removed when the value goes away, optionally holding a copy of a fixture style.
final class TempFolder {
    let path: String

    init(copying style: String? = nil) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-hf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let style {
            let source = HFExpected.directory.appendingPathComponent(style)
            for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                try FileManager.default.copyItem(atPath: source.appendingPathComponent(name).path, toPath: path + "/" + name)
            }
        }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func editTokenizerJSON(_ edit: (inout [String: Any]) -> Void) throws {
        let file = path + "/tokenizer.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
