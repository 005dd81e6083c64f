// Text in, sentence embedding out, for the real all-MiniLM-L6-v2: the tokenizer.json ids and the
// pooled, normalized embedding of each fixture sentence match transformers (bert-minilm.json).
import Foundation
import Testing
import SwiftletRuntime
import SwiftletTestSupport

private struct Fixture: Decodable {
    struct Sentence: Decodable {
        let text: String
        let ids: [Int32]
        let embedding: [Float]
    }
    let sentences: [Sentence]
}

@Test func embedderMatchesTransformersFromText() throws {
    guard let folder = try TestModels.require(TestModels.minilm) else { return }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bert-minilm.json")
    let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    let embedder = try Embedder(path: folder, threads: 2)
    #expect(embedder.maxTokens == 256)
    // sentence-transformers cuts at 256 tokens; the fixture's longest case was cut at 512.
    let cases = fixture.sentences.filter { $0.ids.count <= embedder.maxTokens }
    #expect(cases.count >= 7)
    let vectors = try embedder.embed(cases.map(\.text))
    var worst = 1.0
    for (c, v) in zip(cases, vectors) {
        #expect(embedder.tokens(c.text) == c.ids, "ids of \"\(c.text.prefix(30))\"")
        worst = min(worst, zip(v, c.embedding).reduce(0.0) { $0 + Double($1.0) * Double($1.1) })
    }
    print("MiniLM from text: min cosine \(worst)")
    #expect(worst >= 0.9999)
    // A text past the limit is cut to 256 tokens, ending with [SEP] as the tokenizers library does.
    let long = embedder.tokens(String(repeating: "word ", count: 400))
    #expect(long.count == 256 && long.last == embedder.tokenizer.encodeWithSpecialTokens("x").last)
}
