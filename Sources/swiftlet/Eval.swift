// swiftlet eval: optimized models (quantized, pruned) against their base on one text, as a table or JSON.
import ArgumentParser
import Foundation
import SwiftletRuntime
#if canImport(Glibc)
import Glibc
#endif

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare optimized models with their base on a text: quality, size, speed and peak memory.",
        discussion: """
            Text generators: perplexity, KL(base || candidate) and top-1 agreement of the next-token \
            distributions, size, prefill/decode tok/s and peak RSS. Embedding models (BERT checkpoint \
            folders): cosine similarity to the base's embeddings of the text's non-empty lines, size, \
            embeddings/s and peak RSS. Each model is benchmarked alone; quality runs the base with one \
            candidate at a time.
            """)
    @Argument(help: "The base model: a GGUF file or a checkpoint folder.") var base: String
    @Argument(help: "Models to compare with the base (same tokenizer).") var candidates: [String] = []
    @Option(help: "A UTF-8 text file to evaluate on.") var file: String
    @Option(help: "Window length in tokens for perplexity and KL.") var ctx = 512
    @Option(help: "Most tokens of the text to score (default: all).") var tokens: Int?
    @Flag(help: "Prepend the BOS token to the text.") var bos = false
    @Option(help: "Prompt tokens for the prefill speed.") var prompt = 128
    @Option(help: "Tokens decoded for the decode speed.") var gen = 64
    @Option(help: "Speed repetitions (medians are reported).") var reps = 3
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Most prompt tokens evaluated in one batch.") var batchSize = 512
    @Flag(help: "Print a JSON array, one object per model, instead of a table.") var json = false

    func validate() throws {
        if candidates.isEmpty { throw ValidationError("give at least one candidate model after the base") }
        if ctx < 2 { throw ValidationError("--ctx must be at least 2") }
        if let t = tokens, t < 2 { throw ValidationError("--tokens must be at least 2") }
        if prompt < 1 || gen < 1 || reps < 1 { throw ValidationError("--prompt, --gen and --reps must be >= 1") }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256") }
        if batchSize < 1 || batchSize > 8192 { throw ValidationError("--batch-size must be in 1...8192") }
    }

    func run() throws {
        let text = try readText(file)
        var options = EvaluationOptions()
        options.context = ctx
        options.maxTokens = tokens
        options.bos = bos
        options.benchPrompt = prompt
        options.benchGen = gen
        options.benchReps = reps
        options.threads = threads
        options.maxBatch = batchSize
        let reporter = ProgressReporter()
        let results: [ModelEvaluation]
        do {
            results = try Evaluation(base: base, candidates: candidates, options: options).run(text: text, progress: reporter.update)
        } catch {
            reporter.finish(nil)
            throw error
        }
        reporter.finish("evaluated \(results.count) models")
        if json {
            try printJSON(results)
        } else {
            print(Self.table(results))
        }
    }

    /// One row per model, the base first; ratios and changes are against the base.
    static func table(_ results: [ModelEvaluation]) -> String {
        guard let base = results.first else { return "" }
        let name = { (r: ModelEvaluation) in URL(fileURLWithPath: r.model).lastPathComponent + (r.role == .base ? " (base)" : "") }
        let mb = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_048_576) }
        let ratio = { (x: Double?, b: Double?) -> String in
            guard let x, let b, b > 0 else { return "-" }
            return String(format: "%.2fx", x / b)
        }
        let number = { (x: Double?, format: String) in x.map { String(format: format, $0) } ?? "-" }
        let size = { (r: ModelEvaluation) in [mb(r.sizeBytes), ratio(Double(r.sizeBytes), Double(base.sizeBytes))] }
        if base.cosine != nil {
            let header = ["model", "size MB", "x base", "cosine", "min cosine", "embed/s", "x base", "peak RSS MB"]
            let rows = results.map { r in
                [name(r)] + size(r) + [number(r.cosine, "%.6f"), number(r.cosineMin, "%.6f"),
                                       number(r.embedPerS, "%.1f"), ratio(r.embedPerS, base.embedPerS), number(r.peakRssMB, "%.1f")]
            }
            return renderTable(header, rows)
        }
        let header = ["model", "size MB", "x base", "perplexity", "change", "KL", "top-1",
                      "prefill tok/s", "x base", "decode tok/s", "x base", "peak RSS MB"]
        let rows = results.map { r -> [String] in
            var change = "-"
            if let p = r.perplexity, let b = base.perplexity { change = String(format: "%+.2f%%", (p / b - 1) * 100) }
            return [name(r)] + size(r) + [
                number(r.perplexity, "%.4f"), change, number(r.kl, "%.5f"), number(r.top1Agreement.map { $0 * 100 }, "%.2f%%"),
                number(r.prefillTokS, "%.1f"), ratio(r.prefillTokS, base.prefillTokS),
                number(r.decodeTokS, "%.1f"), ratio(r.decodeTokS, base.decodeTokS), number(r.peakRssMB, "%.1f"),
            ]
        }
        return renderTable(header, rows) + "\n\(base.tokensScored ?? 0) tokens scored; KL(base || model) in nats per token"
    }
}

/// Columns padded to their widest cell: the first left-aligned, the rest right-aligned.
func renderTable(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { c, cell in
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            return c == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// Progress on standard error: a bar redrawn in place on a terminal, one plain line per model and
/// phase otherwise.
final class ProgressReporter {
    let isTerminal = isatty(2) != 0
    let start = DispatchTime.now().uptimeNanoseconds
    var lastLine = ""

    func update(_ p: EvaluationProgress) {
        let label: String
        switch p.phase {
        case .speed: label = "speed and memory"
        case .quality: label = "quality vs base"
        case .embedding: label = "embedding"
        }
        let line = "\(label) \(p.index + 1)/\(p.models): \(URL(fileURLWithPath: p.model).lastPathComponent)"
        if isTerminal {
            let width = 20, filled = p.total > 0 ? width * p.step / p.total : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let unit = p.phase == .quality ? " windows" : p.phase == .embedding ? " texts" : ""
            write("\r\u{1B}[K" + String(format: "%6.1f s  ", elapsed) + "\(line) [\(bar)] \(p.step)/\(p.total)\(unit)")
        } else if line != lastLine {
            write(String(format: "%6.1f s  ", elapsed) + line + "\n")
        }
        lastLine = line
    }

    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Clears the bar and says how long it all took.
    func finish(_ message: String?) {
        if isTerminal { write("\r\u{1B}[K") }
        if let message {
            write(String(format: "%6.1f s  ", elapsed) + message + "\n")
        }
    }

    func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
