// Running an engine's model under a memory budget (layer streaming).
import SwiftletCore
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

    /// Loads the model at `path`; with `maxMemory`, runs it under that weight budget (see
    /// `streamWeights`), on the threads and prompt batch streaming wants unless given.
    public static func load(path: String, threads: Int? = nil, maxBatch: Int? = nil, maxMemory: Int? = nil,
                            prefetch: Bool = true) throws -> (engine: Engine, plan: StreamingPlan?) {
        let streaming = maxMemory != nil
        let engine = try Engine(path: path, threads: computeThreads(threads, streaming: streaming, prefetch: prefetch),
                                maxBatch: maxBatch ?? defaultMaxBatch(streaming: streaming))
        return (engine, try maxMemory.map { try engine.streamWeights(budget: $0, prefetch: prefetch) })
    }

    /// Compute threads for a run: `requested` when given; when streaming with prefetch, one core
    /// fewer than the machine has, so the reading thread has a core of its own (reading through the
    /// page cache costs the kernel about a CPU-second per GB here: on 2 cores, a Llama-7B-shaped
    /// model under a 1 GB budget decoded at 2.7 s/token this way against 4.3 with both cores
    /// computing); else nil (every core).
    static func computeThreads(_ requested: Int?, streaming: Bool, prefetch: Bool) -> Int? {
        if let requested { return requested }
        return streaming && prefetch ? max(1, ThreadPool.coreCount - 1) : nil
    }

    /// Most prompt tokens per batch when none is asked for: 512, or 8192 when streaming, so a
    /// prompt goes through each streamed layer once (its activations grow with it; they are outside
    /// the weight budget).
    static func defaultMaxBatch(streaming: Bool) -> Int { streaming ? 8192 : 512 }

    /// The streamer, when the model runs under a budget.
    public var streamer: LayerStreamer? { residency as? LayerStreamer }
}
