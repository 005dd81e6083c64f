// Scalar reference kernels for Swiftlet's own formats: plain loops, no SIMD, the oracle for AVX2Swiftlet.swift.
// Group formats (SW_A4_G*, SW_A8_G*) are dotted against Q8_1 activations one 32-weight chunk at a time, as Q4_1
// is: Float(isum) * (d * d_x) + m * s_x per chunk, so SW_A4_G32 gives Q4_1's floats exactly. SW_I8_ROW is
// weight-only int8: its codes are dotted with f32 activations, times the row's f32 scale once at the end.
import SwiftletCore

extension Off {
    static let swGroupQs = MemoryLayout<BlockA4G64>.offset(of: \.qs)!      // 4, in every group format
    static let i8RowCodes = MemoryLayout<Float>.size                      // 4: a SW_I8_ROW row's codes follow its scale
}

extension ReferenceKernels {
    /// The g codes of block b of a group format with `bits`-bit codes, 0...15 or 0...255, in element order.
    @inline(__always)
    static func swiftletCodes(_ bits: Int, _ g: Int, _ b: UnsafeRawPointer, _ q: UnsafeMutablePointer<Int>) {
        if bits == 4 {
            for c in 0..<(g / 32) { RefUnpack.nibbles(b + Off.swGroupQs + 16 * c, q + 32 * c) }
        } else {
            for j in 0..<g { q[j] = u8(b, Off.swGroupQs + j) }
        }
    }

    /// Dequantizes one block of a Swiftlet group format: x = d * q + m (Q4_1's arithmetic).
    static func swiftletDequantizeBlock(_ type: GGMLType) -> DequantizeBlock? {
        guard let group = type.swiftletGroup else { return nil }
        let bits = group.bits, g = group.groupSize
        return { b, out, q in
            let d = f16(b, 0), m = f16(b, 2)
            swiftletCodes(bits, g, b, q)
            for j in 0..<g { out[j] = Float(q[j]) * d + m }
        }
    }

    /// Dot product of one group block with its g / 32 Q8_1 activation blocks, chunk by chunk.
    static func swiftletDotBlock(_ type: GGMLType) -> DotBlock? {
        guard let group = type.swiftletGroup else { return nil }
        let bits = group.bits, g = group.groupSize
        return { b, xb, q in
            let d = f16(b, 0), m = f16(b, 2)
            swiftletCodes(bits, g, b, q)
            var sumf: Float = 0
            for c in 0..<(g / 32) {
                let x = xb + 36 * c
                var sumi = 0
                for j in 0..<32 { sumi += q[32 * c + j] * i8(x, Off.q8_1qs + j) }
                sumf += Float(sumi) * (d * f16(x, 0)) + m * f16(x, 2)
            }
            return sumf
        }
    }

    // MARK: SW_I8_ROW (rows, not blocks)

    static func i8RowDequantize(_ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ k: Int) {
        let s = src.loadUnaligned(as: Float.self)
        for j in 0..<k { y[j] = s * Float(i8(src, Off.i8RowCodes + j)) }
    }

    /// One row against an f32 activation row (weight-only: the activations are not quantized):
    /// scale * sum(code_j * x_j).
    static func i8RowDot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ k: Int) -> Float {
        var sum: Float = 0
        for j in 0..<k { sum += Float(i8(w, Off.i8RowCodes + j)) * x.loadUnaligned(fromByteOffset: 4 * j, as: Float.self) }
        return sum * w.loadUnaligned(as: Float.self)
    }

    static func i8RowKernels() -> WeightKernels {
        WeightKernels(
            type: .swI8Row, activationType: .f32,
            dequantizeRow: { src, dst, k in i8RowDequantize(src, dst, k) },
            quantizeActivation: { x, dst, k in dst.copyMemory(from: x, byteCount: 4 * k) },
            matvec: { w, rows, k, xq, y in
                let rowBytes = 4 + k
                for r in rows { y[r - rows.lowerBound] = i8RowDot(w + r * rowBytes, xq, k) }
            },
            matmul: { w, rows, k, xq, xqStride, n, y, ldy in
                let rowBytes = 4 + k
                for j in 0..<n {
                    for r in rows { y[j * ldy + r] = i8RowDot(w + r * rowBytes, xq + j * xqStride, k) }
                }
            })
    }
}
