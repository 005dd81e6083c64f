// Swiftlet's own weight formats (SW_I8_ROW, SW_A4_G*, SW_A8_G*): block layouts, packing, and the kernels on rows
// packed the way the quantizers pack them. (KernelTests and BatchInvarianceTests also run every supported format,
// these included, on random bytes.)
//
// Tolerances: dequantize is exact (bit for bit) against x = d * q + m / x = s * c computed from the packed f16 or
// f32 values. Dot products (fast against reference) differ only in float summation order: as in KernelTests,
// |fast - reference| <= 2e-5 * sum|w_i * x_i| + 1e-6. matvec and matmul agree bit for bit.
import Testing
import SwiftletCore
import SwiftletKernels

/// The formats QuantPacking writes.
let swiftletFormats: [GGMLType] = [.swI8Row, .swA4G32, .swA4G64, .swA4G128, .swA8G32, .swA8G64, .swA8G128]

/// A quantizer's output for `rows` rows of k weights: codes, one scale and min per group (one scale per row for
/// SW_I8_ROW), scales and mins rounded to f16 (f32 for SW_I8_ROW) so the packed values are exact.
struct QuantizedRows {
    let type: GGMLType, rows: Int, k: Int
    var codes: [UInt8]
    var scales: [Float]
    var mins: [Float]

    var groupSize: Int { type.swiftletGroup?.groupSize ?? k }
    var groupsPerRow: Int { k / groupSize }

    init(_ type: GGMLType, rows: Int, k: Int, rng: inout SplitMix64) {
        self.type = type; self.rows = rows; self.k = k
        let levels = type == .swI8Row ? 256 : 1 << type.swiftletGroup!.bits
        let groups = rows * (type == .swI8Row ? 1 : k / type.swiftletGroup!.groupSize)
        codes = (0..<(rows * k)).map { _ in UInt8(truncatingIfNeeded: Int(rng.next() % UInt64(levels))) }
        if type == .swI8Row {       // -127...127 as torchao writes them, with a few -128s
            codes = codes.map { $0 == 0x80 ? 0x81 : $0 }
            for i in stride(from: 5, to: codes.count, by: 97) { codes[i] = 0x80 }
            scales = (0..<groups).map { _ in (rng.unit() + 0.01) * 0.001 }
            mins = []
        } else {
            let f16 = { (v: Float) in halfToFloat(floatToHalf(v)) }
            scales = (0..<groups).map { _ in f16((rng.unit() + 0.01) * 0.01) }
            mins = (0..<groups).map { _ in f16((rng.unit() - 0.5) * 0.2) }
        }
    }

    /// The weight each code stands for: d * q + m, or s * c.
    func value(_ r: Int, _ i: Int) -> Float {
        let q = codes[r * k + i]
        if type == .swI8Row { return scales[r] * Float(Int8(bitPattern: q)) }
        let g = r * groupsPerRow + i / groupSize
        return Float(q) * scales[g] + mins[g]
    }

    /// The rows packed by QuantPacking, row after row (`rowBytes` each).
    func packed() -> [UInt8] {
        let rowBytes = type.rowBytes(k)!
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        out.withUnsafeMutableBytes { o in
            codes.withUnsafeBufferPointer { c in scales.withUnsafeBufferPointer { s in
                let mins = self.mins.isEmpty ? [Float(0)] : self.mins
                mins.withUnsafeBufferPointer { m in
                    let groups = type == .swI8Row ? 1 : groupsPerRow
                    for r in 0..<rows {
                        QuantPacking.packRow(type, codes: c.baseAddress! + r * k, scales: s.baseAddress! + r * groups,
                                             mins: m.baseAddress! + (self.mins.isEmpty ? 0 : r * groups), k: k,
                                             into: o.baseAddress! + r * rowBytes)
                    }
                }
            } }
        }
        return out
    }
}

/// matvec of every row against each activation, then matmul of all of them: (matvec, matmul) as [j * rows + r].
func multiplyBothWays(_ kernels: WeightKernels, _ w: [UInt8], rows: Int, k: Int, _ xq: [UInt8], stride: Int,
                      n: Int) -> ([Float], [Float]) {
    var mv = [Float](repeating: 0, count: n * rows), mm = mv
    w.withUnsafeBytes { wp in xq.withUnsafeBytes { xp in
        mv.withUnsafeMutableBufferPointer { y in
            for j in 0..<n { kernels.matvec(wp.baseAddress!, 0..<rows, k, xp.baseAddress! + j * stride, y.baseAddress! + j * rows) }
        }
        kernels.matmul(wp.baseAddress!, 0..<rows, k, xp.baseAddress!, stride, n, &mm, rows)
    } }
    return (mv, mm)
}

@Suite struct SwiftletFormatKernelTests {
    @Test func blockLayouts() {
        #expect(MemoryLayout<BlockA4G32>.size == GGMLType.swA4G32.blockBytes && GGMLType.swA4G32.blockBytes == 20)
        #expect(MemoryLayout<BlockA4G64>.size == GGMLType.swA4G64.blockBytes && GGMLType.swA4G64.blockBytes == 36)
        #expect(MemoryLayout<BlockA4G128>.size == GGMLType.swA4G128.blockBytes && GGMLType.swA4G128.blockBytes == 68)
        #expect(MemoryLayout<BlockA8G32>.size == GGMLType.swA8G32.blockBytes && GGMLType.swA8G32.blockBytes == 36)
        #expect(MemoryLayout<BlockA8G64>.size == GGMLType.swA8G64.blockBytes && GGMLType.swA8G64.blockBytes == 68)
        #expect(MemoryLayout<BlockA8G128>.size == GGMLType.swA8G128.blockBytes && GGMLType.swA8G128.blockBytes == 132)
        #expect(MemoryLayout<BlockA4G32>.size == MemoryLayout<BlockQ4_1>.size)
        for offsets in [(MemoryLayout<BlockA4G32>.offset(of: \.m), MemoryLayout<BlockA4G32>.offset(of: \.qs)),
                        (MemoryLayout<BlockA4G64>.offset(of: \.m), MemoryLayout<BlockA4G64>.offset(of: \.qs)),
                        (MemoryLayout<BlockA4G128>.offset(of: \.m), MemoryLayout<BlockA4G128>.offset(of: \.qs)),
                        (MemoryLayout<BlockA8G32>.offset(of: \.m), MemoryLayout<BlockA8G32>.offset(of: \.qs)),
                        (MemoryLayout<BlockA8G64>.offset(of: \.m), MemoryLayout<BlockA8G64>.offset(of: \.qs)),
                        (MemoryLayout<BlockA8G128>.offset(of: \.m), MemoryLayout<BlockA8G128>.offset(of: \.qs))] {
            #expect(offsets.0 == 2 && offsets.1 == 4)
        }
        for t in swiftletFormats { #expect(QuantPacking.isPackable(t) && t.isSwiftletFormat) }
        #expect(!QuantPacking.isPackable(.q4_1) && !QuantPacking.isPackable(.q8_0))
        #expect(GGMLType.swI8Row.rowBytes(1536) == 1540 && GGMLType.swI8Row.byteCount(elements: 1536) == nil)
        #expect(GGMLType.swI8Row.byteCount(rows: 576, rowLength: 1536) == 576 * 1540)
        // SW_Q16 is an activation layout only: no weight kernels, no packing.
        #expect(MemoryLayout<BlockQ16>.size == GGMLType.swQ16.blockBytes && GGMLType.swQ16.blockBytes == 68)
        #expect(MemoryLayout<BlockQ16>.offset(of: \.qs) == 4 && GGMLType.swQ16.blockSize == 32)
        #expect(GGMLType.swQ16.isSwiftletFormat && !QuantPacking.isPackable(.swQ16))
        #expect(throws: UnsupportedWeightFormat.self) { try KernelTable.kernels(for: .swQ16) }
    }

    /// pack -> dequantize gives back d * q + m (s * c) exactly, with the reference and the fast kernels; packing
    /// writes exactly rowBytes per row.
    @Test(arguments: swiftletFormats.map(\.rawValue))
    func packDequantizeRoundTrip(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        var rng = SplitMix64(0x9ACC_0000 + UInt64(id & 0xFFFF))
        let rows = 3, k = 384
        let qr = QuantizedRows(t, rows: rows, k: k, rng: &rng)
        let rowBytes = t.rowBytes(k)!
        // Packed one row at a time into a buffer with a guard region after it.
        var buf = [UInt8](repeating: 0xEE, count: rowBytes + 64)
        let packed = qr.packed()
        #expect(packed.count == t.byteCount(rows: rows, rowLength: k))
        for r in 0..<rows {
            buf.withUnsafeMutableBytes { b in
                qr.codes.withUnsafeBufferPointer { c in qr.scales.withUnsafeBufferPointer { s in
                    let m = qr.mins.isEmpty ? [Float(0)] : qr.mins
                    let groups = t == .swI8Row ? 1 : qr.groupsPerRow
                    m.withUnsafeBufferPointer { mp in
                        QuantPacking.packRow(t, codes: c.baseAddress! + r * k, scales: s.baseAddress! + r * groups,
                                             mins: mp.baseAddress! + (qr.mins.isEmpty ? 0 : r * groups), k: k, into: b.baseAddress!)
                    }
                } }
            }
            #expect(Array(buf[..<rowBytes]) == Array(packed[(r * rowBytes)..<((r + 1) * rowBytes)]))
            #expect(buf[rowBytes...].allSatisfy { $0 == 0xEE }, "\(t) wrote past rowBytes")
        }
        let expected = (0..<(rows * k)).map { qr.value($0 / k, $0 % k) }
        for kernels in [try KernelTable.reference(for: t), try KernelTable.kernels(for: t)] {
            let got = dequantized(kernels, packed, rows: rows, k: k, rowBytes: rowBytes)
            #expect(bitsEqual(got, expected), "\(t) dequantize")
        }
        var back = [Float](repeating: 0, count: k)
        packed.withUnsafeBytes { p in back.withUnsafeMutableBufferPointer { ReferenceKernels.dequantize(t, p.baseAddress! + rowBytes, $0.baseAddress!, k) } }
        #expect(bitsEqual(back, Array(expected[k..<(2 * k)])))
    }

    /// SW_A4_G32 is Q4_1: the same bytes from an independent Q4_1 packing, the same floats from every kernel.
    @Test func a4G32IsQ4_1() throws {
        var rng = SplitMix64(0x41)
        let rows = 13, k = 32 * 9, n = 11
        let qr = QuantizedRows(.swA4G32, rows: rows, k: k, rng: &rng)
        var q41 = [UInt8]()
        for b in 0..<(rows * k / 32) {              // ggml's block_q4_1: d, m, qs[j] = q[j] | q[j + 16] << 4
            withUnsafeBytes(of: floatToHalf(qr.scales[b]).littleEndian) { q41 += $0 }
            withUnsafeBytes(of: floatToHalf(qr.mins[b]).littleEndian) { q41 += $0 }
            for j in 0..<16 { q41.append(qr.codes[32 * b + j] | qr.codes[32 * b + 16 + j] << 4) }
        }
        let packed = qr.packed()
        #expect(packed == q41)
        let x = randomFloats(n * k, rng: &rng)
        for (sw, q4) in [(try KernelTable.reference(for: .swA4G32), try KernelTable.reference(for: .q4_1)),
                         (try KernelTable.kernels(for: .swA4G32), try KernelTable.kernels(for: .q4_1))] {
            #expect(sw.activationType == q4.activationType)
            let (xq, stride) = quantizeRows(sw, x, n: n, k: k)
            let (mvSW, mmSW) = multiplyBothWays(sw, packed, rows: rows, k: k, xq, stride: stride, n: n)
            let (mvQ4, mmQ4) = multiplyBothWays(q4, q41, rows: rows, k: k, xq, stride: stride, n: n)
            #expect(bitsEqual(mvSW, mvQ4) && bitsEqual(mmSW, mmQ4))
            #expect(bitsEqual(dequantized(sw, packed, rows: rows, k: k, rowBytes: 20 * 9),
                              dequantized(q4, q41, rows: rows, k: k, rowBytes: 20 * 9)))
        }
    }

    /// Fast against reference on packed rows, odd sizes: k several multiples of the group, row counts around the
    /// 4-row matvec tile and past the 64-row matmul chunk, batch sizes around the 8- and 4-column tiles; and the
    /// fast matvec equals the fast matmul bit for bit.
    @Test(arguments: swiftletFormats.map(\.rawValue))
    func fastMatchesReferenceOnPackedRows(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        let g = t.swiftletGroup?.groupSize ?? 32
        let fast = try KernelTable.kernels(for: t), ref = try KernelTable.reference(for: t)
        var rng = SplitMix64(0xFA57_0000 + UInt64(id & 0xFFFF))
        var worst: Float = 0
        defer { print("\(t.description): worst packed-row error \(worst) of the terms' magnitude (bound 2e-5)") }
        for (k, rows, n) in [(g, 1, 1), (3 * g, 5, 3), (g * (g == 32 ? 17 : 5), 9, 13), (2 * g, 67, 9), (384, 7, 4)] {
            let qr = QuantizedRows(t, rows: rows, k: k, rng: &rng)
            let w = qr.packed()
            let x = randomFloats(n * k, rng: &rng)
            let (xq, stride) = quantizeRows(ref, x, n: n, k: k)
            #expect(quantizeRows(fast, x, n: n, k: k).0 == xq)
            var xf = [Float](repeating: 0, count: n * k)
            xq.withUnsafeBytes { q in xf.withUnsafeMutableBufferPointer { o in
                for j in 0..<n { ReferenceKernels.dequantize(ref.activationType, q.baseAddress! + j * stride, o.baseAddress! + j * k, k) }
            } }
            let (mvRef, mmRef) = multiplyBothWays(ref, w, rows: rows, k: k, xq, stride: stride, n: n)
            let (mvFast, mmFast) = multiplyBothWays(fast, w, rows: rows, k: k, xq, stride: stride, n: n)
            #expect(bitsEqual(mvFast, mmFast), "\(t) k=\(k) rows=\(rows) n=\(n): fast matvec != matmul")
            #expect(bitsEqual(mvRef, mmRef), "\(t) k=\(k) rows=\(rows) n=\(n): reference matvec != matmul")
            for j in 0..<n {
                for r in 0..<rows {
                    var magnitude: Float = 0
                    for i in 0..<k { magnitude += abs(qr.value(r, i) * xf[j * k + i]) }
                    let (a, b) = (mvRef[j * rows + r], mvFast[j * rows + r])
                    worst = max(worst, abs(a - b) / max(magnitude, 1e-30))
                    #expect(abs(a - b) <= 2e-5 * magnitude + 1e-6, "\(t) k=\(k) (\(j), \(r)): \(a) vs \(b)")
                }
            }
        }
    }

    /// The largest products: 8-bit codes 255 (and 0) against activations of +-127 in every lane, where a
    /// u8 x s8 maddubs would saturate int16; 4-bit codes 15; SW_I8_ROW codes -128 and 127. Fast == reference
    /// == the exact integer sum.
    @Test(arguments: swiftletFormats.map(\.rawValue))
    func extremeCodesDoNotSaturate(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        let k = 256, rows = 6
        var rng = SplitMix64(7)
        var qr = QuantizedRows(t, rows: rows, k: k, rng: &rng)
        let top: UInt8 = t == .swI8Row ? 127 : t.swiftletGroup!.bits == 8 ? 255 : 15
        for r in 0..<rows {
            for i in 0..<k {
                switch r {
                case 0, 1: qr.codes[r * k + i] = top
                case 2: qr.codes[r * k + i] = t == .swI8Row ? 0x80 : 0
                case 3: qr.codes[r * k + i] = i % 2 == 0 ? top : 0
                default: break
                }
            }
        }
        // Activations of equal magnitude quantize to +-127 exactly (SW_Q16: +-32767).
        let signs: [Float] = [1, -1]
        let x = (0..<(2 * k)).map { i in i < k ? 1 : signs[(i / 3) % 2] * 1 }
        for kernels in [try KernelTable.reference(for: t), try KernelTable.kernels(for: t)] {
            let (xq, stride) = quantizeRows(kernels, x, n: 2, k: k)
            let (mv, mm) = multiplyBothWays(kernels, qr.packed(), rows: rows, k: k, xq, stride: stride, n: 2)
            #expect(bitsEqual(mv, mm))
            for j in 0..<2 {
                for r in 0..<rows {
                    var exact: Double = 0, magnitude: Double = 0
                    for i in 0..<k {
                        let xi = Double(x[j * k + i]) * Double(halfToFloat(floatToHalf(1 / 127))) * 127
                        exact += Double(qr.value(r, i)) * xi
                        magnitude += abs(Double(qr.value(r, i)) * xi)
                    }
                    // Q8_1's s = d * sum(q) is f16: 2^-11 of the min term on top of float summation.
                    #expect(abs(Double(mv[j * rows + r]) - exact) <= 1e-3 * magnitude + 1e-6,
                            "\(t) (\(j), \(r)): \(mv[j * rows + r]) vs \(exact)")
                }
            }
        }
    }

    /// SW_I8_ROW -> Q8_0 for export: the same codes, d = f16(row scale); the Q8_0 row decodes to f16(s) * c
    /// exactly, within 2^-11 of the SW_I8_ROW values.
    @Test func i8RowToQ8_0() throws {
        var rng = SplitMix64(0x18)
        let rows = 4, k = 32 * 6
        let qr = QuantizedRows(.swI8Row, rows: rows, k: k, rng: &rng)
        let packed = qr.packed()
        var q8 = [UInt8](repeating: 0, count: rows * 34 * 6)
        packed.withUnsafeBytes { s in q8.withUnsafeMutableBytes { d in
            for r in 0..<rows { QuantPacking.i8RowToQ8_0(s.baseAddress! + r * (4 + k), d.baseAddress! + r * 34 * 6, k) }
        } }
        let q8Kernels = try KernelTable.reference(for: .q8_0)
        let back = dequantized(q8Kernels, q8, rows: rows, k: k, rowBytes: 34 * 6)
        for r in 0..<rows {
            let d = halfToFloat(floatToHalf(qr.scales[r]))
            for i in 0..<k {
                let c = Float(Int8(bitPattern: qr.codes[r * k + i]))
                #expect(back[r * k + i] == c * d)
                #expect(abs(back[r * k + i] - qr.value(r, i)) <= abs(qr.value(r, i)) * 0x1p-11)
            }
            for b in 0..<6 {
                #expect(Array(q8[(r * 204 + 34 * b + 2)..<(r * 204 + 34 * b + 34)]) == Array(qr.codes[(r * k + 32 * b)..<(r * k + 32 * b + 32)]))
            }
        }
    }

    @Test func groupFormatLookup() {
        #expect(GGMLType.swiftletGroup(bits: 4, group: 64) == .swA4G64)
        #expect(GGMLType.swiftletGroup(bits: 8, group: 128) == .swA8G128)
        #expect(GGMLType.swiftletGroup(bits: 4, group: 48) == nil && GGMLType.swiftletGroup(bits: 3, group: 64) == nil)
        for t in swiftletFormats where t != .swI8Row {
            let g = t.swiftletGroup!
            #expect(GGMLType.swiftletGroup(bits: g.bits, group: g.groupSize) == t)
            #expect(t.blockBytes == 4 + g.groupSize * g.bits / 8)
        }
        #expect(GGMLType.swI8Row.swiftletGroup == nil && GGMLType.q4_1.swiftletGroup == nil)
    }
}
