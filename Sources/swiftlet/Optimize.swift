// quantize and prune: rewrite a model (GGUF file or checkpoint folder) into a smaller one.
import ArgumentParser
import Foundation
import SwiftletCore
import SwiftletOptimize
import SwiftletRuntime

/// A filter map given as a built-in name or a JSON file ({"allow": [...], "deny": [...]}).
func filterMap(_ value: String?) throws -> FilterMap? {
    guard let value else { return nil }
    if FilterMap.builtInNames.contains(value) { return try FilterMap.named(value) }
    guard FileManager.default.fileExists(atPath: value) else {
        throw ValidationError("--filter \(value): not a built-in map (\(FilterMap.builtInNames.joined(separator: ", "))) nor a file")
    }
    return try FilterMap.load(path: value)
}

/// Progress on stderr: a bar redrawn in place on a terminal, one line per tensor otherwise.
func rewriteProgress() -> RewriteProgress {
    let tty = isatty(2) == 1
    return RewriteProgress { done, total, name, action in
        if tty {
            let width = 30, filled = total == 0 ? width : done * width / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let label = done == total ? "done" : "\(name) (\(action))"
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(done)/\(total) \(label.prefix(70))".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done < total && action != "kept" {
            FileHandle.standardError.write(Data("[\(done + 1)/\(total)] \(name): \(action)\n".utf8))
        }
    }
}

func printSummary(_ s: RewriteSummary, json: Bool, extra: [(String, JSONValue)] = []) {
    if json {
        let o: JSONValue = .object([("output", .string(s.output)), ("tensors", .int(s.tensors)), ("changed", .int(s.changed.count)),
                                     ("input_bytes", .int(s.inputBytes)), ("output_bytes", .int(s.outputBytes)),
                                     ("seconds", .double((s.seconds * 100).rounded() / 100))] + extra)
        print(o.encoded)
        return
    }
    var counts: [String: Int] = [:]
    for (_, a) in s.changed { counts[a, default: 0] += 1 }
    print("wrote \(s.output): \(s.tensors) tensors, \(s.changed.count) changed in \(String(format: "%.1f", s.seconds)) s")
    for (a, n) in counts.sorted(by: { $0.key < $1.key }) { print("  \(n) x \(a)") }
    print(String(format: "  size %.1f MB -> %.1f MB (%.2fx)", Double(s.inputBytes) / 1e6, Double(s.outputBytes) / 1e6,
                 Double(s.outputBytes) / Double(max(s.inputBytes, 1))))
    for (k, v) in extra { print("  \(k): \(v.encoded)") }
}

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a model's linear weights (int8 per channel, RTN or HQQ in groups), or dequantize it (f32, f16).",
        discussion: "Writes the same container as the input: a GGUF file, or a checkpoint folder. See docs/quantization.md.")
    @Argument(help: "A GGUF file or a Hugging Face checkpoint folder.") var input: String
    @Argument(help: "Where to write the result (a .gguf file, or a new folder).") var output: String
    @Option(help: "int8, rtn4, rtn8, hqq4, hqq8, or f32 / f16 (dequantize everything).") var method: String
    @Option(help: "Group size of rtn/hqq: 32, 64 or 128.") var group = 64
    @Option(help: "Which tensors: a built-in filter map (projections, gemma3) or a JSON file; default projections.") var filter: String?
    @Flag(help: "Store int8 as Q8_0 and 4-bit group-32 as Q4_1, so llama.cpp reads the file too.") var llamaCompatible = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "A text file to calibrate on: every method rounds with GPTQ's error feedback; hqq4/hqq8 also weigh their grid by the input channels' mean squares.")
    var calibration: String?
    @Option(help: "Tokens of --calibration to run.") var calibrationTokens = 2048
    @Flag(help: "hqq with --calibration: weigh only the choice between the solver's zero-point and RTN's, not the solver.")
    var acceptanceOnly = false
    @Option(help: "With --calibration: GPTQ's damping, as a fraction of the mean input energy added to H's diagonal.")
    var damping: Double = 0.01
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        if acceptanceOnly && calibration == nil { throw ValidationError("--acceptance-only needs --calibration") }
        guard damping > 0, damping.isFinite else { throw ValidationError("--damping must be a positive number, got \(damping)") }
        let text = try calibration.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let s = try ModelQuantizer.run(input: input, output: output, method: method, groupSize: group, filter: try filterMap(filter),
                                       llamaCompatible: llamaCompatible, threads: threads, calibrationText: text,
                                       calibrationTokens: calibrationTokens, hqqWeighting: acceptanceOnly ? .acceptance : .solver, gptqDamping: damping,
                                       progress: rewriteProgress())
        printSummary(s, json: json)
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prune a model's linear weights: magnitude, gradual magnitude, or structured (MLP units, rows).",
        discussion: "gradual walks the cubic schedule; with --file it reports perplexity after every step. See docs/quantization.md.")
    @Argument(help: "A GGUF file or a Hugging Face checkpoint folder.") var input: String
    @Argument(help: "Where to write the result (a .gguf file, or a new folder).") var output: String
    @Option(help: "magnitude, gradual or structured.") var method: String
    @Option(help: "Final sparsity, in [0, 1).") var sparsity: Double
    @Option(help: "gradual: steps of the schedule.") var steps = 4
    @Option(help: "gradual: sparsity of the first step's schedule start.") var initialSparsity = 0.0
    @Option(help: "structured: kept MLP units are a multiple of this.") var granularity = 32
    @Option(help: "Which tensors: a built-in filter map (gemma3, projections) or a JSON file; default gemma3.") var filter: String?
    @Option(help: "gradual: a text file to measure perplexity on after each step.") var file: String?
    @Option(help: "structured: a text file to calibrate on (units scored by their measured contribution instead of weight norms).")
    var calibration: String?
    @Option(help: "Tokens of --calibration to run.") var calibrationTokens = 2048
    @Option(help: "Tokens of --file to score.") var tokens = 2048
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        guard let m = PruningMethod(rawValue: method) else {
            throw ValidationError("--method must be one of \(PruningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let map = try filterMap(filter)
        guard m == .gradual else {
            let text = try calibration.map { try String(contentsOfFile: $0, encoding: .utf8) }
            let s = try ModelPruner.run(input: input, output: output, method: m, sparsity: sparsity, granularity: granularity,
                                        filter: map, calibrationText: text, calibrationTokens: calibrationTokens, progress: rewriteProgress())
            printSummary(s, json: json)
            return
        }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        let targets = MagnitudePruning.gradualSchedule(initial: initialSparsity, final: sparsity, steps: steps)
        var report: [JSONValue] = []
        var last: RewriteSummary?
        for (i, target) in targets.enumerated() {
            let path = i == targets.count - 1 ? output : stepPath(i + 1)
            FileHandle.standardError.write(Data("step \(i + 1)/\(targets.count): sparsity \(String(format: "%.4f", target))\n".utf8))
            last = try ModelPruner.run(input: input, output: path, method: .magnitude, sparsity: target, filter: map, progress: rewriteProgress())
            var entry: [(String, JSONValue)] = [("step", .int(i + 1)), ("sparsity", .double(target))]
            if let file {
                let engine = try Engine(path: path)
                let ids = Array(engine.tokenize(try String(contentsOfFile: file, encoding: .utf8), bos: true).prefix(tokens))
                let p = try engine.perplexity(tokens: ids, context: min(512, engine.config.contextLength))
                entry.append(("perplexity", .double(p.perplexity)))
                FileHandle.standardError.write(Data(String(format: "  perplexity %.4f over %d tokens\n", p.perplexity, p.tokensScored).utf8))
            }
            if path != output { try? FileManager.default.removeItem(atPath: path) }
            report.append(.object(entry))
        }
        printSummary(last!, json: json, extra: [("schedule", .array(report))])
    }

    func stepPath(_ step: Int) -> String {
        let url = URL(fileURLWithPath: output)
        return url.deletingPathExtension().path + ".step\(step)" + (url.pathExtension.isEmpty ? "" : "." + url.pathExtension)
    }
}
