// split: a model written as a split folder (one GGUF file per layer) for layer streaming.
import ArgumentParser
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletRuntime

struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a model into one file per layer (a split folder) for layer streaming.",
        discussion: """
            Writes embedding.gguf, layer-000.gguf ..., head.gguf, the model's metadata and split.json (sizes and \
            XXH64 checksums). Re-run the same command after an interruption to resume. Every command that takes a \
            model accepts the folder. See docs/layer-streaming.md.
            """)
    @Argument(help: "A GGUF file or a Hugging Face checkpoint folder of a text generator.") var model: String
    @Argument(help: "The split folder: new, empty, or a split of the same model with the same options (resumed).") var outDir: String
    @Option(help: "Quantize the projection matrices: 4bit or 8bit (RTN, groups of 64); default: every tensor as stored.")
    var compress: String?
    @Flag(help: "Throw away a split of another model, or made with other options, found in OUT_DIR and start over.") var restart = false
    @Option(help: "Worker threads for --compress (default: all cores).") var threads: Int?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256") }
    }

    func run() throws {
        var compression = SplitManifest.Compression.none
        if let compress {
            guard let c = SplitManifest.Compression(rawValue: compress), c != .none else {
                throw ValidationError("--compress must be 4bit or 8bit, got \(compress)")
            }
            compression = c
        }
        let s = try ModelSplitter.run(input: model, output: outDir, compression: compression, restart: restart, threads: threads,
                                      progress: rewriteProgress())
        if json {
            let o: JSONValue = .object([
                ("output", .string(s.output)), ("source", .string(s.source)), ("compression", .string(s.compression.rawValue)),
                ("parts", .int(s.parts)), ("written", .int(s.written)), ("reused", .int(s.reused)),
                ("already_complete", .bool(s.alreadyComplete)), ("tensors", .int(s.tensors)), ("changed", .int(s.changed.count)),
                ("input_bytes", .int(s.inputBytes)), ("output_bytes", .int(s.outputBytes)),
                ("seconds", .double((s.seconds * 100).rounded() / 100)),
            ])
            print(o.encoded)
        } else if s.alreadyComplete {
            print("\(s.output) is already a complete split of \(s.source): \(s.parts) parts verified, nothing to do")
        } else {
            let kept = s.reused > 0 ? " (\(s.reused) kept from an interrupted run)" : ""
            let changed = s.changed.isEmpty ? "" : ", \(s.changed.count) compressed (\(s.compression.rawValue))"
            print("wrote \(s.output): \(s.written) of \(s.parts) parts\(kept), \(s.tensors) tensors\(changed) in \(String(format: "%.1f", s.seconds)) s")
            print(String(format: "  size %.1f MB -> %.1f MB", Double(s.inputBytes) / 1e6, Double(s.outputBytes) / 1e6))
        }
    }
}
