// swiftlet eval's library part on the tiny qwen2-chat checkpoint (it has a tokenizer.json): the base
// against itself, against a perturbed copy (checked by a plain recomputation from full logits), and
// against copies whose vocabulary or tokenizer differ.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletRuntime
import SwiftletTestSupport

private let fixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
private let base = fixtureFolder + "/hf/qwen2-chat"

/// The first `count` tokens of the English fixture text (the model's context is 256 positions).
private func sampleTokens(_ engine: Engine, count: Int = 300) throws -> [Int32] {
    let text = try String(contentsOfFile: fixtureFolder + "/english.txt", encoding: .utf8)
    return Array(engine.tokenize(text).prefix(count))
}

/// A copy of the fixture folder with its tensors, config.json and tokenizer.json edited.
private func editedCopy(tensors edit: (inout [(String, [Int], [Float])]) -> Void = { _ in },
                        config: (String) -> String = { $0 }, tokenizer: (String) -> String = { $0 }) throws -> String {
    let source = try SafetensorsCheckpoint(path: base)
    var tensors: [(String, [Int], [Float])] = source.tensorNames.map { name in
        let info = source.info(name)!
        let values = Array(UnsafeBufferPointer(start: source.data(name)!.assumingMemoryBound(to: Float.self), count: info.elementCount))
        return (name, info.shape, values)
    }
    edit(&tensors)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
    try config(String(contentsOfFile: base + "/config.json", encoding: .utf8)).write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    try tokenizer(String(contentsOfFile: base + "/tokenizer.json", encoding: .utf8)).write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(atPath: base + "/tokenizer_config.json", toPath: dir + "/tokenizer_config.json")
    return dir
}

/// Every weight scaled by a random factor in [0.9, 1.1].
private func perturbedCopy() throws -> String {
    var rng = SplitMix64(seed: 7)
    return try editedCopy(tensors: { tensors in
        for t in tensors.indices {
            tensors[t].2 = tensors[t].2.map { $0 * Float.random(in: 0.9...1.1, using: &rng) }
        }
    })
}

private var smallBench: EvaluationOptions {
    var o = EvaluationOptions()
    o.context = 64
    o.maxTokens = 300
    o.benchPrompt = 8
    o.benchGen = 4
    o.benchReps = 1
    o.threads = 2
    return o
}

@Test func baseAgainstItselfHasNoDivergence() throws {
    let engine = try Engine(path: base, threads: 2)
    let again = try Engine(path: base, threads: 2)
    let tokens = try sampleTokens(engine)
    let c = try engine.compare(with: again, tokens: tokens, context: 64)
    let reference = try engine.perplexity(tokens: tokens, context: 64)
    #expect(abs(c.kl) < 1e-9)
    #expect(c.top1Agreement == 1)
    #expect(c.tokensScored == reference.tokensScored && c.tokensScored == tokens.count - 5)  // 5 windows
    #expect(c.basePerplexity == c.candidatePerplexity)
    #expect(abs(c.basePerplexity / reference.perplexity - 1) < 1e-8)
}

@Test func perturbedCandidateMatchesAPlainRecomputation() throws {
    let copy = try perturbedCopy()
    defer { try? FileManager.default.removeItem(atPath: copy) }
    let engine = try Engine(path: base, threads: 2)
    let candidate = try Engine(path: copy, threads: 2)
    let tokens = try sampleTokens(engine)
    var windowsSeen: [Int] = []
    // Windows of 128 tokens, each evaluated in two slices by the comparison, at once by the recomputation.
    #expect(Engine.comparisonSlice < 128)
    let c = try engine.compare(with: candidate, tokens: tokens, context: 128) { done, _ in windowsSeen.append(done) }
    #expect(windowsSeen == [0, 1, 2, 3])

    // Full logits of each window from both models, softmax probabilities, KL = sum p log(p / q).
    var kl = 0.0, agree = 0, nllBase = 0.0, nllCandidate = 0.0, n = 0
    for start in stride(from: 0, to: tokens.count - 1, by: 128) {
        let window = Array(tokens[start..<min(tokens.count, start + 128)])
        let p = try engine.logits(tokens: window, all: true).map(softmax)
        let q = try candidate.logits(tokens: window, all: true).map(softmax)
        for i in 0..<(window.count - 1) {
            kl += klDivergence(p[i], q[i])
            if argmax(p[i]) == argmax(q[i]) { agree += 1 }
            nllBase -= log(p[i][Int(window[i + 1])])
            nllCandidate -= log(q[i][Int(window[i + 1])])
            n += 1
        }
    }
    #expect(c.tokensScored == n)
    print("perturbed copy: kl \(c.kl), top-1 \(c.top1Agreement), perplexity \(c.basePerplexity) -> \(c.candidatePerplexity)")
    #expect(c.kl > 0.01 && c.top1Agreement < 1, "the perturbation should change the distributions: kl \(c.kl), top-1 \(c.top1Agreement)")
    #expect(abs(c.kl - kl / Double(n)) < 1e-9 * max(1, kl / Double(n)))
    #expect(c.top1Agreement == Double(agree) / Double(n))
    #expect(abs(c.basePerplexity / exp(nllBase / Double(n)) - 1) < 1e-9)
    #expect(abs(c.candidatePerplexity / exp(nllCandidate / Double(n)) - 1) < 1e-9)
}

@Test func evaluationReportsEveryModel() throws {
    let copy = try perturbedCopy()
    defer { try? FileManager.default.removeItem(atPath: copy) }
    let text = try String(contentsOfFile: fixtureFolder + "/english.txt", encoding: .utf8)
    var phases: [EvaluationProgress.Phase] = []
    let results = try Evaluation(base: base, candidates: [copy, base], options: smallBench).run(text: text) { p in
        if phases.last != p.phase { phases.append(p.phase) }
    }
    #expect(phases == [.speed, .quality])
    #expect(results.map(\.role) == [.base, .candidate, .candidate])
    let size = try FileManager.default.attributesOfItem(atPath: base + "/model.safetensors")[.size] as! Int
    #expect(results[0].sizeBytes == Int64(size) && results[2].sizeBytes == Int64(size))
    #expect(results[0].kl == 0 && results[0].top1Agreement == 1 && results[0].tokensScored == 295)
    #expect(results[2].kl! < 1e-9 && results[2].top1Agreement == 1 && results[2].perplexity == results[0].perplexity)
    #expect(results[1].kl! > 0.01 && results[1].top1Agreement! < 1 && results[1].perplexity != results[0].perplexity)
    for r in results {
        #expect(r.prefillTokS! > 0 && r.decodeTokS! > 0 && r.peakRssMB > 0 && r.cosine == nil)
    }
    let json = String(decoding: try JSONEncoder().encode(results), as: UTF8.self)
    for key in ["\"top1_agreement\"", "\"tokens_scored\"", "\"size_bytes\"", "\"prefill_tok_s\"", "\"peak_rss_mb\"", "\"role\":\"base\""] {
        #expect(json.contains(key), "\(key) in \(json.prefix(300))")
    }
    #expect(!json.contains("cosine"))
}

@Test func mismatchedVocabulariesAreClearErrors() throws {
    // The same tokenizer, but the embedding rows padded to 704: the distributions have different lengths.
    let padded = try editedCopy(tensors: { tensors in
        let e = tensors.firstIndex { $0.0 == "model.embed_tokens.weight" }!
        tensors[e].1[0] += 2
        tensors[e].2 += [Float](repeating: 0, count: 2 * tensors[e].1[1])
    }, config: { $0.replacingOccurrences(of: "\"vocab_size\": 702", with: "\"vocab_size\": 704") })
    // The same weights, but a tokenizer without merges: the text becomes other tokens.
    let retokenized = try editedCopy(tokenizer: { json in
        var tokenizer = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        var model = tokenizer["model"] as! [String: Any]
        model["merges"] = [Any]()
        tokenizer["model"] = model
        return String(decoding: try! JSONSerialization.data(withJSONObject: tokenizer), as: UTF8.self)
    })
    defer {
        try? FileManager.default.removeItem(atPath: padded)
        try? FileManager.default.removeItem(atPath: retokenized)
    }
    let text = try String(contentsOfFile: fixtureFolder + "/english.txt", encoding: .utf8)
    #expect { _ = try Evaluation(base: base, candidates: [padded], options: smallBench).run(text: text) } throws: {
        "\($0)".contains("has a vocabulary of 704 tokens and the base \(base) 702") && "\($0)".contains("cannot be compared (KL)")
    }
    #expect { _ = try Evaluation(base: base, candidates: [retokenized], options: smallBench).run(text: text) } throws: {
        "\($0)".contains("tokenizes the text differently from the base")
    }
    let engine = try Engine(path: base, threads: 2)
    #expect { _ = try engine.compare(with: Engine(path: padded, threads: 2), tokens: try sampleTokens(engine), context: 64) } throws: {
        "\($0)".contains("has a vocabulary of 704 tokens")
    }
}

@Test func missingModelsShortTextsAndMixedKindsAreClearErrors() throws {
    #expect { _ = try Evaluation(base: base, candidates: ["/nonexistent/model.gguf"]).run(text: "Hello there, world.") } throws: {
        "\($0)".contains("/nonexistent/model.gguf: no such model file or checkpoint folder")
    }
    #expect { _ = try Evaluation(base: base, candidates: [base], options: smallBench).run(text: "a") } throws: {
        "\($0)".contains("at least 2 are needed")
    }
    let bert = FileManager.default.temporaryDirectory.appendingPathComponent("eval-bert-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: bert, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: bert) }
    try #"{"model_type": "bert"}"#.write(toFile: bert + "/config.json", atomically: true, encoding: .utf8)
    #expect { _ = try Evaluation(base: base, candidates: [bert]).run(text: "Hello there, world.") } throws: {
        "\($0)".contains("is an embedding model and the base \(base) a text generator")
    }
}

@Test func embeddingModelAgainstItself() throws {
    guard let minilm = try TestModels.require(TestModels.minilm) else { return }
    let text = try String(contentsOfFile: fixtureFolder + "/english.txt", encoding: .utf8)
    var options = EvaluationOptions()
    options.threads = 2
    var phases: Set<EvaluationProgress.Phase> = []
    let results = try Evaluation(base: minilm, candidates: [minilm], options: options).run(text: text) { phases.insert($0.phase) }
    #expect(phases == [.embedding])
    #expect(results[1].cosine! > 1 - 1e-6 && results[1].cosineMin! > 1 - 1e-6)
    let lines = text.split(whereSeparator: \.isNewline).filter { line in line.contains { !$0.isWhitespace } }
    #expect(results[1].texts == lines.count)
    for r in results {
        #expect(r.embedPerS! > 0 && r.peakRssMB > 0)
        #expect(r.perplexity == nil && r.kl == nil)
    }
    let json = String(decoding: try JSONEncoder().encode(results), as: UTF8.self)
    #expect(json.contains("\"cosine_min\"") && json.contains("\"embed_per_s\"") && !json.contains("perplexity"))
}

private func softmax(_ row: [Float]) -> [Double] {
    let m = Double(row.max()!)
    let e = row.map { exp(Double($0) - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// sum p log(p / q), terms with p = 0 left out.
private func klDivergence(_ p: [Double], _ q: [Double]) -> Double {
    var sum = 0.0
    for (a, b) in zip(p, q) where a > 0 { sum += a * log(a / b) }
    return sum
}

private func argmax(_ row: [Double]) -> Int {
    var best = 0
    for i in row.indices where row[i] > row[best] { best = i }
    return best
}
