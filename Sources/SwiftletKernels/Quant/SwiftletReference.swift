// Scalar reference kernels for Swiftlet's own formats: plain loops, no SIMD, the oracle for AVX2Swiftlet.swift and
// AVX2I8Row.swift. Group formats (SW_A4_G*, SW_A8_G*) are dotted against Q8_1 activations one 32-weight chunk at a
// time, as Q4_1 is: Float(isum) * (d * d_x) + m * s_x per chunk, so SW_A4_G32 gives Q4_1's floats exactly.
// SW_I8_ROW's int8 codes are dotted against SW_Q16 activations (int16 codes, an f32 scale per 32): an exact
// integer sum per block times the block's scale, and the row's f32 scale once at the end.
import SwiftletCore

extension Off {
    static let swGroupQs = MemoryLayout<BlockA4G64>.offset(of: \.qs)!      // 4, in every group format
    static let i8RowCodes = MemoryLayout<Float>.size                      // 4: a SW_I8_ROW row's codes follow its scale
    static let q16qs = MemoryLayout<BlockQ16>.offset(of: \.qs)!             // 4
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

    /// Dequantizes one block of a Swiftlet group format: x = d * q + m (Q4_1's arithmetic); or of SW_Q16, x = d * q.
    static func swiftletDequantizeBlock(_ type: GGMLType) -> DequantizeBlock? {
        if type == .swQ16 { return { b, out, _ in q16DequantizeBlock(b, out) } }
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

    /// One row against a SW_Q16 activation row: scale * sum over blocks b of d_b * sum(code_j * q_j), the
    /// inner sums exact integers.
    static func i8RowDot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ k: Int) -> Float {
        var sum: Float = 0
        for b in 0..<(k / 32) {
            let xb = x + 68 * b
            var isum = 0
            for j in 0..<32 {
                isum += i8(w, Off.i8RowCodes + 32 * b + j) * Int(xb.loadUnaligned(fromByteOffset: Off.q16qs + 2 * j, as: Int16.self))
            }
            sum += Float(isum) * xb.loadUnaligned(as: Float.self)
        }
        return sum * w.loadUnaligned(as: Float.self)
    }

    /// SW_Q16: d = amax / 32767, q = round(x * 32767 / amax) to nearest, ties to even (as Q8_0's, with 32767 for 127).
    public static func quantizeQ16(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) {
        for i in 0..<(k / 32) {
            let xb = x + 32 * i, b = dst + 68 * i
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(xb[j])) }
            let id: Float = amax != 0 ? 32767 / amax : 0
            for j in 0..<32 { b.storeBytes(of: roundToInt16(xb[j] * id), toByteOffset: Off.q16qs + 2 * j, as: Int16.self) }
            b.storeBytes(of: amax / 32767, toByteOffset: 0, as: Float.self)
        }
    }

    static func q16DequantizeBlock(_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>) {
        let d = b.loadUnaligned(as: Float.self)
        for j in 0..<32 { out[j] = d * Float(b.loadUnaligned(fromByteOffset: Off.q16qs + 2 * j, as: Int16.self)) }
    }

    static func i8RowKernels() -> WeightKernels {
        WeightKernels(
            type: .swI8Row, activationType: .swQ16,
            dequantizeRow: { src, dst, k in i8RowDequantize(src, dst, k) },
            quantizeActivation: { x, dst, k in quantizeQ16(x, dst, k) },
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
