// How a sentence-transformers folder turns token states into one vector: pooling mode, normalization, length.
import Foundation
import SwiftletKernels

/// How token hidden states become a sentence embedding, read from a sentence-transformers folder:
/// modules.json (is there a Normalize module?), the Pooling module's config.json and
/// sentence_bert_config.json. Absent files mean mean pooling + L2 normalization, the
/// all-MiniLM-L6-v2 / most sentence-transformers models' choice.
public struct SentenceEmbeddingConfig: Sendable, Equatable {
    public enum Pooling: String, Sendable {
        /// Average of all token states ([CLS] and [SEP] included, as sentence-transformers does).
        case mean
        /// The [CLS] (first) token's state.
        case cls
        /// Elementwise maximum over the tokens.
        case max
        /// Sum of the token states / sqrt(token count).
        case meanSqrtLength
    }

    public var pooling: Pooling = .mean
    /// L2-normalize the pooled vector (sentence-transformers' Normalize module).
    public var normalize = true
    /// sentence-transformers' max_seq_length: longer inputs are truncated to this many tokens by its
    /// tokenizer step (nil: not stated; the model's own limit is max_position_embeddings).
    public var maxSequenceLength: Int?

    public init(pooling: Pooling = .mean, normalize: Bool = true, maxSequenceLength: Int? = nil) {
        self.pooling = pooling
        self.normalize = normalize
        self.maxSequenceLength = maxSequenceLength
    }

    /// Reads the sentence-transformers files of `folder`; a plain transformers folder gets the defaults.
    public static func load(folder: String) throws -> SentenceEmbeddingConfig {
        var config = SentenceEmbeddingConfig()
        var poolingPath = folder + "/1_Pooling/config.json"
        if let modules = try json(folder + "/modules.json") as? [[String: Any]] {
            let types = modules.compactMap { $0["type"] as? String }
            config.normalize = types.contains("sentence_transformers.models.Normalize")
            if let p = modules.first(where: { ($0["type"] as? String) == "sentence_transformers.models.Pooling" }), let path = p["path"] as? String {
                poolingPath = folder + "/" + path + "/config.json"
            }
        }
        if let p = try json(poolingPath) as? [String: Any] {
            let modes: [(String, Pooling)] = [("pooling_mode_mean_tokens", .mean), ("pooling_mode_cls_token", .cls),
                                              ("pooling_mode_max_tokens", .max), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength)]
            let on = modes.filter { p[$0.0] as? Bool == true }
            let others = p.keys.filter { $0.hasPrefix("pooling_mode_") && !modes.map(\.0).contains($0) && p[$0] as? Bool == true }
            guard on.count == 1, others.isEmpty else {
                throw ModelError("\(poolingPath): pooling modes \((on.map(\.0) + others).sorted()) are not supported (exactly one of \(modes.map(\.0).joined(separator: ", ")))")
            }
            config.pooling = on[0].1
        }
        if let s = try json(folder + "/sentence_bert_config.json") as? [String: Any] {
            config.maxSequenceLength = (s["max_seq_length"] as? NSNumber)?.intValue
        }
        return config
    }

    /// The parsed JSON of a file, nil if it does not exist; an unreadable file is an error.
    private static func json(_ path: String) throws -> Any? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let obj = try? JSONSerialization.jsonObject(with: data) else {
            throw ModelError("\(path): not readable JSON")
        }
        return obj
    }

    /// out = the sentence vector of n token states (rows of `width` floats, `stride` apart).
    public func pool(_ states: UnsafePointer<Float>, tokens n: Int, width: Int, stride: Int, into out: UnsafeMutablePointer<Float>) {
        switch pooling {
        case .mean: EncoderOps.sumRows(states, n, width: width, stride: stride, scale: 1 / Float(n), out)
        case .meanSqrtLength: EncoderOps.sumRows(states, n, width: width, stride: stride, scale: 1 / Float(n).squareRoot(), out)
        case .cls: for d in 0..<width { out[d] = states[d] }
        case .max: EncoderOps.maxRows(states, n, width: width, stride: stride, out)
        }
        if normalize { EncoderOps.l2Normalize(out, width) }
    }
}
