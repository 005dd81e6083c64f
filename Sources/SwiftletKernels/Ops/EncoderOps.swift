// Vector ops of encoder models (BERT): LayerNorm with bias, exact GELU, bias add, bidirectional f32 attention.
import Foundation

public enum EncoderOps {
    // MARK: LayerNorm

    /// out = (x - mean) / sqrt(var + eps) * weight + bias (biased variance, as torch's LayerNorm).
    /// `out` may alias `x`. Mean and variance are accumulated in double precision.
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 _ out: UnsafeMutablePointer<Float>, _ n: Int, eps: Float) {
        var s = SIMD8<Double>(), i = 0
        while i + 8 <= n { s += SIMD8<Double>(load8(x + i)); i += 8 }
        var sum = s.sum()
        while i < n { sum += Double(x[i]); i += 1 }
        let mean = sum / Double(n)
        let m8 = SIMD8<Double>(repeating: mean)
        var q = SIMD8<Double>()
        i = 0
        while i + 8 <= n { let d = SIMD8<Double>(load8(x + i)) - m8; q.addProduct(d, d); i += 8 }
        var sq = q.sum()
        while i < n { let d = Double(x[i]) - mean; sq += d * d; i += 1 }
        let inv = Float(1 / (sq / Double(n) + Double(eps)).squareRoot())
        let mf = Float(mean)
        i = 0
        while i + 8 <= n {
            let y = (load8(x + i) - mf) * inv * load8(weight + i) + load8(bias + i)
            store8(y, out + i)
            i += 8
        }
        while i < n { out[i] = (x[i] - mf) * inv * weight[i] + bias[i]; i += 1 }
    }

    /// The plain reference of `layerNorm`.
    public static func referenceLayerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                          _ out: UnsafeMutablePointer<Float>, _ n: Int, eps: Float) {
        var mean = 0.0
        for i in 0..<n { mean += Double(x[i]) }
        mean /= Double(n)
        var v = 0.0
        for i in 0..<n { v += (Double(x[i]) - mean) * (Double(x[i]) - mean) }
        v /= Double(n)
        let inv = 1 / (v + Double(eps)).squareRoot()
        for i in 0..<n { out[i] = Float((Double(x[i]) - mean) * inv) * weight[i] + bias[i] }
    }

    // MARK: Bias and GELU

    /// x += bias
    @inline(__always)
    public static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store8(load8(x + i) + load8(bias + i), x + i); i += 8 }
        while i < n { x[i] += bias[i]; i += 1 }
    }

    /// x = gelu(x + bias) with the exact (erf) GELU: 0.5 x (1 + erf(x / sqrt 2)), transformers' "gelu".
    /// erf is the rational approximation of `erf8` (a few ulp of f32).
    public static func biasGelu(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ n: Int) {
        let r = SIMD8<Float>(repeating: 0.707_106_781_186_547_5)
        var i = 0
        while i + 8 <= n {
            let v = load8(x + i) + load8(bias + i)
            store8(0.5 * v * (1 + erf8(v * r)), x + i)
            i += 8
        }
        while i < n { x[i] = gelu(x[i] + bias[i]); i += 1 }
    }

    /// Exact GELU of one value, via libm's erff: the reference of `biasGelu`.
    @inline(__always)
    public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.707_106_781_186_547_5)) }

    /// erf of 8 lanes: x * P(x^2) / Q(x^2) on x clamped to [-4, 4] (erf is +-1 in f32 beyond),
    /// with Eigen's single-precision coefficients (the same as TensorFlow/XLA's erf).
    @inline(__always)
    public static func erf8(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let x = v.clamped(lowerBound: SIMD8(repeating: -4), upperBound: SIMD8(repeating: 4))
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    // MARK: Attention

    /// Bidirectional attention of one query head over every key of the sequence, all in f32:
    /// out = sum over p in keys of softmax(scale * q . K[p]) V[p].
    /// - Parameters:
    ///   - q: one query head (headDim floats).
    ///   - k, v: this head's key/value for position p at k + p * stride (rows of a (tokens, hidden) buffer).
    ///   - scores: keys.count floats of working space.
    public static func attention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
                                 headDim: Int, keys: Range<Int>, scale: Float, scores: UnsafeMutablePointer<Float>,
                                 out: UnsafeMutablePointer<Float>) {
        let n = keys.count
        let k0 = k + keys.lowerBound * stride, v0 = v + keys.lowerBound * stride
        var m = -Float.infinity
        for j in 0..<n {
            let s = dot(q, k0 + j * stride, headDim) * scale
            scores[j] = s
            m = max(m, s)
        }
        var total: Float = 0
        for j in 0..<n { let e = expf(scores[j] - m); scores[j] = e; total += e }
        let inv = 1 / total
        var d = 0
        while d + 16 <= headDim {
            var a = SIMD8<Float>(), b = SIMD8<Float>()
            for j in 0..<n {
                let w = SIMD8<Float>(repeating: scores[j]), row = v0 + j * stride + d
                a.addProduct(w, load8(row))
                b.addProduct(w, load8(row + 8))
            }
            store8(a * inv, out + d)
            store8(b * inv, out + d + 8)
            d += 16
        }
        while d < headDim {
            var acc: Float = 0
            for j in 0..<n { acc += scores[j] * v0[j * stride + d] }
            out[d] = acc * inv
            d += 1
        }
    }

    /// The plain reference of `attention` (double-precision sums).
    public static func referenceAttention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
                                          headDim: Int, keys: Range<Int>, scale: Float, out: UnsafeMutablePointer<Float>) {
        let s = keys.map { p -> Double in
            var acc = 0.0
            for d in 0..<headDim { acc += Double(q[d]) * Double(k[p * stride + d]) }
            return acc * Double(scale)
        }
        let m = s.max() ?? 0
        let e = s.map { exp($0 - m) }
        let total = e.reduce(0, +)
        for d in 0..<headDim {
            var acc = 0.0
            for (j, p) in keys.enumerated() { acc += e[j] * Double(v[p * stride + d]) }
            out[d] = Float(acc / total)
        }
    }

    // MARK: Pooling

    /// out = sum of rows[0..<n] (each `width` floats, `stride` apart) * scale, accumulated in f32.
    public static func sumRows(_ rows: UnsafePointer<Float>, _ n: Int, width: Int, stride: Int, scale: Float,
                               _ out: UnsafeMutablePointer<Float>) {
        for d in 0..<width { out[d] = 0 }
        for i in 0..<n { Vector.add(out, rows + i * stride, width) }
        Vector.scale(out, scale, width)
    }

    /// out[d] = max over the n rows of row[d].
    public static func maxRows(_ rows: UnsafePointer<Float>, _ n: Int, width: Int, stride: Int, _ out: UnsafeMutablePointer<Float>) {
        for d in 0..<width { out[d] = -Float.infinity }
        for i in 0..<n { for d in 0..<width { out[d] = max(out[d], rows[i * stride + d]) } }
    }

    /// x /= max(||x||, 1e-12), as torch.nn.functional.normalize (sentence-transformers' Normalize).
    public static func l2Normalize(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) * Double(x[i]) }
        Vector.scale(x, Float(1 / max(s.squareRoot(), 1e-12)), n)
    }

    // MARK: helpers

    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(), i = 0
        while i + 8 <= n { acc.addProduct(load8(a + i), load8(b + i)); i += 8 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store8(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
    }
}
