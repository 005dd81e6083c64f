// The weight-format kernels: block layouts, the scalar reference against the `gguf` Python package, and the
// fast (AVX2) kernels against the reference.
//
// Tolerances: dequantize and activation quantization must match the reference bit for bit. Dot products
// (matvec, matmul) differ only in float summation order, so |fast - reference| <= 2e-5 * sum|w_i * x_i| + 1e-6
// (sum of the magnitudes of the terms, from the dequantized operands); measured worst cases are 2e-8..2e-7 of
// that sum (printed by fastMatchesReference).
import Foundation
import Testing
import SwiftletCore
import SwiftletKernels

/// Reproducible random test data from SplitMix64 (SwiftletCore).
extension SplitMix64 {
    init(_ seed: UInt64) { self.init(seed: seed) }
    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Roughly normal (sum of uniforms), mean 0, sd ~1.
    mutating func normal() -> Float { (unit() + unit() + unit() + unit() - 2) * 1.7 }
}

/// Offsets of the f16 scale fields of each block type (the rest of a block may be any bytes).
func halfFieldOffsets(_ t: GGMLType) -> [Int] {
    switch t {
    case .q4_0, .q5_0, .q8_0: return [0]
    case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
    case .swA4G32, .swA4G64, .swA4G128, .swA8G32, .swA8G64, .swA8G128: return [0, 2]
    case .q6_K: return [208]
    default: return []
    }
}

/// A random weight matrix of `rows` x `k` in format `t`: random bytes with finite scales, or random floats.
func randomMatrix(_ t: GGMLType, rows: Int, k: Int, rng: inout SplitMix64) -> [UInt8] {
    let rowBytes = t.rowBytes(k)!
    var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
    bytes.withUnsafeMutableBytes { p in
        switch t {
        case .f32:
            for i in 0..<(rows * k) { p.storeBytes(of: rng.normal(), toByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<(rows * k) { p.storeBytes(of: floatToHalf(rng.normal()), toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<(rows * k) { p.storeBytes(of: floatToBF16(rng.normal()), toByteOffset: 2 * i, as: UInt16.self) }
        case .swI8Row:                          // random codes (-128 included) after each row's f32 scale
            for i in 0..<p.count { p[i] = UInt8(truncatingIfNeeded: rng.next()) }
            for r in 0..<rows { p.storeBytes(of: (rng.unit() * 2 - 1) * 0.02, toByteOffset: r * rowBytes, as: Float.self) }
        default:
            for i in 0..<p.count { p[i] = UInt8(truncatingIfNeeded: rng.next()) }
            for b in 0..<(rows * k / t.blockSize) {
                for o in halfFieldOffsets(t) {
                    let scale = (rng.unit() * 2 - 1) * 0.02
                    p.storeBytes(of: floatToHalf(scale), toByteOffset: b * t.blockBytes + o, as: UInt16.self)
                }
            }
        }
    }
    return bytes
}

func randomFloats(_ n: Int, rng: inout SplitMix64) -> [Float] {
    (0..<n).map { i in i % 97 == 5 ? 0 : rng.normal() * (i % 7 == 0 ? 4 : 1) }
}

/// Activations quantized with `kernels`; returns the bytes and the row stride.
func quantizeRows(_ kernels: WeightKernels, _ x: [Float], n: Int, k: Int) -> ([UInt8], Int) {
    let stride = kernels.activationBytes(k)
    var out = [UInt8](repeating: 0, count: n * stride)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBytes { op in
            for j in 0..<n { kernels.quantizeActivation(xp.baseAddress! + j * k, op.baseAddress! + j * stride, k) }
        }
    }
    return (out, stride)
}

func dequantized(_ kernels: WeightKernels, _ data: [UInt8], rows: Int, k: Int, rowBytes: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows * k)
    data.withUnsafeBytes { d in
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { kernels.dequantizeRow(d.baseAddress! + r * rowBytes, o.baseAddress! + r * k, k) }
        }
    }
    return out
}

func bitsEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0 == 0 && $1 == 0) }
}

@Suite struct BlockLayoutTests {
    @Test func blockSizesMatchGGML() {
        #expect(MemoryLayout<BlockQ4_0>.size == GGMLType.q4_0.blockBytes && GGMLType.q4_0.blockBytes == 18)
        #expect(MemoryLayout<BlockQ4_1>.size == GGMLType.q4_1.blockBytes && GGMLType.q4_1.blockBytes == 20)
        #expect(MemoryLayout<BlockQ5_0>.size == GGMLType.q5_0.blockBytes && GGMLType.q5_0.blockBytes == 22)
        #expect(MemoryLayout<BlockQ5_1>.size == GGMLType.q5_1.blockBytes && GGMLType.q5_1.blockBytes == 24)
        #expect(MemoryLayout<BlockQ8_0>.size == GGMLType.q8_0.blockBytes && GGMLType.q8_0.blockBytes == 34)
        #expect(MemoryLayout<BlockQ8_1>.size == GGMLType.q8_1.blockBytes && GGMLType.q8_1.blockBytes == 36)
        #expect(MemoryLayout<BlockQ4K>.size == GGMLType.q4_K.blockBytes && GGMLType.q4_K.blockBytes == 144)
        #expect(MemoryLayout<BlockQ5K>.size == GGMLType.q5_K.blockBytes && GGMLType.q5_K.blockBytes == 176)
        #expect(MemoryLayout<BlockQ6K>.size == GGMLType.q6_K.blockBytes && GGMLType.q6_K.blockBytes == 210)
        #expect(MemoryLayout<BlockQ8K>.size == GGMLType.q8_K.blockBytes && GGMLType.q8_K.blockBytes == 292)
    }

    @Test func fieldOffsetsMatchGGML() {
        #expect(MemoryLayout<BlockQ4K>.offset(of: \.qs) == 16)
        #expect(MemoryLayout<BlockQ5K>.offset(of: \.qh) == 16)
        #expect(MemoryLayout<BlockQ5K>.offset(of: \.qs) == 48)
        #expect(MemoryLayout<BlockQ6K>.offset(of: \.scales) == 192)
        #expect(MemoryLayout<BlockQ6K>.offset(of: \.d) == 208)
        #expect(MemoryLayout<BlockQ8K>.offset(of: \.bsums) == 260)
        #expect(MemoryLayout<BlockQ5_1>.offset(of: \.qs) == 8)
    }

    @Test func tableCoversSupportedFormats() throws {
        for t in KernelTable.supported {
            let k = try KernelTable.kernels(for: t)
            #expect(k.type.rawValue == t.rawValue)
            #expect(try KernelTable.reference(for: t).activationType.rawValue == k.activationType.rawValue)
        }
        for t in [GGMLType.q2_K, .iq4_nl, .q8_K] {
            var threw = false
            do { _ = try KernelTable.kernels(for: t) } catch is UnsupportedWeightFormat { threw = true }
            #expect(threw)
        }
        #expect(try KernelTable.kernels(for: .q4_1).activationType.rawValue == GGMLType.q8_1.rawValue)
        #expect(try KernelTable.kernels(for: .q5_0).activationType.rawValue == GGMLType.q8_0.rawValue)
        #expect(try KernelTable.kernels(for: .q6_K).activationType.rawValue == GGMLType.q8_K.rawValue)
        #expect(try KernelTable.kernels(for: .bf16).activationType.rawValue == GGMLType.f32.rawValue)
    }
}

/// The reference dequantize against floats written by the `gguf` Python package
/// (scripts/make-dequant-fixtures.py): real blocks from both test models plus synthesized ones.
@Suite struct GGUFFixtureTests {
    struct Fixture: Decodable {
        struct Case: Decodable { let name: String; let type: UInt32; let raw: String; let expected: String }
        let cases: [Case]
    }

    @Test func referenceDequantizeMatchesGGUFPackage() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/dequant.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        var typesSeen = Set<UInt32>()
        for c in fixture.cases {
            let type = try #require(GGMLType(rawValue: c.type))
            let raw = [UInt8](try #require(Data(base64Encoded: c.raw)))
            let expectedBytes = [UInt8](try #require(Data(base64Encoded: c.expected)))
            let expected = expectedBytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let k = expected.count
            #expect(type.rowBytes(k) == raw.count, "\(c.name)")
            for kernels in [try KernelTable.reference(for: type), try KernelTable.kernels(for: type)] {
                var got = [Float](repeating: .nan, count: k)
                raw.withUnsafeBytes { r in got.withUnsafeMutableBufferPointer { kernels.dequantizeRow(r.baseAddress!, $0.baseAddress!, k) } }
                var worst: Float = 0
                for i in 0..<k { worst = max(worst, abs(got[i] - expected[i]) / max(1, abs(expected[i]))) }
                #expect(worst <= 1e-6, "\(c.name): max relative error \(worst)")
            }
            typesSeen.insert(c.type)
        }
        // Swiftlet's own formats are unknown to the gguf package: their reference is checked against packing
        // (SwiftletFormatKernelTests) instead.
        let ggmlFormats = KernelTable.supported.filter { !$0.isSwiftletFormat }
        #expect(Set(ggmlFormats.map(\.rawValue)).isSubset(of: typesSeen), "every ggml format has a fixture")
    }
}

@Suite struct FastKernelTests {
    static let shapes: [(k: Int, rows: Int, n: Int)] = [(256 * 3, 7, 5), (32 * 3, 7, 5), (256, 1, 1), (512 + 256, 9, 9), (32 * 5, 3, 13)]

    /// The k values a type can take among `shapes` (K-quants need whole 256-blocks).
    static func cases(_ t: GGMLType) -> [(k: Int, rows: Int, n: Int)] {
        shapes.filter { $0.k % t.blockSize == 0 }
    }

    @Test(arguments: KernelTable.supported.map(\.rawValue))
    func fastMatchesReference(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        let fast = try KernelTable.kernels(for: t), ref = try KernelTable.reference(for: t)
        var rng = SplitMix64(0x5EED_0000 + UInt64(t.rawValue))
        var worst: Float = 0                     // largest |fast - reference| / sum|terms| seen
        defer { print("\(t.description): worst matvec/matmul error \(worst) of the terms' magnitude (bound 2e-5)") }
        for (k, rows, n) in Self.cases(t) {
            let rowBytes = t.rowBytes(k)!
            let w = randomMatrix(t, rows: rows, k: k, rng: &rng)
            let x = randomFloats(n * k, rng: &rng)

            // Dequantize: identical.
            let wf = dequantized(ref, w, rows: rows, k: k, rowBytes: rowBytes)
            #expect(bitsEqual(dequantized(fast, w, rows: rows, k: k, rowBytes: rowBytes), wf), "\(t.description) k=\(k) dequantize")

            // Activation quantization: identical bytes.
            let (xqRef, stride) = quantizeRows(ref, x, n: n, k: k)
            let (xqFast, _) = quantizeRows(fast, x, n: n, k: k)
            #expect(xqRef == xqFast, "\(t.description) k=\(k) quantizeActivation")

            // Magnitude of the dot products' terms, from the dequantized operands.
            let act = fast.activationType
            var xf = [Float](repeating: 0, count: n * k)
            xqRef.withUnsafeBytes { q in
                xf.withUnsafeMutableBufferPointer { o in
                    for j in 0..<n {
                        if act == .f32 { for i in 0..<k { o[j * k + i] = q.load(fromByteOffset: j * stride + 4 * i, as: Float.self) } }
                        else { ReferenceKernels.dequantize(act, q.baseAddress! + j * stride, o.baseAddress! + j * k, k) }
                    }
                }
            }
            func magnitude(_ r: Int, _ j: Int) -> Float {
                var s: Float = 0
                for i in 0..<k { s += abs(wf[r * k + i] * xf[j * k + i]) }
                return s
            }
            func bound(_ r: Int, _ j: Int) -> Float { 2e-5 * magnitude(r, j) + 1e-6 }
            func note(_ a: Float, _ b: Float, _ r: Int, _ j: Int) { worst = max(worst, abs(a - b) / max(magnitude(r, j), 1e-30)) }

            // matvec over a sub-range and the whole range.
            for range in [0..<rows, (rows / 2)..<rows] {
                var yRef = [Float](repeating: 0, count: range.count), yFast = yRef
                w.withUnsafeBytes { wp in xqRef.withUnsafeBytes { xp in
                    ref.matvec(wp.baseAddress!, range, k, xp.baseAddress!, &yRef)
                    fast.matvec(wp.baseAddress!, range, k, xp.baseAddress!, &yFast)
                } }
                for (i, r) in range.enumerated() {
                    note(yRef[i], yFast[i], r, 0)
                    #expect(abs(yRef[i] - yFast[i]) <= bound(r, 0), "\(t.description) k=\(k) matvec row \(r): \(yRef[i]) vs \(yFast[i])")
                }
            }

            // matmul: y[j * ldy + r] for absolute r; entries outside `range` stay untouched.
            let ldy = rows + 3
            for range in [0..<rows, 1..<max(1, rows - 1)] {
                var yRef = [Float](repeating: -7, count: n * ldy), yFast = yRef
                w.withUnsafeBytes { wp in xqRef.withUnsafeBytes { xp in
                    ref.matmul(wp.baseAddress!, range, k, xp.baseAddress!, stride, n, &yRef, ldy)
                    fast.matmul(wp.baseAddress!, range, k, xp.baseAddress!, stride, n, &yFast, ldy)
                } }
                for j in 0..<n {
                    for r in 0..<ldy {
                        let (a, b) = (yRef[j * ldy + r], yFast[j * ldy + r])
                        if range.contains(r) {
                            note(a, b, r, j)
                            #expect(abs(a - b) <= bound(r, j), "\(t.description) k=\(k) matmul (\(j), \(r)): \(a) vs \(b)")
                        } else {
                            #expect(a == -7 && b == -7, "\(t.description) matmul wrote outside rows at (\(j), \(r))")
                        }
                    }
                }
            }
        }
    }

    /// Reference dot against a float dot of the dequantized operands: the integer paths, offsets and mins
    /// agree with dequantize (relative 1e-5 of the terms' magnitude).
    @Test(arguments: KernelTable.supported.map(\.rawValue))
    func referenceDotMatchesDequantizedDot(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        let ref = try KernelTable.reference(for: t)
        var rng = SplitMix64(0xD07 + UInt64(t.rawValue))
        let k = 512, rows = 3
        let w = randomMatrix(t, rows: rows, k: k, rng: &rng)
        let x = randomFloats(k, rng: &rng)
        let (xq, _) = quantizeRows(ref, x, n: 1, k: k)
        let wf = dequantized(ref, w, rows: rows, k: k, rowBytes: t.rowBytes(k)!)
        var xf = [Float](repeating: 0, count: k)
        if ref.activationType == .f32 { xf = x } else {
            xq.withUnsafeBytes { q in xf.withUnsafeMutableBufferPointer { ReferenceKernels.dequantize(ref.activationType, q.baseAddress!, $0.baseAddress!, k) } }
        }
        var y = [Float](repeating: 0, count: rows)
        w.withUnsafeBytes { wp in xq.withUnsafeBytes { ref.matvec(wp.baseAddress!, 0..<rows, k, $0.baseAddress!, &y) } }
        for r in 0..<rows {
            var exact: Double = 0, mag: Double = 0
            for i in 0..<k { exact += Double(wf[r * k + i]) * Double(xf[i]); mag += abs(Double(wf[r * k + i]) * Double(xf[i])) }
            // Q8_1's s = d * sum(q) is stored as f16: allow its rounding (2^-11 relative of |s|) on top.
            var slack = 1e-5 * mag + 1e-6
            if ref.activationType == .q8_1 { slack += 1e-3 * mag }
            #expect(abs(Double(y[r]) - exact) <= slack, "\(t.description) row \(r): \(y[r]) vs \(exact)")
        }
    }

    @Test(arguments: [GGMLType.q8_0, .q8_1, .q8_K, .swQ16].map(\.rawValue))
    func activationQuantizationRoundTrip(_ id: UInt32) throws {
        let act = GGMLType(rawValue: id)!
        var rng = SplitMix64(0xAC7 + UInt64(act.rawValue))
        let k = 1024
        var x = randomFloats(k, rng: &rng)
        for i in 256..<288 { x[i] = 0 }      // an all-zero block
        let weight: GGMLType = act == .q8_0 ? .q8_0 : act == .q8_1 ? .q4_1 : act == .swQ16 ? .swI8Row : .q6_K
        for kernels in [try KernelTable.reference(for: weight), try KernelTable.kernels(for: weight)] {
            #expect(kernels.activationType.rawValue == act.rawValue)
            let (q, _) = quantizeRows(kernels, x, n: 1, k: k)
            var back = [Float](repeating: 0, count: k)
            q.withUnsafeBytes { p in back.withUnsafeMutableBufferPointer { ReferenceKernels.dequantize(act, p.baseAddress!, $0.baseAddress!, k) } }
            let bs = act.blockSize
            for b in 0..<(k / bs) {
                let amax = x[(b * bs)..<((b + 1) * bs)].map { abs($0) }.max()!
                // Half a step of d = amax/127, plus (Q8_0/Q8_1) the f16 rounding of d over 127 steps; SW_Q16: half
                // a step of amax/32767 and the f32 roundings of d and d * q.
                let tol = act == .swQ16 ? 0.5 * amax / 32767 + amax * 0x1p-22
                    : act == .q8_K ? 0.5 * amax / 127 * 1.0001 : 0.5 * amax / 127 + 127 * amax / 127 * 0x1p-11
                for i in (b * bs)..<((b + 1) * bs) {
                    #expect(abs(back[i] - x[i]) <= tol + 1e-30, "\(act.description) element \(i): \(x[i]) -> \(back[i])")
                }
            }
            q.withUnsafeBytes { p in
                for b in 0..<(k / bs) {
                    if act == .q8_1 {      // s = d * sum(q), as f16
                        let blk = p.baseAddress! + 36 * b
                        var sum = 0
                        for i in 0..<32 { sum += Int(blk.load(fromByteOffset: 4 + i, as: Int8.self)) }
                        let d = halfToFloat(blk.loadUnaligned(as: UInt16.self))
                        let s = halfToFloat(blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                        #expect(abs(s - Float(sum) * d) <= abs(Float(sum) * d) * 0x1p-9 + 1e-7, "Q8_1 s of block \(b)")
                    }
                    if act == .q8_K {      // bsums are the group sums
                        let blk = p.baseAddress! + 292 * b
                        for g in 0..<16 {
                            var sum = 0
                            for i in 0..<16 { sum += Int(blk.load(fromByteOffset: 4 + 16 * g + i, as: Int8.self)) }
                            #expect(Int(blk.loadUnaligned(fromByteOffset: 260 + 2 * g, as: Int16.self)) == sum)
                        }
                    }
                }
            }
        }
    }

    /// Non-finite activations give garbage, never a trap (the scalar path clamps like the SIMD one saturates).
    @Test func nonFiniteActivationsDoNotTrap() throws {
        var x = [Float](repeating: 0.5, count: 512)
        x[3] = .nan; x[40] = .infinity; x[300] = -.infinity
        for t in [GGMLType.q8_0, .q4_1, .q6_K, .swI8Row] {
            for kernels in [try KernelTable.reference(for: t), try KernelTable.kernels(for: t)] {
                let (q, _) = quantizeRows(kernels, x, n: 1, k: 512)
                #expect(q.count == kernels.activationBytes(512))
            }
        }
    }

    /// SW_Q16's extremes: +-amax become +-32767 exactly, the scale is amax / 32767, an all-zero block is all
    /// zeros, and a block's scale is its own (a large block beside a tiny one leaves the tiny one's precision
    /// alone); fast == reference.
    @Test func q16Extremes() throws {
        var x = [Float](repeating: 0, count: 96)
        for i in 0..<32 { x[i] = Float(i % 5) - 2 }                // block 0: amax 2, at +-2
        for i in 64..<96 { x[i] = Float(i - 80) * 1e-6 }          // block 2: amax 1.6e-5
        x[7] = 3e4                                                // block 0's amax is now 3e4
        let ref = quantizeRows(try KernelTable.reference(for: .swI8Row), x, n: 1, k: 96).0
        #expect(ref == quantizeRows(try KernelTable.kernels(for: .swI8Row), x, n: 1, k: 96).0)
        ref.withUnsafeBytes { p in
            func code(_ b: Int, _ j: Int) -> Int16 { p.loadUnaligned(fromByteOffset: 68 * b + 4 + 2 * j, as: Int16.self) }
            #expect(p.loadUnaligned(as: Float.self) == 3e4 / 32767 && code(0, 7) == 32767)
            #expect(code(0, 0) == Int16((-2 * (32767 / 3e4) as Float).rounded(.toNearestOrEven)))
            #expect(p.loadUnaligned(fromByteOffset: 68, as: Float.self) == 0 && (0..<32).allSatisfy { code(1, $0) == 0 })
            #expect(code(2, 0) == -32767 && code(2, 16) == 0 && p.loadUnaligned(fromByteOffset: 136, as: Float.self) == abs(x[64]) / 32767)
        }
    }

    /// Q8_K's scale comes from the first element of largest magnitude (its sign matters): fast == reference.
    @Test func q8KTieOfMagnitudes() throws {
        var x = (0..<512).map { Float($0 % 13) * 0.1 - 0.6 }
        x[5] = -3; x[100] = 3                     // block 0: the negative one comes first
        x[256 + 7] = 3; x[256 + 9] = -3           // block 1: the positive one comes first
        let (ref, _) = quantizeRows(try KernelTable.reference(for: .q4_K), x, n: 1, k: 512)
        let (fast, _) = quantizeRows(try KernelTable.kernels(for: .q4_K), x, n: 1, k: 512)
        #expect(ref == fast)
        ref.withUnsafeBytes { p in
            #expect(p.load(fromByteOffset: 4 + 5, as: Int8.self) == -127)       // -3 * iscale, iscale = -127 / -3
            #expect(p.loadUnaligned(as: Float.self) > 0)                      // d = -3 / -127
            #expect(p.loadUnaligned(fromByteOffset: 292, as: Float.self) < 0) // d = 3 / -127
        }
    }
}
