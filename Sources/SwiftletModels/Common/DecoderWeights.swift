// The weights of a decoder-only transformer, gathered by role and checked against the config.
import SwiftletCore
import SwiftletKernels

/// A normalization weight vector as f32 (mapped in place when stored as F32, else converted once).
public struct NormWeight: @unchecked Sendable {
    public let values: UnsafePointer<Float>
    public let count: Int
}

public struct LayerWeights: Sendable {
    public let attnNorm: NormWeight
    public let q, k, v, o: Linear
    public let qNorm, kNorm, postAttnNorm: NormWeight?
    public let ffnNorm: NormWeight
    public let gate, up, down: Linear
    public let postFfnNorm: NormWeight?
}

/// All weights of a decoder. Owns any converted buffers; the source keeps the mapping alive.
public final class DecoderWeights: @unchecked Sendable {
    public let source: TensorSource
    public let embedding: Linear
    public let outputNorm: NormWeight
    public let output: Linear
    public let layers: [LayerWeights]
    private var owned: [UnsafeMutablePointer<Float>] = []

    /// Gathers and checks every tensor of `config` from `source` using the name table `names`.
    /// A missing tensor, a wrong shape or an unexpected extra tensor is an error naming it.
    /// - normOffset: added to every norm weight (Gemma's checkpoints store w for a scale of 1 + w;
    ///   GGUF files have it folded in already).
    public init(config c: DecoderConfig, source: TensorSource, names: [TensorRole: String], ignored: Set<String> = [],
                normOffset: Float = 0) throws {
        self.source = source
        var used = Set<String>()
        var owned: [UnsafeMutablePointer<Float>] = []

        func find(_ role: TensorRole, _ layer: Int?, required: Bool = true) throws -> SourceTensor? {
            let name = WeightNames.name(names, role, layer: layer)
            guard let t = source.tensor(name) else {
                if required { throw ModelError("\(c.architecture): missing tensor \(name)") }
                return nil
            }
            used.insert(name)
            return t
        }
        func linear(_ role: TensorRole, _ layer: Int?, inputs: Int, outputs: Int) throws -> Linear {
            let t = try find(role, layer)!
            guard t.dims == [inputs, outputs] else {
                throw ModelError("\(c.architecture): tensor \(t.name) has shape \(t.dims), expected [\(inputs), \(outputs)]")
            }
            return try Linear(name: t.name, weights: t.data, inputs: inputs, outputs: outputs, type: t.type)
        }
        func norm(_ role: TensorRole, _ layer: Int?, size: Int, required: Bool = true) throws -> NormWeight? {
            guard let t = try find(role, layer, required: required) else { return nil }
            guard t.dims == [size] else {
                throw ModelError("\(c.architecture): tensor \(t.name) has shape \(t.dims), expected [\(size)]")
            }
            if t.type == .f32 && normOffset == 0 && Int(bitPattern: t.data) % MemoryLayout<Float>.alignment == 0 {
                return NormWeight(values: t.data.assumingMemoryBound(to: Float.self), count: size)
            }
            let kernels: WeightKernels
            do { kernels = try KernelTable.kernels(for: t.type) } catch { throw ModelError("tensor \(t.name): \(error)") }
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: size)
            kernels.dequantizeRow(t.data, buf, size)
            for i in 0..<size { buf[i] += normOffset }
            owned.append(buf)
            return NormWeight(values: buf, count: size)
        }

        embedding = try linear(.tokenEmbedding, nil, inputs: c.hiddenSize, outputs: c.vocabSize)
        outputNorm = try norm(.outputNorm, nil, size: c.hiddenSize)!
        if source.tensor(WeightNames.name(names, .output)) != nil {
            output = try linear(.output, nil, inputs: c.hiddenSize, outputs: c.vocabSize)
        } else {
            output = embedding  // tied output embedding
        }
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            layers.append(LayerWeights(
                attnNorm: try norm(.attnNorm, l, size: c.hiddenSize)!,
                q: try linear(.attnQ, l, inputs: c.hiddenSize, outputs: c.qDim),
                k: try linear(.attnK, l, inputs: c.hiddenSize, outputs: c.kvDim),
                v: try linear(.attnV, l, inputs: c.hiddenSize, outputs: c.vDim),
                o: try linear(.attnOutput, l, inputs: c.headCount * c.valueDim, outputs: c.hiddenSize),
                qNorm: c.qkNorm ? try norm(.attnQNorm, l, size: c.headDim) : nil,
                kNorm: c.qkNorm ? try norm(.attnKNorm, l, size: c.headDim) : nil,
                postAttnNorm: c.postNorms ? try norm(.postAttnNorm, l, size: c.hiddenSize) : nil,
                ffnNorm: try norm(.ffnNorm, l, size: c.hiddenSize)!,
                gate: try linear(.ffnGate, l, inputs: c.hiddenSize, outputs: c.ffnSize),
                up: try linear(.ffnUp, l, inputs: c.hiddenSize, outputs: c.ffnSize),
                down: try linear(.ffnDown, l, inputs: c.ffnSize, outputs: c.hiddenSize),
                postFfnNorm: c.postNorms ? try norm(.postFfnNorm, l, size: c.hiddenSize) : nil))
        }
        self.layers = layers
        self.owned = owned
        if let extra = source.tensorNames.first(where: { !used.contains($0) && !ignored.contains($0) }) {
            throw ModelError("\(c.architecture): unexpected tensor \(extra)")
        }
    }

    deinit { for p in owned { p.deallocate() } }
}
