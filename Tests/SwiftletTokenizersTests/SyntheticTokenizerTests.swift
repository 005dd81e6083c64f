// Tokenizers built from tiny GGUF files written by the test: no model needed, so these run everywhere.
import Foundation
import Testing
import SwiftletFormats
import SwiftletTokenizers

@Suite struct SyntheticTokenizerTests {
    @Test func unknownTokenizerModelIsAClearError() throws {
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("wordpiece-9000")),
            ("tokenizer.ggml.tokens", .strings(["a", "b"])),
        ])
        let error = #expect(throws: TokenizerError.self) { try TokenizerLoader.load(gguf: gguf) }
        #expect(error?.description.contains("wordpiece-9000") == true)
        #expect(error?.description.contains("gpt2") == true)
    }

    @Test func unknownPreTokenizerIsAClearError() throws {
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("no-such-pre")),
            ("tokenizer.ggml.tokens", .strings(["a", "b"])),
            ("tokenizer.ggml.merges", .strings(["a b"])),
        ])
        let error = #expect(throws: TokenizerError.self) { try TokenizerLoader.load(gguf: gguf) }
        #expect(error?.description.contains("no-such-pre") == true)
        #expect(error?.description.contains("smollm") == true)
    }

    @Test func missingTokenListIsAnError() throws {
        let gguf = try TinyGGUF.write([("tokenizer.ggml.model", .string("llama"))])
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(gguf: gguf) }
    }

    /// Lower merge ranks win even when a higher-ranked pair comes first in the word.
    @Test func byteLevelMergesFollowRank() throws {
        let tokens = ["<|end|>", "a", "b", "c", "Ġ", "ab", "abc", "Ġa", "Ġab"]
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("gpt-2")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .int32s([3, 1, 1, 1, 1, 1, 1, 1, 1])),
            ("tokenizer.ggml.merges", .strings(["a b", "ab c", "Ġ a", "Ġa b"])),
            ("tokenizer.ggml.eos_token_id", .uint32(0)),
        ])
        let t = try TokenizerLoader.load(gguf: gguf)
        let id = { (s: String) in Int32(tokens.firstIndex(of: s)!) }
        // "abc" -> a b c -> ab c -> abc;  " ab" -> Ġ a b -> (a b ranks first) Ġ ab, and "Ġ ab" is no merge.
        #expect(t.encode("abc ab", parseSpecial: false) == [id("abc"), id("Ġ"), id("ab")])
        #expect(t.encode("ab<|end|>c", parseSpecial: true) == [id("ab"), 0, id("c")])
        #expect(t.decode([id("abc"), id("Ġ"), id("ab"), 0]) == "abc ab")
        #expect(t.decode([0], renderSpecial: true) == "<|end|>")
        #expect(t.isEndOfGeneration(0))
    }

    /// Digit grouping and whole-word lookups differ between pre-tokenizers; SmolLM2's vocabulary (single
    /// digits only, every word reachable by merges) cannot show it, so this vocabulary is made for it.
    @Test(arguments: [
        ("gpt-2", ["1234", "5", "67", "Ġ", "x", "y"]),
        ("llama-bpe", ["123", "456", "7", "Ġxy"]),
        ("qwen2", ["1", "2", "3", "4", "5", "6", "7", "Ġ", "x", "y"]),
        ("smollm", ["1", "2", "3", "4", "5", "6", "7", "Ġ", "x", "y"]),
        ("default", ["123", "456", "7", "Ġ", "x", "y"]),
    ])
    func preTokenizersGroupDigitsAndWords(pre: String, expected: [String]) throws {
        let tokens = ["1", "2", "3", "4", "5", "6", "7", "12", "123", "1234", "45", "456", "4567", "67",
                      "Ġ", "x", "y", "Ġxy"]
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.merges", .strings(["1 2", "12 3", "123 4", "4 5", "45 6", "456 7", "6 7"])),
        ])
        let t = try TokenizerLoader.load(gguf: gguf)
        // gpt-2: one word, merged by rank. llama-bpe: \p{N}{1,3} groups, and " xy" is a token so it skips
        // the (missing) merges. qwen2/smollm: digits one by one. default: [0-9]{3} groups after \p{N}+.
        #expect(t.encode("1234567 xy", parseSpecial: false) == expected.map { Int32(tokens.firstIndex(of: $0)!) })
    }

    @Test func sentencePieceMergesByScoreWithByteFallback() throws {
        var tokens = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "▁ab"]
        var scores: [Float] = [0, 0, 0, -1, -2, -2, -3, -1.5, -0.5]
        var types: [Int32] = [2, 3, 3, 1, 1, 1, 1, 1, 1]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            scores.append(0)
            types.append(6)
        }
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.scores", .float32s(scores)),
            ("tokenizer.ggml.token_type", .int32s(types)),
        ])
        let t = try TokenizerLoader.load(gguf: gguf)
        let id = { (s: String) in Int32(tokens.firstIndex(of: s)!) }
        // add_space_prefix defaults to true: "ab" is "▁ab". "ab" (-1.5) merges before "▁a" (-3).
        #expect(t.encode("ab", parseSpecial: false) == [id("▁ab")])
        #expect(t.encode("ba", parseSpecial: false) == [id("▁"), id("b"), id("a")])
        // "é" has no token: its two UTF-8 bytes become <0xC3> <0xA9>.
        #expect(t.encode("é", parseSpecial: false) == [id("▁"), id("<0xC3>"), id("<0xA9>")])
        #expect(t.decode([id("▁ab"), id("▁"), id("<0xC3>"), id("<0xA9>")]) == "ab é")
        #expect(t.addBOS && t.bos == 1 && t.eos == 2)
    }

    @Test func streamingHoldsBackPartialCharacters() throws {
        var tokens = ["<unk>", "<s>", "</s>"]
        for b in 0..<256 { tokens.append(String(format: "<0x%02X>", b)) }
        let gguf = try TinyGGUF.write([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .int32s([2, 3, 3] + [Int32](repeating: 6, count: 256))),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
        ])
        let t = try TokenizerLoader.load(gguf: gguf)
        let byte = { (b: UInt8) in Int32(3 + Int(b)) }
        var s = StreamingDetokenizer(tokenizer: t)
        // "😀" = F0 9F 98 80, then "A", then a lone continuation byte and a cut-off sequence.
        #expect(s.append(byte(0xF0)) == "")
        #expect(s.append(byte(0x9F)) == "")
        #expect(s.append(byte(0x98)) == "")
        #expect(s.append(byte(0x80)) == "😀")
        #expect(s.append(byte(0x41)) == "A")
        #expect(s.append(byte(0x80)) == "\u{FFFD}")  // invalid: emitted (replaced) at once, not held
        #expect(s.append(byte(0xE2)) == "")
        #expect(s.flush() == "\u{FFFD}")
        #expect(s.append(1) == "")  // control tokens render as nothing
    }
}

/// Writes a GGUF v3 file holding only metadata, and opens it.
enum TinyGGUF {
    enum Value {
        case string(String), strings([String]), int32s([Int32]), float32s([Float]), uint32(UInt32), bool(Bool)
    }

    static func write(_ kvs: [(String, Value)]) throws -> GGUFFile {
        var d = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        u32(3)
        u64(0)
        u64(UInt64(kvs.count))
        for (key, value) in kvs {
            str(key)
            switch value {
            case .string(let s): u32(8); str(s)
            case .strings(let a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
            case .int32s(let a): u32(9); u32(5); u64(UInt64(a.count)); a.forEach { u32(UInt32(bitPattern: $0)) }
            case .float32s(let a): u32(9); u32(6); u64(UInt64(a.count)); a.forEach { u32($0.bitPattern) }
            case .uint32(let v): u32(4); u32(v)
            case .bool(let b): u32(7); d.append(b ? 1 : 0)
            }
        }
        while d.count % 32 != 0 { d.append(0) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftlet-tok-\(UUID().uuidString).gguf").path
        try d.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }
}
