// The weights of a decoder-only transformer, gathered by role and checked against the config.
import SwiftletCore
import SwiftletKernels

/// A normalization weight vector as f32 (mapped in place when stored as F32, else converted once).
public struct NormWeight: @unchecked Sendable {
    public let values: UnsafePointer<Float>
    public let count: Int
}

/// One expert of a mixture-of-experts layer: a gated MLP of its own.
public struct ExpertWeights: Sendable {
    public let gate, up, down: Linear
}

/// A layer's MLP: one gated MLP, or a router choosing among experts.
public enum FeedForwardWeights: Sendable {
    case dense(gate: Linear, up: Linear, down: Linear)
    case experts(router: Linear, experts: [ExpertWeights])
}

public struct LayerWeights: Sendable {
    public let attnNorm: NormWeight
    public let q, k, v, o: Linear
    public let qNorm, kNorm, postAttnNorm: NormWeight?
    public let ffnNorm: NormWeight
    public let feedForward: FeedForwardWeights
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

        /// A tensor that is absent, or present in a type no kernel computes with (integer dtypes).
        func missing(_ name: String) -> ModelError {
            source.tensorNames.contains(name)
                ? ModelError("\(c.architecture): tensor \(name) is stored in a type the engine cannot compute with (float types are supported)")
                : ModelError("\(c.architecture): missing tensor \(name)")
        }
        func find(_ role: TensorRole, _ layer: Int?, required: Bool = true) throws -> SourceTensor? {
            let name = WeightNames.name(names, role, layer: layer)
            guard let t = source.tensor(name) else {
                if required { throw missing(name) }
                return nil
            }
            used.insert(name)
            return t
        }
        func tensor(_ name: String) throws -> SourceTensor {
            guard let t = source.tensor(name) else { throw missing(name) }
            used.insert(name)
            return t
        }
        func linear(_ role: TensorRole, _ layer: Int?, expert: Int? = nil, inputs: Int, outputs: Int) throws -> Linear {
            let t = try tensor(WeightNames.name(names, role, layer: layer, expert: expert))
            guard t.dims == [inputs, outputs] else {
                throw ModelError("\(c.architecture): tensor \(t.name) has shape \(t.dims), expected [\(inputs), \(outputs)]")
            }
            var m = try Linear(name: t.name, weights: t.data, inputs: inputs, outputs: outputs, type: t.type)
            if c.biases.contains(role) {
                m.bias = try vector(tensor(WeightNames.biasName(of: t.name)), size: outputs, offset: 0).values
            }
            return m
        }
        /// Expert e's projection: its own tensor (`%e` in the name), or rows of a stacked 3-D one.
        func expert(_ role: TensorRole, _ layer: Int, _ e: Int, inputs: Int, outputs: Int) throws -> Linear {
            if names[role]!.contains("%e") { return try linear(role, layer, expert: e, inputs: inputs, outputs: outputs) }
            let t = try tensor(WeightNames.name(names, role, layer: layer))
            guard t.dims == [inputs, outputs, c.expertCount] else {
                throw ModelError("\(c.architecture): tensor \(t.name) has shape \(t.dims), expected [\(inputs), \(outputs), \(c.expertCount)]")
            }
            let all = try Linear(name: t.name, weights: t.data, inputs: inputs, outputs: outputs * c.expertCount, type: t.type)
            return all.rows((e * outputs)..<((e + 1) * outputs), name: "expert \(e)")
        }
        func norm(_ role: TensorRole, _ layer: Int?, size: Int, required: Bool = true) throws -> NormWeight? {
            guard let t = try find(role, layer, required: required) else { return nil }
            return try vector(t, size: size, offset: normOffset)
        }
        /// A 1-D f32 vector (norm weight or bias), mapped in place when possible, plus `offset`.
        func vector(_ t: SourceTensor, size: Int, offset: Float) throws -> NormWeight {
            guard t.dims == [size] else {
                throw ModelError("\(c.architecture): tensor \(t.name) has shape \(t.dims), expected [\(size)]")
            }
            if t.type == .f32 && offset == 0 && Int(bitPattern: t.data) % MemoryLayout<Float>.alignment == 0 {
                return NormWeight(values: t.data.assumingMemoryBound(to: Float.self), count: size)
            }
            let kernels: WeightKernels
            do { kernels = try KernelTable.kernels(for: t.type) } catch { throw ModelError("tensor \(t.name): \(error)") }
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: size)
            kernels.dequantizeRow(t.data, buf, size)
            for i in 0..<size { buf[i] += offset }
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
        let H = c.hiddenSize, F = c.ffnSize
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            // Fused tensors (when the table names them) are split into row ranges, not copied.
            let q, k, v: Linear
            if names[.attnQKV] != nil {
                let qkv = try linear(.attnQKV, l, inputs: H, outputs: c.qDim + c.kvDim + c.vDim)
                (q, k, v) = (qkv.rows(0..<c.qDim, name: "q"), qkv.rows(c.qDim..<(c.qDim + c.kvDim), name: "k"),
                             qkv.rows((c.qDim + c.kvDim)..<(c.qDim + c.kvDim + c.vDim), name: "v"))
            } else {
                (q, k, v) = (try linear(.attnQ, l, inputs: H, outputs: c.qDim), try linear(.attnK, l, inputs: H, outputs: c.kvDim),
                             try linear(.attnV, l, inputs: H, outputs: c.vDim))
            }
            let feedForward: FeedForwardWeights
            if c.isMoE {
                let router = try linear(.ffnRouter, l, inputs: H, outputs: c.expertCount)
                let experts = try (0..<c.expertCount).map { e in
                    ExpertWeights(gate: try expert(.expertGate, l, e, inputs: H, outputs: F),
                                  up: try expert(.expertUp, l, e, inputs: H, outputs: F),
                                  down: try expert(.expertDown, l, e, inputs: F, outputs: H))
                }
                feedForward = .experts(router: router, experts: experts)
            } else if names[.ffnGateUp] != nil {
                let gateUp = try linear(.ffnGateUp, l, inputs: H, outputs: 2 * F)
                feedForward = .dense(gate: gateUp.rows(0..<F, name: "gate"), up: gateUp.rows(F..<(2 * F), name: "up"),
                                     down: try linear(.ffnDown, l, inputs: F, outputs: H))
            } else {
                feedForward = .dense(gate: try linear(.ffnGate, l, inputs: H, outputs: F), up: try linear(.ffnUp, l, inputs: H, outputs: F),
                                     down: try linear(.ffnDown, l, inputs: F, outputs: H))
            }
            layers.append(LayerWeights(
                attnNorm: try norm(.attnNorm, l, size: c.hiddenSize)!,
                q: q, k: k, v: v,
                o: try linear(.attnOutput, l, inputs: c.headCount * c.valueDim, outputs: c.hiddenSize),
                qNorm: c.qkNorm ? try norm(.attnQNorm, l, size: c.headDim) : nil,
                kNorm: c.qkNorm ? try norm(.attnKNorm, l, size: c.headDim) : nil,
                postAttnNorm: c.postNorms ? try norm(.postAttnNorm, l, size: c.hiddenSize) : nil,
                ffnNorm: try norm(.ffnNorm, l, size: c.hiddenSize)!,
                feedForward: feedForward,
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
