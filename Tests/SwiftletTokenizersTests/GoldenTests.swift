// Token ids, decoded text and vocabulary facts must equal llama.cpp's for both real models.
import Foundation
import Testing
import SwiftletTokenizers

@Suite struct GoldenTests {
    static let models = ["smollm2", "gemma3"]

    @Test(arguments: models)
    func idsMatchLlamaCpp(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let golden = Golden.shared
        let expected = try #require(golden.models[model])
        for (i, c) in golden.cases.enumerated() {
            let ids = loaded.tokenizer.encode(c.text, parseSpecial: c.parse_special)
            #expect(ids == expected.ids[i], "\(model) case \(c.name)")
        }
    }

    @Test(arguments: models)
    func decodeMatchesLlamaCpp(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let golden = Golden.shared
        let expected = try #require(golden.models[model])
        for (i, c) in golden.cases.enumerated() {
            #expect(loaded.tokenizer.decode(expected.ids[i]) == expected.decoded[i], "\(model) case \(c.name)")
        }
    }

    @Test(arguments: models)
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
        print("\(model): tokenizer loaded in \(String(format: "%.3f", loaded.seconds)) s (GGUF metadata parse included)")
    }

    @Test(arguments: models)
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

    @Test(arguments: models)
    func encodeSpeed(model: String) throws {
        guard let loaded = try LoadedTokenizers.get(model) else { return }
        let t = loaded.tokenizer
        let text = String(repeating: Golden.shared.cases.map(\.text).joined(separator: "\n"), count: 40)
        let start = Date()
        let ids = t.encode(text, parseSpecial: true)
        let seconds = Date().timeIntervalSince(start)
        let mb = Double(text.utf8.count) / 1e6
        print("\(model): encoded \(text.utf8.count) bytes -> \(ids.count) tokens in \(String(format: "%.3f", seconds)) s "
              + "(\(String(format: "%.1f", mb / seconds)) MB/s)")
        #expect(ids.count > 0)
    }
}
