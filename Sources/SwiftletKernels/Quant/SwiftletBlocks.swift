// The block layouts of Swiftlet's own group formats (GGMLType.swA4G*, .swA8G*), field for field, as Blocks.swift
// does for ggml's. Each block is one group of weights sharing an f16 scale d and an f16 min m: x = d * q + m.
// SW_I8_ROW has no blocks: a row is an f32 scale followed by the row's int8 codes (see GGMLType.swI8Row); the
// activations it is dotted against are SW_Q16 blocks (BlockQ16, last in this file).
// Blocks have odd sizes and tensor data is only 32-byte aligned: kernels read them through raw pointers.


/// SW_A4_G32: 32 weights, x = d * q + m, q 4-bit, 16 bytes laid out as Q4_1's qs.
/// Byte for byte `BlockQ4_1`.
public struct BlockA4G32: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 4-bit codes: chunk c in bytes 16c..<16c+16, low nibbles weights 0..<16 of the chunk, high 16..<32
}

/// SW_A4_G64: 64 weights, x = d * q + m, q 4-bit; 2 chunks of 32 weights in 16 bytes each, laid out as Q4_1's qs.
public struct BlockA4G64: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 4-bit codes: chunk c in bytes 16c..<16c+16, low nibbles weights 0..<16 of the chunk, high 16..<32
}

/// SW_A4_G128: 128 weights, x = d * q + m, q 4-bit; 4 chunks of 32 weights in 16 bytes each, laid out as Q4_1's qs.
public struct BlockA4G128: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 4-bit codes: chunk c in bytes 16c..<16c+16, low nibbles weights 0..<16 of the chunk, high 16..<32
}

/// SW_A8_G32: 32 weights, x = d * q + m, q 0...255.
public struct BlockA8G32: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 8-bit codes, unsigned, in element order
}

/// SW_A8_G64: 64 weights, x = d * q + m, q 0...255.
public struct BlockA8G64: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 8-bit codes, unsigned, in element order
}

/// SW_A8_G128: 128 weights, x = d * q + m, q 0...255.
public struct BlockA8G128: Sendable {
    public var d: UInt16  // scale (f16)
    public var m: UInt16  // minimum (f16)
    public var qs: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)  // 8-bit codes, unsigned, in element order
}

/// SW_Q16 (activations only): 32 values, x = d * q, d = max|x| / 32767, q int16. 68 bytes.
public struct BlockQ16: Sendable {
    public var d: Float   // scale (f32)
    public var qs: (Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16)  // codes, in element order
}
