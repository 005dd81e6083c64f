// Elementwise vector operations on f32 buffers: norms, activations, softmax, residual adds.
import Foundation

public enum Vector {
    /// out = x / rms(x) * weight (weight nil: no scaling). `out` may alias `x`.
    /// The sum of squares is accumulated in double precision, as ggml does.
    @inline(__always)
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                               _ n: Int, eps: Float) {
        var sum = 0.0
        for i in 0..<n { sum += Double(x[i] * x[i]) }
        let mean = Float(sum / Double(n))
        let scale = 1 / (mean + eps).squareRoot()
        if let w = weight {
            mapSIMD(n, x, w, out) { a, b in a * scale * b }
        } else {
            mapSIMD(n, x, x, out) { a, _ in a * scale }
        }
    }

    @inline(__always)
    public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            acc.addProduct(v, v)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i] * x[i]; i += 1 }
        return s
    }

    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            acc0.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self),
                            UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self))
            acc1.addProduct(UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self),
                            UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self))
            i += 16
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// out[i] = f(a[i], b[i]) eight lanes at a time.
    @inline(__always)
    static func mapSIMD(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
        var i = 0
        while i + 8 <= n {
            let r = f(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self),
                      UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(out + i).storeBytes(of: r, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            out[i] = f(SIMD8(repeating: a[i]), SIMD8(repeating: b[i]))[0]
            i += 1
        }
    }

    /// x += y
    @inline(__always)
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        mapSIMD(n, x, y, x) { a, b in a + b }
    }

    /// x *= s
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, _ s: Float, _ n: Int) {
        mapSIMD(n, x, x, x) { a, _ in a * s }
    }

    /// gate = silu(gate) * up (SwiGLU).
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// gate = gelu_tanh(gate) * up (GeGLU with the tanh approximation).
    /// As llama.cpp does, GELU is read from a table over all f16 inputs (result rounded to f16),
    /// which is both faster than tanh per element and keeps outputs identical to the peer's.
    public static func geglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
        let table = geluTable
        for i in 0..<n {
            let x = gate[i]
            let g: Float
            if x <= -10 { g = 0 } else if x >= 10 { g = x } else { g = Float(table[Int(Float16(x).bitPattern)]) }
            gate[i] = g * up[i]
        }
    }

    /// gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the plain reference.
    public static func geluTanh(_ x: Float) -> Float {
        let c: Float = 0.797_884_560_802_865_4  // sqrt(2/pi)
        return 0.5 * x * (1 + tanhf(c * x * (1 + 0.044715 * x * x)))
    }

    /// geluTanh of every f16 value, rounded to f16 (128 KB, built on first use).
    static let geluTable: [Float16] = (0..<65536).map { bits in
        Float16(geluTanh(Float(Float16(bitPattern: UInt16(bits)))))
    }

    /// In-place softmax (sum in double precision). Entries equal to -infinity get probability 0.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var sum = 0.0
        for i in 0..<n {
            let e = expf(x[i] - m)
            x[i] = e
            sum += Double(e)
        }
        let inv = Float(1 / sum)
        for i in 0..<n { x[i] *= inv }
    }

    /// x = cap * tanh(x / cap) (Gemma's logit soft-capping).
    public static func softcap(_ x: UnsafeMutablePointer<Float>, _ n: Int, cap: Float) {
        for i in 0..<n { x[i] = cap * tanhf(x[i] / cap) }
    }
}
