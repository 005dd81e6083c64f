// Embedding models against their base: cosine similarity of the embeddings of the text's lines,
// measured in the same pass as speed and memory (one model loaded at a time).
import Foundation

extension Evaluation {
    /// Texts embedded per call (and per progress step).
    static let embeddingBatch = 16

    /// What embedding models are compared on: the text's non-empty lines, trimmed (each cut to the
    /// model's input limit as `Embedder` does).
    static func embeddingTexts(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func evaluateEmbedders(text: String, into results: inout [ModelEvaluation],
                           progress: (EvaluationProgress) -> Void) throws {
        let texts = Self.embeddingTexts(text)
        guard !texts.isEmpty else { throw RuntimeError("the text has no non-empty lines to embed") }
        var baseVectors: [[Float]] = []
        for (i, path) in paths.enumerated() {
            ProcessMemory.releaseFreeMemory()
            ProcessMemory.resetPeak()
            let (vectors, seconds) = try embed(texts, with: path) { done in
                progress(EvaluationProgress(phase: .embedding, model: path, index: i, models: paths.count, step: done, total: texts.count))
            }
            results[i].peakRssMB = ProcessMemory.peakResidentMB()
            results[i].embedPerS = Double(texts.count) / max(seconds, 1e-9)
            results[i].texts = texts.count
            if i == 0 {
                baseVectors = vectors
                results[i].cosine = 1
                results[i].cosineMin = 1
                continue
            }
            guard vectors[0].count == baseVectors[0].count else {
                throw RuntimeError("\(path) makes embeddings of \(vectors[0].count) dimensions and the base \(base) \(baseVectors[0].count): they cannot be compared")
            }
            let similarities = zip(vectors, baseVectors).map { cosineSimilarity($0, $1) }
            results[i].cosine = similarities.reduce(0, +) / Double(similarities.count)
            results[i].cosineMin = similarities.min()
        }
        ProcessMemory.releaseFreeMemory()
    }

    /// Embeddings of `texts` and the seconds they took (tokenizing included, loading not); the model
    /// is released on return. `progress(textsDone)` after each batch.
    func embed(_ texts: [String], with path: String, progress: (Int) -> Void) throws -> (vectors: [[Float]], seconds: Double) {
        let embedder = try Embedder(path: path, threads: options.threads)
        var vectors: [[Float]] = []
        progress(0)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: texts.count, by: Self.embeddingBatch) {
            vectors += try embedder.embed(Array(texts[start..<min(texts.count, start + Self.embeddingBatch)]))
            progress(vectors.count)
        }
        return (vectors, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
}

/// cos(a, b) in double precision; vectors of norm 0 are similar to nothing.
func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, aa = 0.0, bb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        aa += Double(x) * Double(x)
        bb += Double(y) * Double(y)
    }
    return aa > 0 && bb > 0 ? dot / (aa.squareRoot() * bb.squareRoot()) : 0
}
