// Scaled dot-product attention of one query head over cached f16 keys and values.

public enum Attention {
    /// out = softmax(scale * q . K[p] for p in keys) . V[p].
    /// Like llama.cpp's default (non-flash) path, q and the probabilities are rounded to f16 before
    /// they meet the f16 cache (its f16 matmuls convert their f32 operand): this model family is
    /// sensitive enough to attention rounding that matching it keeps greedy outputs identical.
    /// - Parameters:
    ///   - q: one query head (headDim floats).
    ///   - k, v: cache rows for this kv head; position p starts at `k + p * kStride` (f16 bits).
    ///   - keys: the positions attended to (causal, possibly windowed).
    ///   - scores: scratch with room for keys.count floats.
    /// `q` is rounded to f16 in place. Scores are computed four keys at a time; the weighted sum
    /// of values runs 32 output dimensions at a time in registers.
    @inline(__always)
    public static func head(q: UnsafeMutablePointer<Float>, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>,
                            kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>, scale: Float,
                            scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let n = keys.count
        roundToHalf(q, headDim)
        let k0 = k + keys.lowerBound * kStride
        var i = 0
        while i + 4 <= n {
            let r0 = k0 + i * kStride, r1 = r0 + kStride, r2 = r1 + kStride, r3 = r2 + kStride
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var d = 0
            while d + 8 <= headDim {
                let x = UnsafeRawPointer(q + d).loadUnaligned(as: SIMD8<Float>.self)
                a0.addProduct(x, half8(r0 + d))
                a1.addProduct(x, half8(r1 + d))
                a2.addProduct(x, half8(r2 + d))
                a3.addProduct(x, half8(r3 + d))
                d += 8
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            while d < headDim {
                s0 += q[d] * Float(Float16(bitPattern: r0[d]))
                s1 += q[d] * Float(Float16(bitPattern: r1[d]))
                s2 += q[d] * Float(Float16(bitPattern: r2[d]))
                s3 += q[d] * Float(Float16(bitPattern: r3[d]))
                d += 1
            }
            scores[i] = s0 * scale
            scores[i + 1] = s1 * scale
            scores[i + 2] = s2 * scale
            scores[i + 3] = s3 * scale
            i += 4
        }
        while i < n {
            scores[i] = dot(q, k0 + i * kStride, headDim) * scale
            i += 1
        }
        Vector.softmax(scores, n)
        roundToHalf(scores, n)
        let v0 = v + keys.lowerBound * vStride
        var d = 0
        while d + 32 <= valueDim {
            var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
            for j in 0..<n {
                let w = SIMD8<Float>(repeating: scores[j])
                let row = v0 + j * vStride + d
                o0.addProduct(w, half8(row))
                o1.addProduct(w, half8(row + 8))
                o2.addProduct(w, half8(row + 16))
                o3.addProduct(w, half8(row + 24))
            }
            store8(o0, out + d)
            store8(o1, out + d + 8)
            store8(o2, out + d + 16)
            store8(o3, out + d + 24)
            d += 32
        }
        while d < valueDim {
            var acc: Float = 0
            for j in 0..<n { acc += scores[j] * Float(Float16(bitPattern: v0[j * vStride + d])) }
            out[d] = acc
            d += 1
        }
    }

    @inline(__always) static func half8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
        SIMD8<Float>(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self))
    }

    @inline(__always) static func store8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
    }

    /// x = Float(Float16(x)) elementwise.
    @inline(__always)
    public static func roundToHalf(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            store8(SIMD8<Float>(SIMD8<Float16>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))), x + i)
            i += 8
        }
        while i < n { x[i] = Float(Float16(x[i])); i += 1 }
    }

    /// dot(a, half-precision b), products summed in f32.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<UInt16>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self), half8(b + i))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * Float(Float16(bitPattern: b[i])); i += 1 }
        return s
    }

    /// Converts n floats to f16 bits.
    @inline(__always)
    public static func storeHalf(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt16>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let h = SIMD8<Float16>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(out + i).storeBytes(of: h, as: SIMD8<Float16>.self)
            i += 8
        }
        while i < n { out[i] = Float16(x[i]).bitPattern; i += 1 }
    }
}
