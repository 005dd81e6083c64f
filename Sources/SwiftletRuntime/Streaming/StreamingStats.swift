// What layer streaming cost: bytes read, time loading, time the forward pass waited.

/// Counters of a LayerStreamer since it started (or since `reset`).
public struct StreamingStats: Sendable, Codable {
    /// Forward passes run.
    public var passes = 0
    /// Weight bytes made resident (streamed units only; pinned ones are read once at start).
    public var bytesLoaded = 0
    /// Seconds spent reading units, on whichever thread did it.
    public var loadSeconds = 0.0
    /// Seconds the forward pass was blocked waiting for weights (the I/O that was not hidden).
    public var waitSeconds = 0.0
    /// Units found already loaded by the prefetch thread when the forward pass asked.
    public var prefetchHits = 0
    /// Units the forward pass read itself (prefetch off, or the prefetch guessed wrong).
    public var directLoads = 0

    enum CodingKeys: String, CodingKey {
        case passes, bytesLoaded = "bytes_loaded", loadSeconds = "load_seconds", waitSeconds = "wait_seconds"
        case prefetchHits = "prefetch_hits", directLoads = "direct_loads"
    }

    /// The difference between two readings.
    public static func - (a: StreamingStats, b: StreamingStats) -> StreamingStats { a.combined(b, -) }

    /// The sum of two periods.
    public static func + (a: StreamingStats, b: StreamingStats) -> StreamingStats { a.combined(b, +) }

    private func combined(_ b: StreamingStats, _ op: (Double, Double) -> Double) -> StreamingStats {
        func i(_ x: Int, _ y: Int) -> Int { Int(op(Double(x), Double(y))) }
        return StreamingStats(passes: i(passes, b.passes), bytesLoaded: i(bytesLoaded, b.bytesLoaded),
                              loadSeconds: op(loadSeconds, b.loadSeconds), waitSeconds: op(waitSeconds, b.waitSeconds),
                              prefetchHits: i(prefetchHits, b.prefetchHits), directLoads: i(directLoads, b.directLoads))
    }
}
