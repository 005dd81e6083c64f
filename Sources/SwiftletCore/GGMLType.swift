// The tensor element types of the GGUF format (ggml's numbering), with their block geometry, plus
// Swiftlet's own weight formats for its post-training quantizers.

/// A GGUF tensor element type. Raw values are the ggml type ids stored in GGUF files.
///
/// The `sw...` cases are Swiftlet's own formats, not ggml's: their ids start at 0x5357_0000 ("SW"), far
/// outside ggml's range, so they cannot collide with a future ggml type. llama.cpp does not read them; a GGUF
/// file holding them is for Swiftlet only (`QuantPacking.i8RowToQ8_0` converts SW_I8_ROW rows for export).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29
    case bf16 = 30, tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// SW_I8_ROW: int8 symmetric per output channel (torchao's Int8WeightOnly). A row of k weights is an f32
    /// scale s followed by k int8 codes c (-127...127), x = s * c: 4 + k bytes, not a whole number of blocks
    /// (use `rowBytes`). k must be a multiple of 32, the SW_Q16 activation blocks the codes are dotted against.
    case swI8Row = 0x5357_0001
    /// SW_A4_G<g>: 4-bit asymmetric groups of g weights. A block is f16 d, f16 m, then g/2 bytes of codes
    /// q (0...15), x = d * q + m; codes in chunks of 32 weights, 16 bytes each, low nibbles weights 0..<16
    /// and high nibbles 16..<32 (Q4_1's order). SW_A4_G32 is byte for byte Q4_1.
    case swA4G32 = 0x5357_0101, swA4G64 = 0x5357_0102, swA4G128 = 0x5357_0103
    /// SW_A8_G<g>: 8-bit asymmetric groups of g weights. A block is f16 d, f16 m, then g unsigned bytes q
    /// (0...255), x = d * q + m.
    case swA8G32 = 0x5357_0201, swA8G64 = 0x5357_0202, swA8G128 = 0x5357_0203
    /// SW_Q16: activations only, never a weight format. A block of 32 is an f32 scale d = max|x| / 32767, then 32
    /// int16 codes q = round(x / d): x = d * q, within d / 2, 258 times finer than Q8_0. SW_I8_ROW's codes are
    /// dotted against it.
    case swQ16 = 0x5357_0301

    /// Number of weights in one block (1 for plain scalar types). SW_I8_ROW: 32, the granule of a row's
    /// length (its rows are not blocks: a row is a 4-byte scale and k codes).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl, .mxfp4: return 32
        case .swI8Row, .swA4G32, .swA8G32, .swQ16: return 32
        case .swA4G64, .swA8G64: return 64
        case .swA4G128, .swA8G128: return 128
        default: return 256
        }
    }

    /// Bytes in one block. SW_I8_ROW: 32, the codes of 32 weights (a row has 4 more bytes: use `rowBytes`).
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .i8: return 1
        case .i16: return 2
        case .i32: return 4
        case .i64, .f64: return 8
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q8_1: return 36
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        case .q8_K: return 292
        case .iq2_xxs: return 66
        case .iq2_xs: return 74
        case .iq3_xxs: return 98
        case .iq1_s: return 50
        case .iq4_nl: return 18
        case .iq3_s: return 110
        case .iq2_s: return 82
        case .iq4_xs: return 136
        case .iq1_m: return 56
        case .tq1_0: return 54
        case .tq2_0: return 66
        case .mxfp4: return 17
        case .swI8Row: return 32
        case .swA4G32: return 20
        case .swA4G64: return 36
        case .swA4G128: return 68
        case .swA8G32: return 36
        case .swA8G64: return 68
        case .swA8G128: return 132
        case .swQ16: return 68
        }
    }

    /// Bytes needed for `count` elements, or nil when `count` is not a whole number of blocks, the size
    /// overflows, or the type is not a block format (SW_I8_ROW: size it with `rowBytes` / `byteCount(rows:rowLength:)`).
    public func byteCount(elements count: Int) -> Int? {
        guard self != .swI8Row, count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// Bytes of one row of k elements (a weight matrix is stored row after row), or nil when k is not a
    /// whole number of blocks or the size overflows. Block types: `byteCount(elements: k)`; SW_I8_ROW: 4 + k.
    public func rowBytes(_ k: Int) -> Int? {
        guard self == .swI8Row else { return byteCount(elements: k) }
        guard k >= 0, k % blockSize == 0, k <= Int.max - 4 else { return nil }
        return 4 + k
    }

    /// Bytes of `rows` rows of `rowLength` elements each, or nil as for `rowBytes` or when the size overflows.
    public func byteCount(rows: Int, rowLength: Int) -> Int? {
        guard rows >= 0, let row = rowBytes(rowLength) else { return nil }
        let (bytes, overflow) = rows.multipliedReportingOverflow(by: row)
        return overflow ? nil : bytes
    }

    /// Whether this is one of Swiftlet's own formats (not readable by llama.cpp).
    public var isSwiftletFormat: Bool { rawValue & 0xFFFF_0000 == 0x5357_0000 }

    /// (bits per code, group size) of a Swiftlet group format (SW_A4_G*, SW_A8_G*); nil for every other type.
    public var swiftletGroup: (bits: Int, groupSize: Int)? {
        switch self {
        case .swA4G32, .swA4G64, .swA4G128: return (4, blockSize)
        case .swA8G32, .swA8G64, .swA8G128: return (8, blockSize)
        default: return nil
        }
    }

    /// The Swiftlet group format for codes of `bits` (4 or 8) bits in groups of `group` (32, 64 or 128)
    /// weights, e.g. a 4-bit RTN or HQQ quantization with group 64 -> `.swA4G64`; nil for other combinations.
    public static func swiftletGroup(bits: Int, group: Int) -> GGMLType? {
        switch (bits, group) {
        case (4, 32): return .swA4G32
        case (4, 64): return .swA4G64
        case (4, 128): return .swA4G128
        case (8, 32): return .swA8G32
        case (8, 64): return .swA8G64
        case (8, 128): return .swA8G128
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .f64: return "F64"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q8_1: return "Q8_1"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .q8_K: return "Q8_K"
        case .iq2_xxs: return "IQ2_XXS"
        case .iq2_xs: return "IQ2_XS"
        case .iq3_xxs: return "IQ3_XXS"
        case .iq1_s: return "IQ1_S"
        case .iq4_nl: return "IQ4_NL"
        case .iq3_s: return "IQ3_S"
        case .iq2_s: return "IQ2_S"
        case .iq4_xs: return "IQ4_XS"
        case .iq1_m: return "IQ1_M"
        case .tq1_0: return "TQ1_0"
        case .tq2_0: return "TQ2_0"
        case .mxfp4: return "MXFP4"
        case .swI8Row: return "SW_I8_ROW"
        case .swA4G32: return "SW_A4_G32"
        case .swA4G64: return "SW_A4_G64"
        case .swA4G128: return "SW_A4_G128"
        case .swA8G32: return "SW_A8_G32"
        case .swA8G64: return "SW_A8_G64"
        case .swA8G128: return "SW_A8_G128"
        case .swQ16: return "SW_Q16"
        }
    }
}
