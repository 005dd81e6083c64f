// Working memory of one forward pass, sized once for a batch size so `forward` allocates nothing.
import SwiftletCore

/// One matrix multiplication of a forward pass: its weights and where its output goes.
struct MatmulJob {
    let linear: Linear
    let out: UnsafeMutablePointer<Float>
}

/// The multiplications of one layer, grouped by shared input, fixed when the scratch is made so
/// the forward pass builds no lists.
struct LayerPlan {
    let qkv: [MatmulJob]
    let o: [MatmulJob]
    let gateUp: [MatmulJob]
    let down: [MatmulJob]
    /// Mixture-of-experts layers: the router's job and each expert's, run one token at a time.
    var moe: MoEPlan? = nil
}

struct MoEPlan {
    let router: [MatmulJob]
    let gateUp: [[MatmulJob]]
    let down: [[MatmulJob]]
}

/// Activation buffers for up to `maxBatch` tokens. Owned by the runtime (one per concurrent
/// sequence or worker), never by the model.
public final class DecoderScratch: @unchecked Sendable {
    public let maxBatch: Int
    public let threads: Int
    /// Logit rows computed at once (the output projection runs in chunks of this many rows).
    public let logitRows: Int
    let x, xn, q, k, v, att, tmp, gate, up: UnsafeMutablePointer<Float>
    let logits: UnsafeMutablePointer<Float>
    /// Sees every layer's linear inputs as the forward pass computes them (calibration statistics).
    /// Unset, the forward pass does nothing more.
    public var inputObserver: LinearInputObserver?
    /// Mixture of experts: one token's router logits and one expert's output.
    let routerLogits, expertOut: UnsafeMutablePointer<Float>
    /// (expertsPerToken) chosen experts of the current token and their weights.
    let chosenExperts: UnsafeMutablePointer<Int>
    let chosenWeights: UnsafeMutablePointer<Float>
    /// (threads, heads per kv head, capacity) attention scores.
    let scores: UnsafeMutablePointer<Float>
    let scoreCapacity: Int
    /// (maxBatch, ropeDims) cos/sin tables for the global and the sliding-window rope bases.
    let ropeGlobal, ropeLocal: UnsafeMutablePointer<Float>
    /// Quantized activations, one buffer per activation type the model's weights need (`slot(for:)`).
    private var quantizedTypes: [GGMLType] = []
    private var quantized: [UnsafeMutableRawPointer] = []
    let quantizedBytes: Int
    /// Per-layer multiplication plans and the output projection's (set by DecoderModel.makeScratch).
    var plans: [LayerPlan] = []
    var outputPlan: [MatmulJob] = []
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Bytes of every buffer allocated so far (the activations' memory).
    public private(set) var byteCount = 0

    public init(config c: DecoderConfig, maxBatch: Int, contextCapacity: Int, threads: Int, logitRows: Int = 1) {
        self.maxBatch = maxBatch
        self.threads = threads
        self.logitRows = max(1, min(logitRows, maxBatch))
        var allocations: [UnsafeMutableRawPointer] = []
        var bytes = 0
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64)
            bytes += max(n, 1) * 4
            allocations.append(p)
            return p.bindMemory(to: Float.self, capacity: max(n, 1))
        }
        let b = maxBatch
        x = floats(b * c.hiddenSize)
        xn = floats(b * c.hiddenSize)
        q = floats(b * c.qDim)
        k = floats(b * c.kvDim)
        v = floats(b * c.vDim)
        att = floats(b * c.headCount * c.valueDim)
        tmp = floats(b * c.hiddenSize)
        gate = floats(b * c.ffnSize)
        up = floats(b * c.ffnSize)
        logits = floats(self.logitRows * c.vocabSize)
        routerLogits = floats(c.expertCount)
        expertOut = floats(c.hiddenSize)
        chosenExperts = .allocate(capacity: max(1, c.expertsPerToken))
        chosenWeights = floats(c.expertsPerToken)
        scoreCapacity = contextCapacity * (c.headCount / c.kvHeadCount)
        scores = floats(threads * contextCapacity * (c.headCount / c.kvHeadCount))
        ropeGlobal = floats(b * c.ropeDims)
        ropeLocal = floats(b * c.ropeDims)
        // Widest activation row in f32 bytes bounds every quantized layout.
        quantizedBytes = b * max(c.hiddenSize, c.ffnSize, c.headCount * c.valueDim) * 4
        self.allocations = allocations
        byteCount = bytes
    }

    /// The index of `type`'s buffer among the activation types in use (0, 1, ...; a new type gets the next
    /// index and its buffer, on first use, at load time).
    func slot(for type: GGMLType) -> Int {
        if let i = quantizedTypes.firstIndex(of: type) { return i }
        let p = UnsafeMutableRawPointer.allocate(byteCount: quantizedBytes, alignment: 64)
        byteCount += quantizedBytes
        allocations.append(p)
        quantizedTypes.append(type)
        quantized.append(p)
        return quantized.count - 1
    }

    /// The buffer for activations quantized to `type`.
    func buffer(for type: GGMLType) -> UnsafeMutableRawPointer { quantized[slot(for: type)] }

    deinit {
        for p in allocations { p.deallocate() }
        chosenExperts.deallocate()
    }
}
