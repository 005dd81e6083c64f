// Keys and values of past positions for one sequence, kept outside the model (f16 like llama.cpp,
// or f32 for full-precision checkpoints).

/// Per-layer key and value rows, one row per position: keys (capacity, kvHeads * headDim),
/// values (capacity, kvHeads * valueDim), stored as `type` elements.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let capacity: Int
    public let keyWidth: Int
    public let valueWidth: Int
    public let type: KVCacheType
    /// Positions filled so far (the next token goes at this position).
    public internal(set) var count = 0
    let keys: UnsafeMutableRawPointer
    let values: UnsafeMutableRawPointer

    public init(config: DecoderConfig, capacity: Int) {
        layerCount = config.layerCount
        self.capacity = capacity
        keyWidth = config.kvDim
        valueWidth = config.vDim
        type = config.cacheType
        keys = .allocate(byteCount: max(1, layerCount * capacity * keyWidth * type.bytes), alignment: 64)
        values = .allocate(byteCount: max(1, layerCount * capacity * valueWidth * type.bytes), alignment: 64)
    }

    public var byteCount: Int { layerCount * capacity * (keyWidth + valueWidth) * type.bytes }

    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        keys + (layer * capacity + position) * keyWidth * type.bytes
    }

    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        values + (layer * capacity + position) * valueWidth * type.bytes
    }

    /// Forgets positions from `position` on (e.g. to reuse a common prompt prefix).
    public func truncate(to position: Int) { count = min(count, max(0, position)) }

    deinit {
        keys.deallocate()
        values.deallocate()
    }
}
