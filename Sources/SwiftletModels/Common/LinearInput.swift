// The activations a layer's linear projections read, named so a forward-pass observer knows which
// weights each one feeds (calibration statistics for pruning and activation-aware quantization).

/// One of the inputs a decoder layer's projections read. The forward pass hands each to
/// `DecoderScratch.inputObserver` as it computes it.
public enum LinearInput: Int, CaseIterable, Sendable {
    /// The normed hidden state before attention, read by q, k and v (or a fused qkv).
    case attention
    /// The attention's output, all heads side by side (headCount * valueDim), read by the output projection.
    case attentionOutput
    /// The normed hidden state before the MLP, read by gate and up (or a fused gate_up), and in
    /// mixture-of-experts layers by the router and every expert's gate and up.
    case mlp
    /// act(gate) * up, read by down. Dense MLPs only: an expert's hidden is not observed.
    case mlpHidden

    /// The input a weight of `role` reads, or nil for weights no observed input feeds (norms,
    /// embeddings, the output head, experts' down).
    public init?(readBy role: TensorRole) {
        switch role {
        case .attnQ, .attnK, .attnV, .attnQKV: self = .attention
        case .attnOutput: self = .attentionOutput
        case .ffnGate, .ffnUp, .ffnGateUp, .ffnRouter, .expertGate, .expertUp: self = .mlp
        case .ffnDown: self = .mlpHidden
        default: return nil
        }
    }
}

/// Sees `n` rows of `width` values of one layer's linear input, as the forward pass computes them.
/// Called on the forward pass's thread, before the projections read the rows.
public typealias LinearInputObserver = (_ input: LinearInput, _ layer: Int, _ rows: UnsafePointer<Float>, _ n: Int, _ width: Int) -> Void
