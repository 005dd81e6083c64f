// A human-readable summary of a loaded model, for `swiftlet inspect`.
import Foundation
import SwiftletFormats
import SwiftletModels

extension Engine {
    public func describe(fullMetadata: Bool = false) -> String {
        let c = config
        var out: [String] = []
        let source = model.weights.source
        if let split = SplitTensorSource.underlying(source) {
            let m = split.store.manifest
            let bytes = m.parts.reduce(0) { $0 + $1.bytes }
            out.append("split folder: \(path) (\(m.parts.count) parts: embedding, \(m.layerCount) layers, head; \(source.tensorNames.count) tensors, "
                + "\(bytes) bytes, compression \(m.compression.rawValue), metadata from \(m.metadataFiles.joined(separator: ", ")))")
            out.append("  split from \(m.source.path)")
        } else if let gguf {
            out.append("file: \(path) (GGUF v\(gguf.version), \(gguf.tensors.count) tensors, \(gguf.file.count) bytes)")
        } else {
            out.append("checkpoint folder: \(path) (safetensors, \(source.tensorNames.count) tensors)")
        }
        out.append("architecture: \(c.architecture)")
        out.append("  hidden \(c.hiddenSize), layers \(c.layerCount), heads \(c.headCount) (kv \(c.kvHeadCount)), head dim \(c.headDim)")
        out.append("  ffn \(c.ffnSize) (\(c.activation.rawValue)), vocab \(c.vocabSize), context \(c.contextLength), norm eps \(c.normEps)")
        var rope = "  rope: \(c.ropeDims) dims, base \(c.ropeBase), \(c.ropeLayout)"
        if let b = c.slidingRopeBase { rope += ", sliding-layer base \(b)" }
        if c.ropeScale != 1 { rope += ", linear scale \(c.ropeScale)" }
        if let f = c.ropeFrequencies, f.attentionFactor != 1 { rope += ", attention factor \(f.attentionFactor)" }
        if !c.noRopeLayers.isEmpty { rope += ", none on \(c.noRopeLayers.filter { $0 }.count) layers" }
        out.append(rope)
        if let w = c.slidingWindow {
            let n = (0..<c.layerCount).filter(c.isSliding).count
            out.append("  sliding window \(w) on \(n) of \(c.layerCount) layers")
        }
        var extras: [String] = []
        if c.qkNorm { extras.append("qk-norm") }
        if c.postNorms { extras.append("post-norms") }
        if let e = c.embeddingScale { extras.append("embedding scale \(e)") }
        if let s = c.finalLogitSoftcap { extras.append("logit softcap \(s)") }
        if c.isMoE { extras.append("\(c.expertCount) experts, \(c.expertsPerToken) per token") }
        if !c.biases.isEmpty { extras.append("biases on " + c.biases.map(\.rawValue).sorted().joined(separator: "/")) }
        extras.append("\(c.cacheType.rawValue) KV cache")
        extras.append(c.tiedEmbeddings ? "tied output embedding" : "separate output matrix")
        out.append("  " + extras.joined(separator: ", "))
        let kind = gguf.map { "\($0["tokenizer.ggml.model"]?.string ?? "?") (pre \($0["tokenizer.ggml.pre"]?.string ?? "default"))" } ?? "tokenizer.json"
        out.append("tokenizer: \(kind), \(tokenizer.vocabularySize) tokens, bos \(tokenizer.bos.map(String.init) ?? "none"), eos \(tokenizer.eos.map(String.init) ?? "none"), add bos \(tokenizer.addBOS), chat template \(chatTemplateSource == nil ? "none" : "yes")")
        if let gguf {
            out.append("metadata:")
            for key in gguf.metadataKeys {
                let v = gguf[key]!
                if fullMetadata, case .string(let s) = v { out.append("  \(key) = \(s)") } else { out.append("  \(key) = \(v.summary)") }
            }
        }
        out.append("tensors:")
        for name in source.tensorNames {
            guard let t = source.tensor(name) else { out.append("  \(name)  (not a weight format)"); continue }
            out.append("  \(name)  \(t.type)  \(t.dims)")
        }
        return out.joined(separator: "\n")
    }
}
