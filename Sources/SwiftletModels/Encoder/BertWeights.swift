// The weights of a BERT encoder, gathered by role from a checkpoint through one name table and checked.
import SwiftletCore
import SwiftletKernels

/// What a tensor is for in a BERT encoder.
public enum BertTensorRole: String, CaseIterable, Sendable {
    case wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, embeddingNormWeight, embeddingNormBias
    case query, queryBias, key, keyBias, value, valueBias
    case attentionOutput, attentionOutputBias, attentionNormWeight, attentionNormBias
    case intermediate, intermediateBias, output, outputBias, outputNormWeight, outputNormBias
}

public enum BertWeightNames {
    /// Hugging Face names (transformers' BertModel); `%d` is the layer index.
    public static let huggingFace: [BertTensorRole: String] = [
        .wordEmbeddings: "embeddings.word_embeddings.weight",
        .positionEmbeddings: "embeddings.position_embeddings.weight",
        .tokenTypeEmbeddings: "embeddings.token_type_embeddings.weight",
        .embeddingNormWeight: "embeddings.LayerNorm.weight",
        .embeddingNormBias: "embeddings.LayerNorm.bias",
        .query: "encoder.layer.%d.attention.self.query.weight",
        .queryBias: "encoder.layer.%d.attention.self.query.bias",
        .key: "encoder.layer.%d.attention.self.key.weight",
        .keyBias: "encoder.layer.%d.attention.self.key.bias",
        .value: "encoder.layer.%d.attention.self.value.weight",
        .valueBias: "encoder.layer.%d.attention.self.value.bias",
        .attentionOutput: "encoder.layer.%d.attention.output.dense.weight",
        .attentionOutputBias: "encoder.layer.%d.attention.output.dense.bias",
        .attentionNormWeight: "encoder.layer.%d.attention.output.LayerNorm.weight",
        .attentionNormBias: "encoder.layer.%d.attention.output.LayerNorm.bias",
        .intermediate: "encoder.layer.%d.intermediate.dense.weight",
        .intermediateBias: "encoder.layer.%d.intermediate.dense.bias",
        .output: "encoder.layer.%d.output.dense.weight",
        .outputBias: "encoder.layer.%d.output.dense.bias",
        .outputNormWeight: "encoder.layer.%d.output.LayerNorm.weight",
        .outputNormBias: "encoder.layer.%d.output.LayerNorm.bias",
    ]

    /// Tensors a sentence encoder does not use: the position-id buffer, the [CLS] pooler and the
    /// pre-training heads (masked-LM and next-sentence).
    public static func isIgnored(_ name: String) -> Bool {
        name == "embeddings.position_ids" || name.hasPrefix("pooler.") || name.hasPrefix("cls.")
    }

    /// The one renaming step: checkpoint name -> table name. Drops the `bert.` prefix of
    /// BertFor* checkpoints and renames the LayerNorm `gamma`/`beta` of TF-converted ones.
    public static func sanitize(_ name: String) -> String {
        var n = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name
        if n.hasSuffix("LayerNorm.gamma") { n = String(n.dropLast(5)) + "weight" }
        if n.hasSuffix("LayerNorm.beta") { n = String(n.dropLast(4)) + "bias" }
        return n
    }

    public static func name(_ role: BertTensorRole, layer: Int? = nil) -> String {
        let pattern = huggingFace[role]!
        guard let layer else { return pattern }
        return pattern.replacingOccurrences(of: "%d", with: String(layer))
    }
}

/// A LayerNorm's scale and shift.
public struct LayerNormWeights: Sendable {
    public let weight: NormWeight
    public let bias: NormWeight
}

/// A dense layer: y = W x + b.
public struct DenseWeights: Sendable {
    public let linear: Linear
    public let bias: NormWeight
}

public struct BertLayerWeights: Sendable {
    public let query, key, value, attentionOutput: DenseWeights
    public let attentionNorm: LayerNormWeights
    public let intermediate, output: DenseWeights
    public let outputNorm: LayerNormWeights
}

/// All weights of a BERT encoder. Owns any converted vectors; the source keeps the mapping alive.
public final class BertWeights: @unchecked Sendable {
    public let source: TensorSource
    public let wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings: Linear
    public let embeddingNorm: LayerNormWeights
    public let layers: [BertLayerWeights]
    private var owned: [UnsafeMutablePointer<Float>] = []

    /// Gathers every tensor `config` needs from `source`. A missing tensor, a wrong shape or an
    /// unexpected extra tensor is an error naming it.
    public init(config c: BertConfiguration, source: TensorSource) throws {
        self.source = source
        var byName: [String: String] = [:]  // sanitized -> checkpoint name
        for name in source.tensorNames {
            let s = BertWeightNames.sanitize(name)
            if let other = byName[s] { throw ModelError("bert: tensors \(other) and \(name) are both \(s)") }
            byName[s] = name
        }
        var used = Set<String>()
        var owned: [UnsafeMutablePointer<Float>] = []

        func find(_ role: BertTensorRole, _ layer: Int?) throws -> SourceTensor {
            let name = BertWeightNames.name(role, layer: layer)
            guard let original = byName[name], let t = source.tensor(original) else { throw ModelError("bert: missing tensor \(name)") }
            used.insert(name)
            return t
        }
        func check(_ t: SourceTensor, _ shape: [Int]) throws {
            // Shapes in PyTorch order, as the checkpoint states them.
            guard t.dims.reversed() == shape else {
                throw ModelError("bert: tensor \(t.name) has shape \(Array(t.dims.reversed())), expected \(shape)")
            }
        }
        func matrix(_ role: BertTensorRole, _ layer: Int?, rows: Int, columns: Int) throws -> Linear {
            let t = try find(role, layer)
            try check(t, [rows, columns])
            return try Linear(name: t.name, weights: t.data, inputs: columns, outputs: rows, type: t.type)
        }
        func vector(_ role: BertTensorRole, _ layer: Int?, size: Int) throws -> NormWeight {
            let t = try find(role, layer)
            try check(t, [size])
            if t.type == .f32 && Int(bitPattern: t.data) % MemoryLayout<Float>.alignment == 0 {
                return NormWeight(values: t.data.assumingMemoryBound(to: Float.self), count: size)
            }
            let kernels: WeightKernels
            do { kernels = try KernelTable.kernels(for: t.type) } catch { throw ModelError("bert: tensor \(t.name): \(error)") }
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: size)
            kernels.dequantizeRow(t.data, buf, size)
            owned.append(buf)
            return NormWeight(values: buf, count: size)
        }
        func dense(_ w: BertTensorRole, _ b: BertTensorRole, _ l: Int, outputs: Int, inputs: Int) throws -> DenseWeights {
            DenseWeights(linear: try matrix(w, l, rows: outputs, columns: inputs), bias: try vector(b, l, size: outputs))
        }
        func norm(_ w: BertTensorRole, _ b: BertTensorRole, _ l: Int?) throws -> LayerNormWeights {
            LayerNormWeights(weight: try vector(w, l, size: c.hiddenSize), bias: try vector(b, l, size: c.hiddenSize))
        }

        let H = c.hiddenSize, I = c.intermediateSize
        do {
            wordEmbeddings = try matrix(.wordEmbeddings, nil, rows: c.vocabSize, columns: H)
            positionEmbeddings = try matrix(.positionEmbeddings, nil, rows: c.maxPositionEmbeddings, columns: H)
            tokenTypeEmbeddings = try matrix(.tokenTypeEmbeddings, nil, rows: c.typeVocabSize, columns: H)
            embeddingNorm = try norm(.embeddingNormWeight, .embeddingNormBias, nil)
            layers = try (0..<c.numHiddenLayers).map { l in
                BertLayerWeights(
                    query: try dense(.query, .queryBias, l, outputs: H, inputs: H),
                    key: try dense(.key, .keyBias, l, outputs: H, inputs: H),
                    value: try dense(.value, .valueBias, l, outputs: H, inputs: H),
                    attentionOutput: try dense(.attentionOutput, .attentionOutputBias, l, outputs: H, inputs: H),
                    attentionNorm: try norm(.attentionNormWeight, .attentionNormBias, l),
                    intermediate: try dense(.intermediate, .intermediateBias, l, outputs: I, inputs: H),
                    output: try dense(.output, .outputBias, l, outputs: H, inputs: I),
                    outputNorm: try norm(.outputNormWeight, .outputNormBias, l))
            }
        } catch {
            for p in owned { p.deallocate() }
            throw error
        }
        self.owned = owned
        if let extra = byName.keys.sorted().first(where: { !used.contains($0) && !BertWeightNames.isIgnored($0) }) {
            throw ModelError("bert: unexpected tensor \(byName[extra]!)")
        }
    }

    deinit { for p in owned { p.deallocate() } }
}
