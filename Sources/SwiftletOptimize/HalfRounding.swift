// Rounding Float to the nearest (or the next lower / higher) f16-representable value, clamped to
// f16's finite range: quantization parameters are stored as f16.

enum HalfRounding {
    static let largest = Float(Float16.greatestFiniteMagnitude)

    /// The nearest f16 value (ties to even), clamped to ±65504.
    @inline(__always) static func nearest(_ x: Float) -> Float {
        Float(Float16(Swift.min(Swift.max(x, -largest), largest)))
    }

    /// The largest f16 value <= x (or -65504).
    @inline(__always) static func down(_ x: Float) -> Float {
        let h = Float16(Swift.min(Swift.max(x, -largest), largest))
        return Float(h) > x && h > -Float16.greatestFiniteMagnitude ? Float(h.nextDown) : Float(h)
    }

    /// The smallest f16 value >= x (or 65504).
    @inline(__always) static func up(_ x: Float) -> Float {
        let h = Float16(Swift.min(Swift.max(x, -largest), largest))
        return Float(h) < x && h < Float16.greatestFiniteMagnitude ? Float(h.nextUp) : Float(h)
    }
}
