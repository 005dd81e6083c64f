// Keys and values of past positions for one sequence, kept outside the model (f16, like llama.cpp).

/// Per-layer key and value rows, one row per position: keys (capacity, kvHeads * headDim),
/// values (capacity, kvHeads * valueDim), stored as f16 bits.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let capacity: Int
    public let keyWidth: Int
    public let valueWidth: Int
    /// Positions filled so far (the next token goes at this position).
    public internal(set) var count = 0
    let keys: UnsafeMutablePointer<UInt16>
    let values: UnsafeMutablePointer<UInt16>

    public init(config: DecoderConfig, capacity: Int) {
        layerCount = config.layerCount
        self.capacity = capacity
        keyWidth = config.kvDim
        valueWidth = config.vDim
        keys = .allocate(capacity: layerCount * capacity * keyWidth)
        values = .allocate(capacity: layerCount * capacity * valueWidth)
    }

    public var byteCount: Int { layerCount * capacity * (keyWidth + valueWidth) * 2 }

    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<UInt16> {
        keys + (layer * capacity + position) * keyWidth
    }

    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<UInt16> {
        values + (layer * capacity + position) * valueWidth
    }

    /// Forgets positions from `position` on (e.g. to reuse a common prompt prefix).
    public func truncate(to position: Int) { count = min(count, max(0, position)) }

    deinit {
        keys.deallocate()
        values.deallocate()
    }
}
