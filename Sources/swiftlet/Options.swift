// Options shared by the commands.
import ArgumentParser
import Foundation
import SwiftletRuntime

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A GGUF model file, a Hugging Face checkpoint folder or a split folder (default: SmolLM2-135M-Instruct from scripts/fetch-models).")
    var model: String?

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Most prompt tokens evaluated in one batch (default: 512; with --max-memory, the whole prompt up to 8192, so each streamed layer is read once per prompt).")
    var batchSize: Int?

    @Option(name: .long, help: "Keep at most this many bytes of weights in memory (K/M/G suffixes, e.g. 64M), streaming the rest from disk layer by layer (best with a folder from `swiftlet split`).")
    var maxMemory: String?

    @Flag(name: .long, help: "With --max-memory: read each layer only when it is reached, instead of prefetching the next one on a background thread.")
    var noPrefetch = false

    /// Where scripts/fetch-models puts the models.
    static var modelsDirectory: String {
        ProcessInfo.processInfo.environment["SWIFTLET_MODELS"] ?? (NSHomeDirectory() + "/.cache/swiftlet/models")
    }

    var path: String { model ?? Self.modelsDirectory + "/SmolLM2-135M-Instruct.Q4_1.gguf" }

    /// Loads the model; `prefetch` overrides `--no-prefetch` (bench compares both).
    func load(prefetch: Bool? = nil) throws -> Engine {
        let p = path
        if model == nil && !FileManager.default.fileExists(atPath: p) {
            throw CLIError("the default model is not present at \(p): run scripts/fetch-models first, or pass --model")
        }
        if let t = threads, t < 1 || t > 256 { throw CLIError("--threads must be in 1...256") }
        if let b = batchSize, b < 1 || b > 8192 { throw CLIError("--batch-size must be in 1...8192") }
        let budget = try maxMemory.map { try ByteSize.parse($0) }
        if noPrefetch && budget == nil { throw CLIError("--no-prefetch goes with --max-memory") }
        let prefetch = prefetch ?? !noPrefetch
        let (engine, plan) = try Engine.load(path: p, threads: threads, maxBatch: batchSize, maxMemory: budget, prefetch: prefetch)
        if let plan { FileHandle.standardError.write(Data("streaming: \(plan.summary)\n".utf8)) }
        return engine
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    guard let s = String(data: data, encoding: .utf8) else { throw CLIError("\(path) is not valid UTF-8") }
    return s
}

func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try e.encode(value), as: UTF8.self))
}
