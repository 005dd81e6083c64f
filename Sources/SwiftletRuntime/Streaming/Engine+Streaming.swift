// Running an engine's model under a memory budget (layer streaming).
import SwiftletModels

extension Engine {
    /// From now on keeps at most `budget` bytes of weights resident (plus a page here and there at
    /// unit boundaries), streaming the rest from the model files on every forward pass; with
    /// `prefetch`, the next unit is read on a background thread while the current one computes.
    /// Works on any memory-mapped model; a split folder (`swiftlet split`) keeps each layer in a
    /// file of its own. Returns the plan (what is pinned, what is read per pass).
    @discardableResult
    public func streamWeights(budget: Int, prefetch: Bool = true) throws -> StreamingPlan {
        residency = nil   // the new streamer drops whatever its plan does not pin
        let streamer = try LayerStreamer(model: model, budget: budget, prefetch: prefetch)
        residency = streamer
        return streamer.plan
    }

    /// The streamer, when the model runs under a budget.
    public var streamer: LayerStreamer? { residency as? LayerStreamer }
}
