// Scaled dot-product attention of query heads over cached keys and values (f16 or f32).
import Foundation

/// How one cache element type is read (8 at a time or one), and whether attention rounds its f32
/// operands to f16 to meet it (llama.cpp's f16 path does; an f32 cache rounds nothing).
protocol CacheElement {
    static var bytes: Int { get }
    static var roundsOperands: Bool { get }
    static func load8(_ row: UnsafeRawPointer, _ i: Int) -> SIMD8<Float>
    static func scalar(_ row: UnsafeRawPointer, _ i: Int) -> Float
}

enum HalfCache: CacheElement {
    static var bytes: Int { 2 }
    static var roundsOperands: Bool { true }
    @inline(__always) static func load8(_ row: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        SIMD8<Float>((row + 2 * i).loadUnaligned(as: SIMD8<Float16>.self))
    }
    @inline(__always) static func scalar(_ row: UnsafeRawPointer, _ i: Int) -> Float {
        Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
    }
}

enum FloatCache: CacheElement {
    static var bytes: Int { 4 }
    static var roundsOperands: Bool { false }
    @inline(__always) static func load8(_ row: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
        (row + 4 * i).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) static func scalar(_ row: UnsafeRawPointer, _ i: Int) -> Float {
        row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }
}

public enum Attention {
    /// out = softmax(scale * q . K[p] for p in keys) . V[p] for one query head: the plain
    /// reference of `heads`. Like llama.cpp's default (non-flash) path, q and the probabilities
    /// are rounded to f16 before they meet the f16 cache (its f16 matmuls convert their f32
    /// operand): this model family is sensitive enough to attention rounding that it matters.
    /// - Parameters:
    ///   - q: one query head (headDim floats).
    ///   - k, v: cache rows for this kv head; position p starts at `k + p * kStride` (f16 bits).
    ///   - keys: the positions attended to (causal, possibly windowed).
    public static func referenceHead(q: UnsafePointer<Float>, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>,
                                     kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>,
                                     scale: Float, out: UnsafeMutablePointer<Float>) {
        var scores = keys.map { p -> Float in
            var s: Float = 0
            for d in 0..<headDim { s += Float(Float16(q[d])) * Float(Float16(bitPattern: k[p * kStride + d])) }
            return s * scale
        }
        let m = scores.max() ?? 0
        var total = 0.0
        for i in scores.indices { scores[i] = expf(scores[i] - m); total += Double(scores[i]) }
        for i in scores.indices { scores[i] = Float(Float16(scores[i] * Float(1 / total))) }
        for d in 0..<valueDim {
            var acc: Float = 0
            for (i, p) in keys.enumerated() { acc += scores[i] * Float(Float16(bitPattern: v[p * vStride + d])) }
            out[d] = acc
        }
    }

    /// Attention of `count` query heads (at q + h * headDim) that share one key/value head, for
    /// one token, over an f16 cache: each key and value row is read once for all of them; q is
    /// rounded to f16 in place (see `referenceHead`). `scores` needs count * keys.count floats;
    /// outputs go to out + h * valueDim.
    public static func heads(q: UnsafeMutablePointer<Float>, count: Int, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>,
                             kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>, scale: Float,
                             scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        headsOver(HalfCache.self, q: q, count: count, k: UnsafeRawPointer(k), v: UnsafeRawPointer(v), kStride: kStride,
                  vStride: vStride, headDim: headDim, valueDim: valueDim, keys: keys, scale: scale, scores: scores, out: out)
    }

    /// The same over an f32 cache, with nothing rounded (full-precision checkpoints).
    public static func headsF32(q: UnsafeMutablePointer<Float>, count: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>, scale: Float,
                                scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        headsOver(FloatCache.self, q: q, count: count, k: UnsafeRawPointer(k), v: UnsafeRawPointer(v), kStride: kStride,
                  vStride: vStride, headDim: headDim, valueDim: valueDim, keys: keys, scale: scale, scores: scores, out: out)
    }

    /// Scores are SIMD dots summed lane-wise; values are accumulated 16 dimensions at a time in
    /// registers, keys in order. Strides and offsets count cache elements.
    @inline(__always)
    static func headsOver<E: CacheElement>(_: E.Type, q: UnsafeMutablePointer<Float>, count: Int, k: UnsafeRawPointer, v: UnsafeRawPointer,
                                           kStride: Int, vStride: Int, headDim: Int, valueDim: Int, keys: Range<Int>, scale: Float,
                                           scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let n = keys.count
        if E.roundsOperands { for h in 0..<count { roundToHalf(q + h * headDim, headDim) } }
        let k0 = k + keys.lowerBound * kStride * E.bytes
        let v0 = v + keys.lowerBound * vStride * E.bytes
        var h0 = 0
        while h0 < count {
            // Up to four heads per pass; missing ones repeat the last head and are not stored.
            let hc = min(4, count - h0)
            let q0 = q + h0 * headDim
            let q1 = q + (h0 + min(1, hc - 1)) * headDim
            let q2 = q + (h0 + min(2, hc - 1)) * headDim
            let q3 = q + (h0 + min(3, hc - 1)) * headDim
            let s0 = scores + h0 * n
            for j in 0..<n {
                let row = k0 + j * kStride * E.bytes
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var d = 0
                while d + 8 <= headDim {
                    let kv = E.load8(row, d)
                    a0.addProduct(UnsafeRawPointer(q0 + d).loadUnaligned(as: SIMD8<Float>.self), kv)
                    a1.addProduct(UnsafeRawPointer(q1 + d).loadUnaligned(as: SIMD8<Float>.self), kv)
                    a2.addProduct(UnsafeRawPointer(q2 + d).loadUnaligned(as: SIMD8<Float>.self), kv)
                    a3.addProduct(UnsafeRawPointer(q3 + d).loadUnaligned(as: SIMD8<Float>.self), kv)
                    d += 8
                }
                var r = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
                while d < headDim {
                    let kd = E.scalar(row, d)
                    r += SIMD4(q0[d], q1[d], q2[d], q3[d]) * kd
                    d += 1
                }
                for t in 0..<hc { s0[t * n + j] = r[t] * scale }
            }
            for t in 0..<hc {
                Vector.softmax(s0 + t * n, n)
                if E.roundsOperands { roundToHalf(s0 + t * n, n) }
            }
            let p0 = s0, p1 = s0 + min(1, hc - 1) * n, p2 = s0 + min(2, hc - 1) * n, p3 = s0 + min(3, hc - 1) * n
            var d = 0
            while d + 16 <= valueDim {
                var o00 = SIMD8<Float>(), o01 = SIMD8<Float>(), o10 = SIMD8<Float>(), o11 = SIMD8<Float>()
                var o20 = SIMD8<Float>(), o21 = SIMD8<Float>(), o30 = SIMD8<Float>(), o31 = SIMD8<Float>()
                for j in 0..<n {
                    let row = v0 + j * vStride * E.bytes
                    let va = E.load8(row, d), vb = E.load8(row, d + 8)
                    let w0 = SIMD8<Float>(repeating: p0[j]), w1 = SIMD8<Float>(repeating: p1[j])
                    let w2 = SIMD8<Float>(repeating: p2[j]), w3 = SIMD8<Float>(repeating: p3[j])
                    o00.addProduct(w0, va); o01.addProduct(w0, vb)
                    o10.addProduct(w1, va); o11.addProduct(w1, vb)
                    o20.addProduct(w2, va); o21.addProduct(w2, vb)
                    o30.addProduct(w3, va); o31.addProduct(w3, vb)
                }
                let o = out + h0 * valueDim + d
                store8(o00, o); store8(o01, o + 8)
                if hc > 1 { store8(o10, o + valueDim); store8(o11, o + valueDim + 8) }
                if hc > 2 { store8(o20, o + 2 * valueDim); store8(o21, o + 2 * valueDim + 8) }
                if hc > 3 { store8(o30, o + 3 * valueDim); store8(o31, o + 3 * valueDim + 8) }
                d += 16
            }
            while d < valueDim {
                for t in 0..<hc {
                    var acc: Float = 0
                    let pt = s0 + t * n
                    for j in 0..<n { acc += pt[j] * E.scalar(v0 + j * vStride * E.bytes, d) }
                    out[(h0 + t) * valueDim + d] = acc
                }
                d += 1
            }
            h0 += hc
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

/// The attention kernels of one cache element type, picked once when a model is built.
public struct CacheKernels: Sendable {
    /// Writes n floats as cache elements.
    public let store: @Sendable (UnsafePointer<Float>, UnsafeMutableRawPointer, Int) -> Void
    /// `Attention.heads` over this element type (k and v point at position 0 of the kv head).
    public let heads: @Sendable (_ q: UnsafeMutablePointer<Float>, _ count: Int, _ k: UnsafeRawPointer, _ v: UnsafeRawPointer,
                                 _ kStride: Int, _ vStride: Int, _ headDim: Int, _ valueDim: Int, _ keys: Range<Int>,
                                 _ scale: Float, _ scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>) -> Void

    public static let f16 = CacheKernels(
        store: { x, out, n in Attention.storeHalf(x, out.assumingMemoryBound(to: UInt16.self), n) },
        heads: { q, count, k, v, ks, vs, hd, vd, keys, scale, scores, out in
            Attention.headsOver(HalfCache.self, q: q, count: count, k: k, v: v, kStride: ks, vStride: vs, headDim: hd,
                                valueDim: vd, keys: keys, scale: scale, scores: scores, out: out)
        })

    public static let f32 = CacheKernels(
        store: { x, out, n in out.copyMemory(from: x, byteCount: n * 4) },
        heads: { q, count, k, v, ks, vs, hd, vd, keys, scale, scores, out in
            Attention.headsOver(FloatCache.self, q: q, count: count, k: k, v: v, kStride: ks, vStride: vs, headDim: hd,
                                valueDim: vd, keys: keys, scale: scale, scores: scores, out: out)
        })
}
