// BERT sentence embeddings against transformers: a tiny random checkpoint (always), all-MiniLM-L6-v2
// (when fetched), the encoder ops against their references, and one-line load/run errors.
// Fixtures come from scripts/make-bert-fixtures.py.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletKernels
import SwiftletModels
import SwiftletTestSupport

private let bertFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let tinyFolder = bertFixtures.appendingPathComponent("bert-tiny").path

private struct TinyExpected: Decodable {
    struct Case: Decodable {
        let ids: [Int32]
        let last_hidden_state: [Float]
        let embedding: [Float]
    }
    let cases: [Case]
}

private struct MiniLMExpected: Decodable {
    struct Sentence: Decodable {
        let text: String
        let ids: [Int32]
        let embedding: [Float]
    }
    let sentences: [Sentence]
}

private func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// max |a - b| / max |b|
private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max()! / b.map { abs($0) }.max()!
}

private func cosine(_ a: [Float], _ b: [Float]) -> Double {
    let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }, nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }
    return dot / (na * nb).squareRoot()
}

@Suite struct BertTests {
    let pool = ThreadPool(threads: 2)

    // MARK: Against transformers

    @Test func tinyModelMatchesTransformers() throws {
        let model = try BertModel.load(checkpoint: tinyFolder)
        #expect(model.sentence == SentenceEmbeddingConfig(pooling: .mean, normalize: true))
        let expected = try decode(TinyExpected.self, tinyFolder + "/expected.json")
        var worst: Float = 0
        for c in expected.cases {
            let hidden = try model.hiddenStates(tokens: c.ids, pool: pool)
            let embedding = try model.embed(tokens: c.ids, pool: pool)
            let eh = relativeError(hidden, c.last_hidden_state), ee = relativeError(embedding, c.embedding)
            #expect(eh < 1e-4, "ids \(c.ids): hidden states off by \(eh) (relative)")
            #expect(ee < 1e-4, "ids \(c.ids): embedding off by \(ee) (relative)")
            worst = max(worst, eh, ee)
        }
        print("bert-tiny: max relative error \(worst) over \(expected.cases.count) sequences")
        // One scratch for a batch gives the same vectors as fresh ones.
        let batch = try model.embed(batch: expected.cases.map(\.ids), pool: pool)
        for (c, e) in zip(expected.cases, batch) { #expect(e == (try model.embed(tokens: c.ids, pool: pool))) }
    }

    @Test func miniLMMatchesTransformers() throws {
        guard let folder = try TestModels.require(TestModels.minilm) else { return }
        let model = try BertModel.load(checkpoint: folder)
        #expect(model.sentence == SentenceEmbeddingConfig(pooling: .mean, normalize: true, maxSequenceLength: 256))
        #expect(model.dimension == 384)
        let expected = try decode(MiniLMExpected.self, bertFixtures.appendingPathComponent("bert-minilm.json").path)
        let scratch = model.makeScratch(maxTokens: expected.sentences.map(\.ids.count).max()!, threads: pool.threadCount)
        var worst = 1.0
        var timings: [String] = []
        for s in expected.sentences {
            _ = try model.embed(tokens: s.ids, scratch: scratch, pool: pool)  // warm
            let start = Date()
            let e = try model.embed(tokens: s.ids, scratch: scratch, pool: pool)
            timings.append(String(format: "%d tokens %.2f ms", s.ids.count, Date().timeIntervalSince(start) * 1000))
            let cos = cosine(e, s.embedding)
            #expect(cos >= 0.9999, "\"\(s.text.prefix(40))\": cosine \(cos) with transformers")
            worst = min(worst, cos)
        }
        print(String(format: "all-MiniLM-L6-v2: min cosine %.10f (1 - cos = %.2e) over %d sentences; ", worst, 1 - worst,
                     expected.sentences.count) + timings.joined(separator: ", "))
    }

    // MARK: Pooling choices

    @Test func poolingFollowsSentenceTransformersFiles() throws {
        let dir = try copyOfTiny()
        try FileManager.default.createDirectory(atPath: dir + "/1_Pooling", withIntermediateDirectories: true)
        try write(#"{"word_embedding_dimension": 32, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#, dir + "/1_Pooling/config.json")
        try write(#"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#, dir + "/modules.json")
        let model = try BertModel.load(checkpoint: dir)
        #expect(model.sentence == SentenceEmbeddingConfig(pooling: .cls, normalize: false))
        let ids: [Int32] = [2, 17, 5, 3]
        let hidden = try model.hiddenStates(tokens: ids, pool: pool)
        #expect(try model.embed(tokens: ids, pool: pool) == Array(hidden[0..<32]))

        try write(#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}"#, dir + "/1_Pooling/config.json")
        try expectError(containing: "pooling modes") { _ = try BertModel.load(checkpoint: dir) }
    }

    @Test func acceptsBertPrefixAndIgnoresHeads() throws {
        let tensors = try tinyTensors().map { ("bert." + $0.0, $0.1, $0.2) } + [("cls.predictions.bias", [100], [Float](repeating: 0, count: 100))]
        let dir = try folder(tensors)
        let ids: [Int32] = [2, 17, 5, 3]
        let a = try BertModel.load(checkpoint: dir).embed(tokens: ids, pool: pool)
        let b = try BertModel.load(checkpoint: tinyFolder).embed(tokens: ids, pool: pool)
        #expect(a == b)
    }

    // MARK: Errors

    @Test func missingExtraAndMisshapenTensorsAreNamed() throws {
        let all = try tinyTensors()
        let gone = "encoder.layer.1.attention.self.key.bias"
        try expectError(containing: "missing tensor \(gone)") {
            _ = try BertModel.load(checkpoint: try folder(all.filter { $0.0 != gone }))
        }
        let bent = all.map { $0.0 == gone ? ($0.0, [31], Array($0.2.prefix(31))) : $0 }
        try expectError(containing: "tensor \(gone) has shape [31], expected [32]") {
            _ = try BertModel.load(checkpoint: try folder(bent))
        }
        try expectError(containing: "unexpected tensor encoder.layer.2.output.dense.bias") {
            _ = try BertModel.load(checkpoint: try folder(all + [("encoder.layer.2.output.dense.bias", [32], [Float](repeating: 0, count: 32))]))
        }
    }

    @Test func unsupportedConfigurationsAreNamed() throws {
        let config = try String(contentsOfFile: tinyFolder + "/config.json", encoding: .utf8)
        for (key, from, to) in [("hidden_act gelu_new", #""hidden_act": "gelu""#, #""hidden_act": "gelu_new""#),
                                ("position_embedding_type relative_key", #""model_type""#, #""position_embedding_type": "relative_key", "model_type""#)] {
            let dir = try copyOfTiny()
            try write(config.replacingOccurrences(of: from, with: to), dir + "/config.json")
            try expectError(containing: key) { _ = try BertModel.load(checkpoint: dir) }
        }
    }

    @Test func tooLongAndBadInputsAreErrors() throws {
        let model = try BertModel.load(checkpoint: tinyFolder)
        try expectError(containing: "65 tokens exceed max_position_embeddings 64") {
            _ = try model.embed(tokens: [Int32](repeating: 5, count: 65), pool: pool)
        }
        _ = try model.embed(tokens: [Int32](repeating: 5, count: 64), pool: pool)
        try expectError(containing: "token id 100 is outside the vocabulary") { _ = try model.embed(tokens: [2, 100, 3], pool: pool) }
        try expectError(containing: "no tokens") { _ = try model.embed(tokens: [], pool: pool) }
    }

    // MARK: Ops against their references

    @Test func erfGeluMatchesLibm() {
        var worst: Float = 0
        var x: Float = -6
        while x < 6 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.000_37 })
            let e = EncoderOps.erf8(v)
            for i in 0..<8 { worst = max(worst, abs(e[i] - erff(v[i]))) }
            x += 0.003
        }
        #expect(worst < 1e-6, "erf off by \(worst)")
        var a: [Float] = (0..<37).map { Float($0) * 0.31 - 5.5 }
        let bias: [Float] = (0..<37).map { Float($0 % 5) * 0.1 }
        let ref = zip(a, bias).map { EncoderOps.gelu($0 + $1) }
        EncoderOps.biasGelu(&a, bias, 37)
        for (g, r) in zip(a, ref) { #expect(abs(g - r) <= 2e-6 * max(1, abs(r))) }
    }

    @Test func layerNormAndAttentionMatchReferences() {
        var rng = SplitMix64(seed: 5)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.next() >> 40) / Float(1 << 24) * 4 - 2 } }
        for n in [1, 7, 32, 45, 384] {
            let x = values(n).map { $0 + 3 }, w = values(n), b = values(n)
            var out = [Float](repeating: 0, count: n), ref = out
            EncoderOps.layerNorm(x, weight: w, bias: b, &out, n, eps: 1e-12)
            EncoderOps.referenceLayerNorm(x, weight: w, bias: b, &ref, n, eps: 1e-12)
            #expect(relativeError(out, ref) < 1e-5, "layerNorm n=\(n)")
        }
        for (tokens, headDim) in [(1, 8), (5, 32), (13, 24), (40, 64), (3, 5)] {
            let stride = headDim * 3
            let q = values(headDim), k = values(tokens * stride), v = values(tokens * stride)
            var scores = [Float](repeating: 0, count: tokens)
            var out = [Float](repeating: 0, count: headDim), ref = out
            EncoderOps.attention(q: q, k: k, v: v, stride: stride, headDim: headDim, keys: 0..<tokens, scale: 0.3,
                                 scores: &scores, out: &out)
            EncoderOps.referenceAttention(q: q, k: k, v: v, stride: stride, headDim: headDim, keys: 0..<tokens, scale: 0.3, out: &ref)
            #expect(relativeError(out, ref) < 1e-5, "attention tokens=\(tokens) headDim=\(headDim)")
        }
    }

    // MARK: Helpers

    /// The tiny checkpoint's tensors as (name, PyTorch shape, values).
    private func tinyTensors() throws -> [(String, [Int], [Float])] {
        let ck = try SafetensorsCheckpoint(path: tinyFolder)
        return ck.tensorNames.map { name in
            let info = ck.info(name)!, p = ck.data(name)!
            return (name, info.shape, (0..<info.elementCount).map { p.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) })
        }
    }

    /// A new folder with the tiny config.json and `tensors` as its model.safetensors.
    private func folder(_ tensors: [(String, [Int], [Float])]) throws -> String {
        let dir = try emptyFolder()
        try FileManager.default.copyItem(atPath: tinyFolder + "/config.json", toPath: dir + "/config.json")
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        return dir
    }

    private func copyOfTiny() throws -> String {
        let dir = try emptyFolder()
        for f in ["config.json", "model.safetensors"] { try FileManager.default.copyItem(atPath: tinyFolder + "/" + f, toPath: dir + "/" + f) }
        return dir
    }

    private func emptyFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    private func write(_ text: String, _ path: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }

    /// `body` throws one line containing `text`.
    private func expectError(containing text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        do {
            try body()
            Issue.record("expected an error containing \"\(text)\"", sourceLocation: sourceLocation)
        } catch {
            let message = "\(error)"
            #expect(message.contains(text), "error \"\(message)\" does not say \"\(text)\"", sourceLocation: sourceLocation)
            #expect(!message.contains("\n"), "error is not one line: \(message)", sourceLocation: sourceLocation)
        }
    }
}
