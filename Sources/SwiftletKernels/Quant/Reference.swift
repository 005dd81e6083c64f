// Scalar reference kernels: plain loops over ggml's block layouts, no SIMD. They are the test oracle for the
// AVX2 kernels and the portable fallback. Integer partial sums are exact; float accumulation follows ggml's
// generic code (one float multiply-add per block). Per-block functions are picked once per format; scratch for
// unpacked quants lives on the stack.
import SwiftletCore

/// Byte offsets of block fields, taken from the structs in Blocks.swift so the layouts have one source.
enum Off {
    static let q4_1qs = MemoryLayout<BlockQ4_1>.offset(of: \.qs)!          // 4
    static let q5_0qh = MemoryLayout<BlockQ5_0>.offset(of: \.qh)!          // 2
    static let q5_0qs = MemoryLayout<BlockQ5_0>.offset(of: \.qs)!          // 6
    static let q5_1qh = MemoryLayout<BlockQ5_1>.offset(of: \.qh)!          // 4
    static let q5_1qs = MemoryLayout<BlockQ5_1>.offset(of: \.qs)!          // 8
    static let q8_1qs = MemoryLayout<BlockQ8_1>.offset(of: \.qs)!          // 4
    static let q4Kscales = MemoryLayout<BlockQ4K>.offset(of: \.scales)!    // 4
    static let q4Kqs = MemoryLayout<BlockQ4K>.offset(of: \.qs)!            // 16
    static let q5Kqh = MemoryLayout<BlockQ5K>.offset(of: \.qh)!            // 16
    static let q5Kqs = MemoryLayout<BlockQ5K>.offset(of: \.qs)!            // 48
    static let q6Kqh = MemoryLayout<BlockQ6K>.offset(of: \.qh)!            // 128
    static let q6Kscales = MemoryLayout<BlockQ6K>.offset(of: \.scales)!    // 192
    static let q6Kd = MemoryLayout<BlockQ6K>.offset(of: \.d)!              // 208
    static let q8Kqs = MemoryLayout<BlockQ8K>.offset(of: \.qs)!            // 4
    static let q8Kbsums = MemoryLayout<BlockQ8K>.offset(of: \.bsums)!      // 260
}

@inline(__always) func u8(_ p: UnsafeRawPointer, _ o: Int) -> Int { Int(p.load(fromByteOffset: o, as: UInt8.self)) }
@inline(__always) func i8(_ p: UnsafeRawPointer, _ o: Int) -> Int { Int(p.load(fromByteOffset: o, as: Int8.self)) }
@inline(__always) func f16(_ p: UnsafeRawPointer, _ o: Int) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
}
@inline(__always) func u32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
    UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}

/// Round to nearest (ties to even) and saturate, as cvtps2dq + packs do: NaN becomes -128 instead of trapping.
@inline(__always) func roundToInt8(_ v: Float) -> Int8 {
    let r = v.rounded(.toNearestOrEven)
    return r.isNaN ? -128 : Int8(max(-128, min(127, r)))
}

/// The same to int16, as cvtps2dq + packssdw do: NaN and values past Int32 (cvtps2dq's "indefinite") become -32768.
@inline(__always) func roundToInt16(_ v: Float) -> Int16 {
    let r = v.rounded(.toNearestOrEven)
    guard r >= -0x1p31, r < 0x1p31 else { return -32768 }      // false for NaN too
    return Int16(max(-32768, min(32767, r)))
}

/// The 6-bit scale and min of sub-block j (0..<8) of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
@inline(__always) func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (sc: Int, m: Int) {
    if j < 4 { return (u8(s, j) & 63, u8(s, j + 4) & 63) }
    return ((u8(s, j + 4) & 0xF) | ((u8(s, j - 4) >> 6) << 4), (u8(s, j + 4) >> 4) | ((u8(s, j) >> 6) << 4))
}

/// The 32 or 256 integer quants of one block, in element order (offsets removed only where a format has none).
enum RefUnpack {
    /// Q4_0/Q4_1: 0...15.
    @inline(__always) static func nibbles(_ qs: UnsafeRawPointer, _ q: UnsafeMutablePointer<Int>) {
        for j in 0..<16 { q[j] = u8(qs, j) & 0xF; q[j + 16] = u8(qs, j) >> 4 }
    }
    /// Q5_0/Q5_1: 0...31.
    @inline(__always) static func fiveBit(_ qh: UInt32, _ qs: UnsafeRawPointer, _ q: UnsafeMutablePointer<Int>) {
        for j in 0..<16 {
            q[j] = (u8(qs, j) & 0xF) | Int((qh >> UInt32(j)) & 1) << 4
            q[j + 16] = (u8(qs, j) >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
        }
    }
    /// Q4_K (five false) / Q5_K: 0...15 or 0...31, element order.
    static func k45(_ b: UnsafeRawPointer, five: Bool, _ q: UnsafeMutablePointer<Int>) {
        let qs = b + (five ? Off.q5Kqs : Off.q4Kqs)
        for c in 0..<4 {                 // 4 chunks of 64 weights: low nibbles, then high nibbles
            for l in 0..<32 {
                let byte = u8(qs, 32 * c + l)
                var lo = byte & 0xF, hi = byte >> 4
                if five {
                    let h = u8(b, Off.q5Kqh + l)
                    lo |= ((h >> (2 * c)) & 1) << 4
                    hi |= ((h >> (2 * c + 1)) & 1) << 4
                }
                q[64 * c + l] = lo
                q[64 * c + 32 + l] = hi
            }
        }
    }
    /// Q6_K: -32...31, element order.
    static func k6(_ b: UnsafeRawPointer, _ q: UnsafeMutablePointer<Int>) {
        for half in 0..<2 {              // 2 halves of 128 weights
            let ql = b + 64 * half, qh = b + Off.q6Kqh + 32 * half
            for l in 0..<32 {
                let h = u8(qh, l)
                q[128 * half + l] = ((u8(ql, l) & 0xF) | ((h & 3) << 4)) - 32
                q[128 * half + l + 32] = ((u8(ql, l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32
                q[128 * half + l + 64] = ((u8(ql, l) >> 4) | (((h >> 4) & 3) << 4)) - 32
                q[128 * half + l + 96] = ((u8(ql, l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
            }
        }
    }
}

/// Scalar reference dequantize / dot / quantize for every supported format.
public enum ReferenceKernels {
    // MARK: dequantize

    /// Dequantizes one block (blockSize elements) into out; q is scratch for 256 unpacked quants.
    typealias DequantizeBlock = @Sendable (_ b: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Int>) -> Void

    static func dequantizeBlock(_ type: GGMLType) -> DequantizeBlock? {
        switch type {
        case .f32: return { b, out, _ in out[0] = b.loadUnaligned(as: Float.self) }
        case .f16: return { b, out, _ in out[0] = halfToFloat(b.loadUnaligned(as: UInt16.self)) }
        case .bf16: return { b, out, _ in out[0] = bf16ToFloat(b.loadUnaligned(as: UInt16.self)) }
        case .q4_0: return { b, out, q in
            let d = f16(b, 0); RefUnpack.nibbles(b + 2, q)
            for j in 0..<32 { out[j] = Float(q[j] - 8) * d }
        }
        case .q4_1: return { b, out, q in
            let d = f16(b, 0), m = f16(b, 2); RefUnpack.nibbles(b + Off.q4_1qs, q)
            for j in 0..<32 { out[j] = Float(q[j]) * d + m }
        }
        case .q5_0: return { b, out, q in
            let d = f16(b, 0); RefUnpack.fiveBit(u32(b, Off.q5_0qh), b + Off.q5_0qs, q)
            for j in 0..<32 { out[j] = Float(q[j] - 16) * d }
        }
        case .q5_1: return { b, out, q in
            let d = f16(b, 0), m = f16(b, 2); RefUnpack.fiveBit(u32(b, Off.q5_1qh), b + Off.q5_1qs, q)
            for j in 0..<32 { out[j] = Float(q[j]) * d + m }
        }
        case .q8_0: return { b, out, _ in
            let d = f16(b, 0)
            for j in 0..<32 { out[j] = Float(i8(b, 2 + j)) * d }
        }
        case .q8_1: return { b, out, _ in
            let d = f16(b, 0)
            for j in 0..<32 { out[j] = Float(i8(b, Off.q8_1qs + j)) * d }
        }
        case .q4_K, .q5_K:
            let five = type == .q5_K
            return { b, out, q in
                let d = f16(b, 0), dmin = f16(b, 2)
                RefUnpack.k45(b, five: five, q)
                for j in 0..<8 {
                    let (sc, m) = scaleMinK4(j, b + Off.q4Kscales)
                    let d1 = d * Float(sc), m1 = dmin * Float(m)
                    for l in 0..<32 { out[32 * j + l] = d1 * Float(q[32 * j + l]) - m1 }
                }
            }
        case .q6_K: return { b, out, q in
            let d = f16(b, Off.q6Kd); RefUnpack.k6(b, q)
            for g in 0..<16 {
                let dg = d * Float(i8(b, Off.q6Kscales + g))
                for l in 0..<16 { out[16 * g + l] = dg * Float(q[16 * g + l]) }
            }
        }
        case .q8_K: return { b, out, _ in
            let d = b.loadUnaligned(as: Float.self)
            for j in 0..<256 { out[j] = d * Float(i8(b, Off.q8Kqs + j)) }
        }
        default: return swiftletDequantizeBlock(type)
        }
    }

    static func dequantizeRow(_ block: DequantizeBlock, _ bs: Int, _ bb: Int,
                              _ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ k: Int) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { q in
            for i in 0..<(k / bs) { block(src + i * bb, y + i * bs, q.baseAddress!) }
        }
    }

    /// Dequantizes a row of k elements of `type` (weights, or Q8_0/Q8_1/Q8_K/SW_Q16 activations).
    public static func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ k: Int) {
        if type == .swI8Row { i8RowDequantize(src, y, k); return }
        guard let block = dequantizeBlock(type) else { fatalError("dequantize: unsupported type \(type.rawValue)") }
        dequantizeRow(block, type.blockSize, type.blockBytes, src, y, k)
    }

    // MARK: activation quantization

    /// Q8_0 (withSum false) or Q8_1: d = amax / 127, q = round(x * 127 / amax) to nearest, ties to even: what
    /// llama.cpp's x86 code computes (its scalar reference rounds ties away from zero and uses 1 / d).
    public static func quantizeQ8(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int, withSum: Bool) {
        let bb = withSum ? 36 : 34, qo = withSum ? 4 : 2
        for i in 0..<(k / 32) {
            let xb = x + 32 * i, b = dst + bb * i
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(xb[j])) }
            let d = amax / 127
            let id: Float = amax != 0 ? 127 / amax : 0        // as ggml's x86 quantize_row_q8_0/q8_1 (not 1 / d)
            var sum = 0
            for j in 0..<32 {
                let v = roundToInt8(xb[j] * id)
                b.storeBytes(of: v, toByteOffset: qo + j, as: Int8.self)
                sum += Int(v)
            }
            b.storeBytes(of: floatToHalf(d), toByteOffset: 0, as: UInt16.self)
            if withSum { b.storeBytes(of: floatToHalf(Float(sum) * d), toByteOffset: 2, as: UInt16.self) }
        }
    }

    /// Q8_K as ggml's quantize_row_q8_K_ref: iscale = -127 / (the signed value of largest magnitude), d = 1 / iscale.
    public static func quantizeQ8K(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) {
        for i in 0..<(k / 256) {
            let xb = x + 256 * i, b = dst + 292 * i
            var amax: Float = 0, mx: Float = 0
            for j in 0..<256 where abs(xb[j]) > amax { amax = abs(xb[j]); mx = xb[j] }
            let iscale: Float = amax != 0 ? -127 / mx : 0
            for j in 0..<256 {
                b.storeBytes(of: roundToInt8(iscale * xb[j]), toByteOffset: Off.q8Kqs + j, as: Int8.self)
            }
            for g in 0..<16 {
                var s = 0
                for l in 0..<16 { s += i8(b, Off.q8Kqs + 16 * g + l) }
                b.storeBytes(of: Int16(s), toByteOffset: Off.q8Kbsums + 2 * g, as: Int16.self)
            }
            b.storeBytes(of: amax != 0 ? 1 / iscale : 0, toByteOffset: 0, as: Float.self)
        }
    }

    // MARK: dot products (weight row against an activation row in the format's activation type)

    /// Dot product of one weight block with the matching activation block (f32 element / Q8_0 / Q8_1 / Q8_K).
    typealias DotBlock = @Sendable (_ b: UnsafeRawPointer, _ xb: UnsafeRawPointer, _ q: UnsafeMutablePointer<Int>) -> Float

    static func dotBlock(_ type: GGMLType) -> DotBlock? {
        switch type {
        case .f32: return { b, x, _ in b.loadUnaligned(as: Float.self) * x.loadUnaligned(as: Float.self) }
        case .f16: return { b, x, _ in halfToFloat(b.loadUnaligned(as: UInt16.self)) * x.loadUnaligned(as: Float.self) }
        case .bf16: return { b, x, _ in bf16ToFloat(b.loadUnaligned(as: UInt16.self)) * x.loadUnaligned(as: Float.self) }
        case .q4_0, .q5_0, .q8_0:                      // against Q8_0
            let unpack: @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Int>) -> Void
            switch type {
            case .q4_0: unpack = { b, q in RefUnpack.nibbles(b + 2, q); for j in 0..<32 { q[j] -= 8 } }
            case .q5_0: unpack = { b, q in
                RefUnpack.fiveBit(u32(b, Off.q5_0qh), b + Off.q5_0qs, q); for j in 0..<32 { q[j] -= 16 }
            }
            default: unpack = { b, q in for j in 0..<32 { q[j] = i8(b, 2 + j) } }
            }
            return { b, xb, q in
                unpack(b, q)
                var sumi = 0
                for j in 0..<32 { sumi += q[j] * i8(xb, 2 + j) }
                return Float(sumi) * (f16(b, 0) * f16(xb, 0))
            }
        case .q4_1, .q5_1:                             // against Q8_1: d*dx*sum(q*x) + m * s
            let five = type == .q5_1
            return { b, xb, q in
                if five { RefUnpack.fiveBit(u32(b, Off.q5_1qh), b + Off.q5_1qs, q) } else { RefUnpack.nibbles(b + Off.q4_1qs, q) }
                var sumi = 0
                for j in 0..<32 { sumi += q[j] * i8(xb, Off.q8_1qs + j) }
                return Float(sumi) * (f16(b, 0) * f16(xb, 0)) + f16(b, 2) * f16(xb, 2)
            }
        case .q4_K, .q5_K:                             // against Q8_K; mins via the activation's group sums
            let five = type == .q5_K
            return { b, xb, q in
                RefUnpack.k45(b, five: five, q)
                var sumi = 0, summ = 0
                for j in 0..<8 {
                    let (sc, m) = scaleMinK4(j, b + Off.q4Kscales)
                    var s = 0
                    for l in 0..<32 { s += q[32 * j + l] * i8(xb, Off.q8Kqs + 32 * j + l) }
                    sumi += sc * s
                    let bsum = Int(xb.loadUnaligned(fromByteOffset: Off.q8Kbsums + 4 * j, as: Int16.self))
                        + Int(xb.loadUnaligned(fromByteOffset: Off.q8Kbsums + 4 * j + 2, as: Int16.self))
                    summ += m * bsum
                }
                let dx = xb.loadUnaligned(as: Float.self)
                return f16(b, 0) * dx * Float(sumi) - f16(b, 2) * dx * Float(summ)
            }
        case .q6_K:
            return { b, xb, q in
                RefUnpack.k6(b, q)
                var sumi = 0
                for g in 0..<16 {
                    var s = 0
                    for l in 0..<16 { s += q[16 * g + l] * i8(xb, Off.q8Kqs + 16 * g + l) }
                    sumi += i8(b, Off.q6Kscales + g) * s
                }
                return f16(b, Off.q6Kd) * xb.loadUnaligned(as: Float.self) * Float(sumi)
            }
        default: return swiftletDotBlock(type)
        }
    }

    /// sum over blocks of dotBlock, in block order.
    static func dotRow(_ block: DotBlock, _ bs: Int, _ bb: Int, _ xbb: Int, _ w: UnsafeRawPointer,
                       _ x: UnsafeRawPointer, _ k: Int, _ q: UnsafeMutablePointer<Int>) -> Float {
        var sumf: Float = 0
        for i in 0..<(k / bs) { sumf += block(w + i * bb, x + i * xbb, q) }
        return sumf
    }

    /// Dot product of a weight row of `type` with an activation row already in `activationType(for: type)`.
    public static func dot(_ type: GGMLType, _ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ k: Int) -> Float {
        if type == .swI8Row { return i8RowDot(w, x, k) }
        guard let block = dotBlock(type), let act = activationType(for: type) else {
            fatalError("dot: unsupported type \(type.rawValue)")
        }
        let xbb = act.blockBytes * (type.blockSize / act.blockSize)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { q in
            dotRow(block, type.blockSize, type.blockBytes, xbb, w, x, k, q.baseAddress!)
        }
    }

    /// The activation type a weight format is dotted against (ggml's vec_dot_type).
    public static func activationType(for type: GGMLType) -> GGMLType? {
        switch type {
        case .f32, .f16, .bf16: return .f32
        case .swI8Row: return .swQ16
        case .q4_0, .q5_0, .q8_0: return .q8_0
        case .q4_1, .q5_1, .swA4G32, .swA4G64, .swA4G128, .swA8G32, .swA8G64, .swA8G128: return .q8_1
        case .q4_K, .q5_K, .q6_K: return .q8_K
        default: return nil
        }
    }

    /// Quantize (or copy) one activation row into `activationType(for:)` layout.
    public static func quantizeActivation(_ act: GGMLType, _ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) {
        switch act {
        case .f32: dst.copyMemory(from: x, byteCount: 4 * k)
        case .q8_0: quantizeQ8(x, dst, k, withSum: false)
        case .q8_1: quantizeQ8(x, dst, k, withSum: true)
        case .q8_K: quantizeQ8K(x, dst, k)
        case .swQ16: quantizeQ16(x, dst, k)
        default: fatalError("quantizeActivation: unsupported \(act.rawValue)")
        }
    }

    /// Reference WeightKernels for `type` (nil when unsupported); the per-block functions are picked here, once.
    static func kernels(for type: GGMLType) -> WeightKernels? {
        if type == .swI8Row { return i8RowKernels() }
        guard let act = activationType(for: type), let deq = dequantizeBlock(type), let dot = dotBlock(type) else {
            return nil
        }
        let bs = type.blockSize, bb = type.blockBytes
        let xbb = act.blockBytes * (bs / act.blockSize)      // activation bytes per weight block
        return WeightKernels(
            type: type, activationType: act,
            dequantizeRow: { src, dst, k in dequantizeRow(deq, bs, bb, src, dst, k) },
            quantizeActivation: { x, dst, k in quantizeActivation(act, x, dst, k) },
            matvec: { w, rows, k, xq, y in
                let rowBytes = k / bs * bb
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { q in
                    for r in rows { y[r - rows.lowerBound] = dotRow(dot, bs, bb, xbb, w + r * rowBytes, xq, k, q.baseAddress!) }
                }
            },
            matmul: { w, rows, k, xq, xqStride, n, y, ldy in
                let rowBytes = k / bs * bb
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { q in
                    for j in 0..<n {
                        for r in rows { y[j * ldy + r] = dotRow(dot, bs, bb, xbb, w + r * rowBytes, xq + j * xqStride, k, q.baseAddress!) }
                    }
                }
            })
    }
}
