// Token ids, decoded text and vocabulary facts must equal llama.cpp's for both real models.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletTestSupport
import SwiftletTokenizers

@Suite struct GoldenTests {
    static let models = ["smollm2", "gemma3"]
    /// The real models plus SmolLM2's vocabulary under the other byte-level pre-tokenizers.
    static let allVariants = Golden.shared.models.keys.sorted()

    @Test(arguments: allVariants)
    func idsMatchLlamaCpp(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let golden = Golden.shared
        let expected = try #require(golden.models[model])
        try #require(expected.ids.count == golden.cases.count)
        for (i, c) in golden.cases.enumerated() {
            let ids = loaded.tokenizer.encode(c.text, parseSpecial: c.parse_special)
            #expect(ids == expected.ids[i], "\(model) case \(c.name)")
        }
    }

    @Test(arguments: models)
    func decodeMatchesLlamaCpp(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let golden = Golden.shared
        let decoded = try #require(golden.models[model]?.decoded)
        let ids = try #require(golden.models[model]?.ids)
        for (i, c) in golden.cases.enumerated() {
            #expect(loaded.tokenizer.decode(ids[i]) == decoded[i], "\(model) case \(c.name)")
        }
    }

    @Test(arguments: allVariants)
    func vocabularyFacts(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let t = loaded.tokenizer
        let expected = try #require(Golden.shared.models[model])
        #expect(t.vocabularySize == expected.vocabulary_size)
        #expect(t.bos == expected.bos)
        #expect(t.eos == expected.eos)
        #expect(t.addBOS == expected.add_bos)
        #expect(t.endOfGeneration == Set(expected.eog))
        // Which of several end-of-turn candidates llama.cpp calls "eot" depends on its hash-map order;
        // what matters is that ours ends generation.
        if let eot = t.eot { #expect(t.isEndOfGeneration(eot)) }
        let prompt = t.encode("hi", addSpecial: true, parseSpecial: true)
        #expect(prompt == (expected.add_bos ? [expected.bos!] : []) + t.encode("hi", parseSpecial: true))
        if loaded.seconds > 0 { print("\(model): tokenizer loaded in \(String(format: "%.3f", loaded.seconds)) s (GGUF metadata parse included)") }
    }

    @Test(arguments: allVariants)
    func decodeInvertsEncode(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        for c in Golden.shared.cases {
            let ids = loaded.tokenizer.encode(c.text, parseSpecial: false)
            #expect(loaded.tokenizer.decode(ids) == c.text, "\(model) case \(c.name)")
        }
    }

    @Test(arguments: models)
    func streamingDetokenizerEmitsWholeCharacters(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let t = loaded.tokenizer
        for name in ["emoji", "cjk", "combining", "mixed-scripts", "private-and-rare", "prose"] {
            let text = try #require(Golden.shared.cases.first { $0.name == name }).text
            let ids = t.encode(text, parseSpecial: false)
            var stream = StreamingDetokenizer(tokenizer: t)
            var chunks: [String] = []
            for id in ids { chunks.append(stream.append(id)) }
            chunks.append(stream.flush())
            for chunk in chunks { #expect(!chunk.unicodeScalars.contains("\u{FFFD}"), "\(model) \(name): broken chunk") }
            #expect(chunks.joined() == t.decode(ids), "\(model) \(name)")
            #expect(chunks.joined() == text, "\(model) \(name)")
        }
    }

    @Test func gemmaSplitsEmojiIntoByteTokens() throws {
        // Byte-fallback pieces are single bytes; the stream must hold them until the character is whole.
        guard let loaded = try LoadedTokenizers.get("gemma3") else { return }
        let t = loaded.tokenizer
        let ids = t.encode("\u{10348}", parseSpecial: false)  // a rare character: no token of its own
        #expect(ids.count == 4)
        var stream = StreamingDetokenizer(tokenizer: t)
        let out = ids.map { stream.append($0) }
        #expect(out == ["", "", "", "\u{10348}"])
        #expect(stream.flush() == "")
    }

    /// Load and encode timings (printed; the bounds only catch pathological slowness).
    @Test(arguments: models)
    func speed(model: String) throws {
        guard try LoadedTokenizers.get(model) != nil else { return }
        let path = model == "gemma3" ? TestModels.gemma3 : TestModels.smollm2
        var clock = Date()
        let gguf = try GGUFFile(path: path)
        let parse = Date().timeIntervalSince(clock)
        clock = Date()
        let t = try TokenizerLoader.load(gguf: gguf)
        let build = Date().timeIntervalSince(clock)

        // ~1 MB of varied text: words rarely repeat, so the per-call word cache helps little.
        // SWIFTLET_TOKENIZER_BENCH_TEXT names a file to use instead (to compare with the peer on the same text).
        var rng = SplitMix64(seed: 7)
        let pieces = Golden.shared.cases.map(\.text).filter { !$0.isEmpty }
        var text = ProcessInfo.processInfo.environment["SWIFTLET_TOKENIZER_BENCH_TEXT"]
            .flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        while text.utf8.count < 1_000_000 {
            text += pieces[Int(rng.next() % UInt64(pieces.count))]
            text += " w\(rng.next() % 100_000)x\(rng.next() % 977) "
        }
        clock = Date()
        let ids = t.encode(text, parseSpecial: true)
        let encode = Date().timeIntervalSince(clock)
        clock = Date()
        let back = t.decodeBytes(ids)
        let decode = Date().timeIntervalSince(clock)
        let mb = Double(text.utf8.count) / 1e6
        print("\(model): GGUF parse \(ms(parse)), tokenizer build \(ms(build)); encode \(text.utf8.count) bytes -> "
              + "\(ids.count) tokens in \(ms(encode)) (\(String(format: "%.1f", mb / encode)) MB/s, "
              + "\(Int(Double(ids.count) / encode)) tokens/s); decode \(ms(decode))")
        #expect(back.count > 0)
        #expect(build < 5 && encode < 10)
    }

    /// Long runs (one huge pre-token, or thousands of overlapping special-token occurrences) stay fast
    /// and still invert.
    @Test(arguments: models)
    func pathologicalInputs(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let t = loaded.tokenizer
        let n = 100_000
        for (name, text) in [("spaces", String(repeating: " ", count: n)), ("newlines", String(repeating: "\n", count: n)),
                             ("tabs", String(repeating: "\t", count: n)), ("letters", String(repeating: "a", count: n)),
                             ("digits", String(repeating: "7", count: n)), ("emoji", String(repeating: "🙂", count: n / 4)),
                             ("brackets", String(repeating: "<", count: n)),
                             ("specials", String(repeating: "<|im_end|><end_of_turn>", count: n / 24))] {
            let clock = Date()
            let ids = t.encode(text, parseSpecial: false)
            let seconds = Date().timeIntervalSince(clock)
            print("\(model) \(name): \(text.utf8.count) bytes -> \(ids.count) tokens in \(ms(seconds))")
            #expect(seconds < 2, "\(model) \(name)")
            #expect(t.decode(ids) == text, "\(model) \(name)")
        }
    }

    private func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }
}


