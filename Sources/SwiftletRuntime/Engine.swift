// A loaded model ready to run: weights, tokenizer and a worker pool, detected from the file.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletTokenizers

/// A model plus its tokenizer and the threads that run it. Sequences are run one at a time per
/// engine (the caches and scratch live in each call, so nothing leaks between requests).
public final class Engine: @unchecked Sendable {
    public let path: String
    /// The GGUF file, when the model is one (nil for a checkpoint folder); for a split GGUF model,
    /// its metadata-only `model.gguf`.
    public let gguf: GGUFFile?
    public let model: DecoderModel
    public let tokenizer: any Tokenizer
    /// The chat template's source: GGUF metadata, or the folder's chat_template.jinja / tokenizer_config.json.
    public let chatTemplateSource: String?
    public let pool: ThreadPool
    /// Largest number of prompt tokens evaluated in one batch.
    public let maxBatch: Int
    /// Pages weights in and out around their use when the model runs under a memory budget
    /// (layer streaming); nil when every weight stays mapped.
    public internal(set) var residency: WeightResidency?

    /// Loads a GGUF file, a Hugging Face checkpoint folder (config.json, safetensors, tokenizer.json)
    /// or a split folder (`swiftlet split`, docs/layer-streaming.md), detecting the architecture.
    /// - threads: worker threads including the caller; nil means one per core.
    public init(path: String, threads: Int? = nil, maxBatch: Int = 512) throws {
        try CPUFeatures.check()
        self.path = path
        let isFolder = try ModelPath.isFolder(path)
        // A split folder (split.json): the weights are the part files' (checked against the
        // manifest), the rest comes from its model.gguf or its copied checkpoint files.
        let split = isFolder && SplitStore.isSplitFolder(path) ? try SplitTensorSource(folder: path) : nil
        if isFolder && split?.store.manifest.container != .gguf {
            gguf = nil
            model = try ArchitectureRegistry.load(checkpoint: path, tensors: split)
            tokenizer = try TokenizerLoader.load(folder: path)
            chatTemplateSource = try TokenizerLoader.config(folder: path).chatTemplate
        } else {
            let file = try GGUFFile(path: split == nil ? path : path + "/" + SplitManifest.metadataGGUF)
            gguf = file
            model = try ArchitectureRegistry.load(gguf: file, tensors: split ?? file)
            tokenizer = try TokenizerLoader.load(gguf: file)
            chatTemplateSource = file["tokenizer.chat_template"]?.string
        }
        pool = ThreadPool(threads: max(1, threads ?? ThreadPool.coreCount))
        self.maxBatch = max(1, maxBatch)
    }

    public var config: DecoderConfig { model.config }

    /// Token ids for text (special tokens parsed), with BOS first when `bos` is true.
    public func tokenize(_ text: String, bos: Bool = false) -> [Int32] {
        var ids = tokenizer.encode(text, parseSpecial: true)
        if bos, let b = tokenizer.bos { ids.insert(b, at: 0) }
        return ids
    }

    /// A cache for `capacity` positions and the scratch to fill it, prompts evaluated in batches of
    /// up to min(maxBatch, promptTokens) tokens.
    public func makeSequence(capacity: Int, promptTokens: Int, logitRows: Int = 1) -> (KVCache, DecoderScratch) {
        (model.makeCache(capacity: capacity),
         model.makeScratch(maxBatch: max(1, min(maxBatch, promptTokens)), contextCapacity: capacity,
                           threads: pool.threadCount, logitRows: logitRows))
    }

    /// Evaluates one token after what `cache` holds (a decode step) and hands over its logits.
    public func step(_ token: Int32, cache: KVCache, scratch: DecoderScratch,
                     onLogits: (UnsafeBufferPointer<Float>) -> Void) throws {
        try [token].withUnsafeBufferPointer { b in
            try model.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .last, residency: residency) { _, row in onLogits(row) }
        }
    }

    /// Evaluates `tokens` after what `cache` holds, in batches, returning logits for the last
    /// token only (`.last`) or handing every row to `onLogits` (`.all`).
    public func evaluate(_ tokens: [Int32], cache: KVCache, scratch: DecoderScratch, logits: LogitsRequest,
                         onLogits: (Int, UnsafeBufferPointer<Float>) -> Void) throws {
        var start = 0
        try tokens.withUnsafeBufferPointer { all in
            while start < all.count {
                let n = min(scratch.maxBatch, all.count - start)
                let chunk = UnsafeBufferPointer(rebasing: all[start..<(start + n)])
                let isLastChunk = start + n == all.count
                let base = start
                try model.forward(chunk, cache: cache, scratch: scratch, pool: pool, logits: logits, residency: residency) { i, row in
                    if logits == .all || isLastChunk { onLogits(base + i, row) }
                }
                start += n
            }
        }
    }
}

extension Engine {
    /// Logits after `tokens`: one row for the last position, or one per position with `all`.
    public func logits(tokens: [Int32], all: Bool) throws -> [[Float]] {
        guard !tokens.isEmpty else { throw RuntimeError("no tokens given") }
        guard tokens.count <= config.contextLength else {
            throw RuntimeError("\(tokens.count) tokens exceed the model's context length \(config.contextLength)")
        }
        let (cache, scratch) = makeSequence(capacity: tokens.count, promptTokens: tokens.count, logitRows: all ? 16 : 1)
        var rows: [[Float]] = []
        try evaluate(tokens, cache: cache, scratch: scratch, logits: all ? .all : .last) { _, row in rows.append(Array(row)) }
        return rows
    }
}

/// What a model path names: a checkpoint folder or a model file.
enum ModelPath {
    /// Whether `path` is a folder; a missing path is an error that says so.
    static func isFolder(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuntimeError("\(path): no such model file or checkpoint folder")
        }
        return isDirectory.boolValue
    }
}

/// What kind of model a path holds: a text generator, or an embedding model (a BERT checkpoint folder).
public enum ModelKind: CustomStringConvertible, Sendable {
    case decoder, embedding

    /// A missing path is an error that says so.
    public static func of(_ path: String) throws -> ModelKind {
        guard try ModelPath.isFolder(path), let json = FileManager.default.contents(atPath: path + "/config.json") else { return .decoder }
        // The model types BertModel.load accepts.
        return ["bert", "BertModel"].contains(try HFConfigLoader.modelType(json, path: path + "/config.json")) ? .embedding : .decoder
    }

    public var description: String { self == .decoder ? "a text generator" : "an embedding model" }
}
