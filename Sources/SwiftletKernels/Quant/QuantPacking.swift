// Packing quantizer output (integer codes plus per-group or per-row scales) into Swiftlet's own weight formats,
// and SW_I8_ROW -> Q8_0 for GGUF files that llama.cpp reads. The quantization algorithms (RTN, HQQ) live in
// SwiftletOptimize; this is only the storage side, the layouts of SwiftletBlocks.swift and GGMLType.
import SwiftletCore

/// Packs quantized rows into Swiftlet's formats (`GGMLType.swI8Row`, `.swA4G*`, `.swA8G*`).
public enum QuantPacking {
    /// Whether `packRow` writes `type`.
    public static func isPackable(_ type: GGMLType) -> Bool {
        type == .swI8Row || type.swiftletGroup != nil
    }

    /// Packs one row of k weights into `dst` (`type.rowBytes(k)` bytes).
    ///
    /// Group formats: codes are unsigned levels (0..<16 or 0..<256), one scale and min per group of groupSize
    /// weights (k / groupSize of each), x = scale * q + min; scale and min are stored as f16 (callers that need
    /// exact round trips pass values already rounded to f16). k must be a multiple of the group size.
    ///
    /// swI8Row: codes are Int8 bit patterns (-127...127 in torchao's scheme; -128 also decodes and dots
    /// correctly), scales[0] is the row's f32 scale, kept exactly; mins unused. k must be a multiple of 32.
    public static func packRow(_ type: GGMLType, codes: UnsafePointer<UInt8>, scales: UnsafePointer<Float>,
                               mins: UnsafePointer<Float>, k: Int, into dst: UnsafeMutableRawPointer) {
        if type == .swI8Row {
            precondition(k % 32 == 0, "SW_I8_ROW row length \(k) is not a multiple of 32")
            dst.storeBytes(of: scales[0], as: Float.self)
            (dst + Off.i8RowCodes).copyMemory(from: codes, byteCount: k)
            return
        }
        guard let group = type.swiftletGroup else { preconditionFailure("packRow: \(type) is not a Swiftlet format") }
        let g = group.groupSize
        precondition(k % g == 0, "\(type) row length \(k) is not a multiple of the group size \(g)")
        for i in 0..<(k / g) {
            let b = dst + i * type.blockBytes, q = codes + i * g
            b.storeBytes(of: floatToHalf(scales[i]), toByteOffset: 0, as: UInt16.self)
            b.storeBytes(of: floatToHalf(mins[i]), toByteOffset: 2, as: UInt16.self)
            let qs = b + Off.swGroupQs
            if group.bits == 8 {
                qs.copyMemory(from: q, byteCount: g)
                continue
            }
            for c in 0..<(g / 32) {              // chunks of 32: low nibbles weights 0..<16, high nibbles 16..<32
                for j in 0..<16 {
                    let lo = q[32 * c + j], hi = q[32 * c + 16 + j]
                    precondition(lo < 16 && hi < 16, "\(type) code out of range 0..<16")
                    qs.storeBytes(of: lo | hi << 4, toByteOffset: 16 * c + j, as: UInt8.self)
                }
            }
        }
    }

    /// Converts one SW_I8_ROW row of k weights (k a multiple of 32) into k / 32 Q8_0 blocks (34 bytes each):
    /// every block gets d = f16(row scale) and the same codes. Exact up to rounding the scale to f16 (relative
    /// error at most 2^-11, the same for the whole row; a scale outside f16's range becomes 0 or infinity).
    public static func i8RowToQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ k: Int) {
        precondition(k % 32 == 0, "SW_I8_ROW row length \(k) is not a multiple of 32")
        let d = floatToHalf(src.loadUnaligned(as: Float.self))
        for i in 0..<(k / 32) {
            let b = dst + 34 * i
            b.storeBytes(of: d, toByteOffset: 0, as: UInt16.self)
            (b + 2).copyMemory(from: src + Off.i8RowCodes + 32 * i, byteCount: 32)
        }
    }
}
