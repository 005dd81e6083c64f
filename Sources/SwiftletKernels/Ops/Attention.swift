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
    @inline(__always)
    public static func head(q: UnsafePointer<Float>, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>,
                            kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>, scale: Float,
                            scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let n = keys.count
        var i = 0
        for p in keys {
            scores[i] = dotHalf(q, k + p * kStride, headDim) * scale
            i += 1
        }
        Vector.softmax(scores, n)
        for d in 0..<valueDim { out[d] = 0 }
        i = 0
        for p in keys {
            axpyHalf(Float(Float16(scores[i])), v + p * vStride, out, valueDim)
            i += 1
        }
    }

    /// dot(f16(a), half-precision b): `a` is rounded to f16 first, products summed in f32.
    @inline(__always)
    public static func dotHalf(_ a: UnsafePointer<Float>, _ b: UnsafePointer<UInt16>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let h = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float16>.self)
            let x = SIMD8<Float>(SIMD8<Float16>(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)))
            acc.addProduct(x, SIMD8<Float>(h))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += Float(Float16(a[i])) * Float(Float16(bitPattern: b[i])); i += 1 }
        return s
    }

    /// y += a * half-precision x
    @inline(__always)
    public static func axpyHalf(_ a: Float, _ x: UnsafePointer<UInt16>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let h = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float16>.self)
            var acc = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            acc.addProduct(av, SIMD8<Float>(h))
            UnsafeMutableRawPointer(y + i).storeBytes(of: acc, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a * Float(Float16(bitPattern: x[i])); i += 1 }
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
