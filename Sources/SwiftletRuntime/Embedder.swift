// Sentence embeddings: an encoder checkpoint (BERT, e.g. all-MiniLM-L6-v2) plus its tokenizer.
import Foundation
import SwiftletCore
import SwiftletModels
import SwiftletTokenizers

/// Turns texts into sentence embeddings (pooled and, when the model says so, L2-normalized) the way
/// sentence-transformers does: the tokenizer's special tokens added, inputs cut at the model's
/// max_seq_length.
public final class Embedder: @unchecked Sendable {
    public let path: String
    public let model: BertModel
    public let tokenizer: any Tokenizer
    public let pool: ThreadPool

    public init(path: String, threads: Int? = nil) throws {
        try CPUFeatures.check()
        guard try ModelPath.isFolder(path) else {
            throw RuntimeError("\(path): embedding models load from a checkpoint folder (config.json, model.safetensors, tokenizer.json)")
        }
        self.path = path
        model = try BertModel.load(checkpoint: path)
        tokenizer = try TokenizerLoader.load(folder: path)
        pool = ThreadPool(threads: max(1, threads ?? ThreadPool.coreCount))
    }

    /// Most tokens per input (special tokens included): sentence-transformers' max_seq_length, or
    /// the model's position limit.
    public var maxTokens: Int { min(model.sentence.maxSequenceLength ?? model.maxTokens, model.maxTokens) }

    /// Token ids of `text` as the model sees them: special tokens added, longer inputs cut to
    /// `maxTokens` keeping the final special token (as the tokenizers library truncates).
    public func tokens(_ text: String) -> [Int32] {
        let ids = tokenizer.encodeWithSpecialTokens(text)
        guard ids.count > maxTokens, maxTokens >= 2 else { return ids }
        return Array(ids[0..<(maxTokens - 1)]) + [ids[ids.count - 1]]
    }

    /// One embedding per text, in order.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        try model.embed(batch: texts.map(tokens), pool: pool)
    }
}
