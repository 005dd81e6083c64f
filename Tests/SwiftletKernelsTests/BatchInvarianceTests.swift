// Batch invariance: matmul (prompt batches) and matvec (one token) must give the very same floats for the same
// weight row and activation row, whatever the batch size n, the row range, or where a row falls in a tile.
// Otherwise a prompt evaluated as one batch and token by token gives different logits, and greedy output
// depends on the batch size. Exact: bit patterns are compared, no tolerance.
import Testing
import SwiftletCore
import SwiftletKernels

@Suite struct BatchInvarianceTests {
    /// (k, rows) per format: odd row counts, a count past the matmul row chunk (64), odd block counts, and for
    /// float weights k with a tail of k % 8 elements.
    static func shapes(_ t: GGMLType) -> [(k: Int, rows: Int)] {
        switch t.blockSize {
        case 256: return [(256, 7), (256 * 3, 13), (512, 67)]
        case 32: return [(32, 5), (32 * 3, 13), (32 * 7, 67), (32 * 18, 9)]
        case 64, 128: return [(t.blockSize, 5), (t.blockSize * 3, 13), (t.blockSize * 5, 67), (t.blockSize * 9, 9)]
        default: return [(3, 5), (43, 13), (200, 67), (8 * 37 + 5, 9)]
        }
    }
    static let batchSizes = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17]

    @Test(arguments: KernelTable.supported.map(\.rawValue))
    func matmulEqualsMatvec(_ id: UInt32) throws {
        let t = GGMLType(rawValue: id)!
        var rng = SplitMix64(0xBA7C_0000 + UInt64(t.rawValue))
        for (name, kernels) in [("fast", try KernelTable.kernels(for: t)), ("reference", try KernelTable.reference(for: t))] {
            for (k, rows) in Self.shapes(t) {
                let maxN = Self.batchSizes.max()!
                let w = randomMatrix(t, rows: rows, k: k, rng: &rng)
                let x = randomFloats(maxN * k, rng: &rng)
                let (xq, stride) = quantizeRows(kernels, x, n: maxN, k: k)
                let label = "\(name) \(t.description) k=\(k) rows=\(rows)"

                // The oracle: matvec of all rows, one activation at a time. expected[j * rows + r].
                var expected = [Float](repeating: 0, count: maxN * rows)
                w.withUnsafeBytes { wp in xq.withUnsafeBytes { xp in expected.withUnsafeMutableBufferPointer { e in
                    for j in 0..<maxN { kernels.matvec(wp.baseAddress!, 0..<rows, k, xp.baseAddress! + j * stride, e.baseAddress! + j * rows) }
                } } }

                // Every mismatch is counted; the first few are described.
                var mismatches = 0, checked = 0, examples: [String] = []
                func check(_ got: Float, _ j: Int, _ r: Int, _ what: @autoclosure () -> String) {
                    checked += 1
                    if got.bitPattern != expected[j * rows + r].bitPattern {
                        if examples.count < 3 { examples.append("\(what()) (\(j), \(r)): \(got) vs matvec \(expected[j * rows + r])") }
                        mismatches += 1
                    }
                }
                let ranges = [0..<rows, 1..<max(1, rows - 1), (rows / 2)..<rows, 0..<1, (rows - 1)..<rows]
                for range in ranges where !range.isEmpty {
                    // matvec over a sub-range: the same floats as over the whole range.
                    for j in [0, maxN - 1] {
                        var y = [Float](repeating: 0, count: range.count)
                        w.withUnsafeBytes { wp in xq.withUnsafeBytes { xp in
                            kernels.matvec(wp.baseAddress!, range, k, xp.baseAddress! + j * stride, &y)
                        } }
                        for r in range { check(y[r - range.lowerBound], j, r, "matvec rows \(range)") }
                    }
                    // matmul over the range, for each batch size: every entry equals the matvec one.
                    let ldy = rows + 2
                    for n in Self.batchSizes {
                        var y = [Float](repeating: -7, count: n * ldy)
                        w.withUnsafeBytes { wp in xq.withUnsafeBytes { xp in
                            kernels.matmul(wp.baseAddress!, range, k, xp.baseAddress!, stride, n, &y, ldy)
                        } }
                        for j in 0..<n { for r in range { check(y[j * ldy + r], j, r, "matmul n=\(n) rows \(range)") } }
                    }
                }
                #expect(mismatches == 0, "\(label): \(mismatches) of \(checked) differ; \(examples.joined(separator: "; "))")
            }
        }
    }
}
