// The subcommands: inspect, tokenize, generate, perplexity, bench.
import ArgumentParser
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletRuntime
import SwiftletTokenizers

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Architecture, hyperparameters, tokenizer and tensors of a model.")
    @Argument(help: "A GGUF model file, a Hugging Face checkpoint folder or a split folder.") var model: String
    @Flag(help: "Print every metadata value in full.") var all = false

    func run() throws {
        let engine = try Engine(path: model, threads: 1)
        print(engine.describe(fullMetadata: all))
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Token ids of a UTF-8 text file as a JSON array (no BOS; special tokens parsed).")
    @OptionGroup var options: ModelOptions
    @Argument(help: "A UTF-8 text file.") var file: String
    @Flag(help: "Prepend the BOS token.") var bos = false

    func run() throws {
        let engine = try options.load()
        print("[" + engine.tokenize(try readText(file), bos: bos).map(String.init).joined(separator: ", ") + "]")
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt, streaming it to standard output.")
    @OptionGroup var options: ModelOptions
    @Option(help: "The prompt text.") var prompt: String?
    @Option(help: "A file holding the prompt.") var promptFile: String?
    @Option(help: "Most tokens to generate.") var maxNewTokens = 128
    @Option(help: "Sampling temperature (0 = greedy).") var temperature: Float = 0.8
    @Option(help: "Top-p nucleus mass.") var topP: Float = 0.95
    @Option(help: "Top-k candidates (0 = all).") var topK = 40
    @Option(help: "Min-p relative probability cut.") var minP: Float = 0.05
    @Option(help: "Repetition penalty (1 = off).") var repeatPenalty: Float = 1.0
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Prepend the BOS token.") var bos = false
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Option(help: "A system message (with --chat).") var system: String?
    @Option(name: .customLong("template-var"), help: "A chat-template variable as key=value (with --chat; e.g. enable_thinking=false). Repeatable.")
    var templateVars: [String] = []
    @Flag(help: "Print {\"prompt_tokens\", \"tokens\", \"text\"} as JSON at the end instead of streaming.") var json = false

    func validate() throws {
        if (prompt == nil) == (promptFile == nil) { throw ValidationError("give exactly one of --prompt and --prompt-file") }
        if maxNewTokens < 0 { throw ValidationError("--max-new-tokens must be >= 0") }
    }

    func run() throws {
        let text = try prompt ?? readText(promptFile!)
        let engine = try options.load()
        var p = SamplingParameters()
        p.temperature = temperature
        p.topP = topP
        p.topK = topK
        p.minP = minP
        p.repetitionPenalty = repeatPenalty
        p.seed = seed
        var promptText = text
        if chat {
            var messages: [(role: String, content: String)] = []
            if let system { messages.append((role: "system", content: system)) }
            messages.append((role: "user", content: text))
            promptText = try engine.chatPrompt(messages, options: try templateVariables())
        } else if system != nil || !templateVars.isEmpty {
            throw ValidationError("--system and --template-var need --chat")
        }
        let ids = engine.tokenize(promptText, bos: bos)
        let result = try engine.generate(prompt: ids, maxNewTokens: maxNewTokens, sampling: p) { piece in
            if !json {
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            return true
        }
        if json {
            struct Out: Encodable { let prompt_tokens: Int; let tokens: [Int32]; let text: String; let finish_reason: String }
            try printJSON(Out(prompt_tokens: result.promptTokens, tokens: result.tokens, text: result.text, finish_reason: result.finishReason))
        } else {
            FileHandle.standardOutput.write(Data("\n".utf8))
            let decodeRate = result.tokens.count > 1 ? Double(result.tokens.count) / max(result.decodeSeconds, 1e-9) : 0
            FileHandle.standardError.write(Data(String(format: "[%d prompt tokens, %d generated, prefill %.1f tok/s, decode %.1f tok/s, stop: %@]\n",
                result.promptTokens, result.tokens.count, Double(result.promptTokens) / max(result.prefillSeconds, 1e-9),
                decodeRate, result.finishReason).utf8))
        }
    }
}

extension Generate {
    /// --template-var key=value pairs: true/false become booleans, numbers numbers, the rest strings.
    func templateVariables() throws -> [String: JinjaValue] {
        var out: [String: JinjaValue] = [:]
        for pair in templateVars {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ValidationError("--template-var \(pair): expected key=value")
            }
            let key = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
            switch value {
            case "true": out[key] = .bool(true)
            case "false": out[key] = .bool(false)
            default:
                if let i = Int(value) { out[key] = .int(i) } else if let d = Double(value) { out[key] = .double(d) } else { out[key] = .string(value) }
            }
        }
        return out
    }
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Perplexity of a text over non-overlapping windows, as JSON.")
    @OptionGroup var options: ModelOptions
    @Argument(help: "A UTF-8 text file.") var file: String
    @Option(help: "Window length in tokens.") var ctx = 512
    @Flag(help: "Prepend the BOS token.") var bos = false

    func run() throws {
        let engine = try options.load()
        let ids = engine.tokenize(try readText(file), bos: bos)
        try printJSON(try engine.perplexity(tokens: ids, context: ctx))
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prefill and decode throughput, as JSON (medians of --reps runs).")
    @OptionGroup var options: ModelOptions
    @Option(help: "A text whose tokens are fed (default: a repeated sentence).") var file: String?
    @Option(help: "Prompt tokens (prefill from an empty cache).") var prompt = 512
    @Option(help: "Tokens decoded after the prompt.") var gen = 128
    @Option(help: "Repetitions.") var reps = 3
    @Flag(help: "With --max-memory: run with prefetch and then without, printing both results as a JSON array.")
    var comparePrefetch = false

    func run() throws {
        if comparePrefetch && (options.maxMemory == nil || options.noPrefetch) {
            throw ValidationError("--compare-prefetch needs --max-memory (and not --no-prefetch)")
        }
        let text = try file.map(readText) ?? String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 400)
        /// One bench on a freshly loaded engine, released before the next one loads.
        func measure(prefetch: Bool? = nil) throws -> BenchResult {
            let engine = try options.load(prefetch: prefetch)
            return try engine.bench(tokens: engine.tokenize(text), prompt: prompt, gen: gen, reps: reps)
        }
        guard comparePrefetch else { return try printJSON(try measure()) }
        // Each mode with its own default threads (prefetch leaves the reading thread a core).
        try printJSON([try measure(prefetch: true), try measure(prefetch: false)])
    }
}

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Next-token logits as JSON {\"tokens\": [...], \"logits\": [[...]]}.")
    @OptionGroup var options: ModelOptions
    @Option(help: "Comma-separated token ids.") var tokens: String?
    @Option(help: "Prompt text (tokenized with special tokens parsed).") var prompt: String?
    @Flag(help: "Prepend the BOS token to --prompt.") var bos = false
    @Flag(help: "Logits of every position, not just the last.") var all = false
    @Flag(help: "Print JSON (the only output format).") var json = false

    func validate() throws {
        if (tokens == nil) == (prompt == nil) { throw ValidationError("give exactly one of --tokens and --prompt") }
    }

    func run() throws {
        let engine = try options.load()
        let ids: [Int32]
        if let tokens {
            ids = try tokens.split(separator: ",").map {
                guard let v = Int32($0.trimmingCharacters(in: .whitespaces)) else { throw CLIError("bad token id \"\($0)\"") }
                return v
            }
        } else {
            ids = engine.tokenize(prompt!, bos: bos)
        }
        let rows = try engine.logits(tokens: ids, all: all)
        struct Out: Encodable { let tokens: [Int32]; let logits: [[Float]] }
        try printJSON(Out(tokens: ids, logits: rows))
    }
}

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sentence embeddings of texts as JSON {\"model\", \"dimension\", \"embeddings\": [[...]]}.")
    @Option(name: .long, help: "An embedding-model checkpoint folder (e.g. all-MiniLM-L6-v2 from scripts/fetch-models minilm).")
    var model: String?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "A text to embed (repeat for several).") var text: [String] = []
    @Flag(help: "Print JSON (the only output format).") var json = false

    func validate() throws {
        if text.isEmpty { throw ValidationError("give at least one --text") }
        if let t = threads, t < 1 || t > 256 { throw ValidationError("--threads must be in 1...256") }
    }

    func run() throws {
        let path = model ?? ModelOptions.modelsDirectory + "/all-MiniLM-L6-v2"
        if model == nil && !FileManager.default.fileExists(atPath: path) {
            throw CLIError("the default embedding model is not present at \(path): run scripts/fetch-models minilm first, or pass --model")
        }
        let embedder = try Embedder(path: path, threads: threads)
        let vectors = try embedder.embed(text)
        struct Out: Encodable { let model: String; let dimension: Int; let tokens: [Int]; let embeddings: [[Float]] }
        try printJSON(Out(model: path, dimension: embedder.model.dimension, tokens: text.map { embedder.tokens($0).count },
                          embeddings: vectors))
    }
}
