// Which weights stay resident under a memory budget, and whether there is room to prefetch.
import Foundation

/// How a model runs under a weight budget: what is pinned, what is streamed each forward pass.
public struct StreamingPlan: Sendable, Codable {
    /// The budget for weights (the KV cache, activations and the process itself come on top).
    public var budgetBytes: Int
    /// All weight bytes the forward pass reads (layers and output projection).
    public var modelBytes: Int
    /// Bytes kept resident for the model's life.
    public var pinnedBytes: Int
    /// Bytes read from the files on each forward pass.
    public var streamedBytesPerPass: Int
    /// The largest streamed unit (a layer, or an output chunk): the room one load needs.
    public var slotBytes: Int
    /// Whether the next unit is read on a background thread while the current one computes
    /// (false when asked, or when the budget has room for only one streamed unit).
    public var prefetch: Bool
    public var layers: Int
    public var layersPinned: Int
    public var outputChunks: Int
    public var outputChunksPinned: Int

    enum CodingKeys: String, CodingKey {
        case budgetBytes = "budget_bytes", modelBytes = "model_bytes", pinnedBytes = "pinned_bytes"
        case streamedBytesPerPass = "streamed_bytes_per_pass", slotBytes = "slot_bytes", prefetch
        case layers, layersPinned = "layers_pinned", outputChunks = "output_chunks", outputChunksPinned = "output_chunks_pinned"
    }

    /// Pins units (output chunks first: perplexity reads the head several times per pass; then
    /// layers from the first) while the pinned bytes plus room for the streamed ones (two units
    /// with prefetch, one without) fit the budget. A budget below the largest layer is an error.
    static func make(budget: Int, prefetch wanted: Bool, layers: inout [StreamUnit], output: inout [StreamUnit]) throws -> StreamingPlan {
        let all = layers + output
        let total = all.reduce(0) { $0 + $1.bytes }
        let largestLayer = layers.map(\.bytes).max() ?? 0
        let slot = all.map(\.bytes).max() ?? 0
        var pinned = 0
        var prefetch = wanted
        if total <= budget {
            for i in layers.indices { layers[i].pinned = true }
            for i in output.indices { output[i].pinned = true }
            pinned = total
            prefetch = false
        } else {
            guard budget >= slot else {
                throw RuntimeError("--max-memory \(ByteSize.format(budget)) is below the largest layer (\(ByteSize.format(largestLayer))); "
                    + "a streamed model needs at least one layer in memory: raise it to \(ByteSize.format(slot)), "
                    + "or \(ByteSize.format(2 * slot)) to prefetch")
            }
            if prefetch && budget < 2 * slot { prefetch = false }
            let room = prefetch ? 2 * slot : slot
            for i in output.indices where pinned + output[i].bytes + room <= budget {
                output[i].pinned = true
                pinned += output[i].bytes
            }
            for i in layers.indices where pinned + layers[i].bytes + room <= budget {
                layers[i].pinned = true
                pinned += layers[i].bytes
            }
        }
        return StreamingPlan(budgetBytes: budget, modelBytes: total, pinnedBytes: pinned, streamedBytesPerPass: total - pinned,
                             slotBytes: slot, prefetch: prefetch, layers: layers.count,
                             layersPinned: layers.filter(\.pinned).count, outputChunks: output.count,
                             outputChunksPinned: output.filter(\.pinned).count)
    }

    /// One line for logs: "64.0 MB budget: 12/18 layers and 0/49 head chunks resident (55.1 MB),
    /// 190.2 MB read per pass, prefetch on".
    public var summary: String {
        "\(ByteSize.format(budgetBytes)) budget: \(layersPinned)/\(layers) layers and \(outputChunksPinned)/\(outputChunks) head chunks resident "
            + "(\(ByteSize.format(pinnedBytes))), \(ByteSize.format(streamedBytesPerPass)) read per pass, prefetch \(prefetch ? "on" : "off")"
    }
}
