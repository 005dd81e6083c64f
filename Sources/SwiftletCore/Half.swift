// Conversions for 16-bit floats stored as raw bits (IEEE half and bfloat16).

@inline(__always) public func halfToFloat(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
}

@inline(__always) public func floatToHalf(_ x: Float) -> UInt16 {
    Float16(x).bitPattern
}

@inline(__always) public func bf16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// Round-to-nearest-even, NaN kept quiet (as PyTorch and ggml do).
@inline(__always) public func floatToBF16(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
    let rounded = u &+ (0x7FFF &+ ((u >> 16) & 1))
    return UInt16(truncatingIfNeeded: rounded >> 16)
}
