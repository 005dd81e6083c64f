// Attention, norms and RoPE against plain reference loops.
import Foundation
import Testing
import SwiftletKernels

private struct Rand {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
}

@Test(arguments: [(64, 64, 3), (256, 256, 4), (72, 40, 1), (80, 80, 2)])
func groupedAttentionMatchesReference(headDim: Int, valueDim: Int, group: Int) {
    var r = Rand(state: UInt64(headDim * 31 + group))
    let positions = 37
    let k = (0..<positions * headDim).map { _ in Float16(r.next() * 2).bitPattern }
    let v = (0..<positions * valueDim).map { _ in Float16(r.next() * 3).bitPattern }
    for keys in [0..<1, 0..<5, 3..<37, 0..<37] {
        var q = (0..<group * headDim).map { _ in r.next() }
        let q0 = q
        var out = [Float](repeating: .nan, count: group * valueDim)
        var scores = [Float](repeating: 0, count: group * positions)
        let scale = 1 / Float(headDim).squareRoot()
        Attention.heads(q: &q, count: group, k: k, v: v, kStride: headDim, vStride: valueDim, headDim: headDim,
                        valueDim: valueDim, keys: keys, scale: scale, scores: &scores, out: &out)
        for h in 0..<group {
            var ref = [Float](repeating: 0, count: valueDim)
            q0.withUnsafeBufferPointer { qb in
                Attention.referenceHead(q: qb.baseAddress! + h * headDim, k: k, v: v, kStride: headDim, vStride: valueDim,
                                        headDim: headDim, valueDim: valueDim, keys: keys, scale: scale, out: &ref)
            }
            for d in 0..<valueDim {
                #expect(abs(out[h * valueDim + d] - ref[d]) <= 1e-4 * (1 + abs(ref[d])),
                        "head \(h) dim \(d) keys \(keys): \(out[h * valueDim + d]) vs \(ref[d])")
            }
        }
    }
}

@Test func rmsNormMatchesDefinition() {
    var r = Rand(state: 9)
    let n = 83
    let x = (0..<n).map { _ in r.next() * 5 }
    let w = (0..<n).map { _ in r.next() }
    var out = [Float](repeating: 0, count: n)
    Vector.rmsNorm(x, w, &out, n, eps: 1e-6)
    let sum: Double = x.map { Double($0 * $0) }.reduce(0, +)
    let rms = (sum / Double(n) + 1e-6).squareRoot()
    for i in 0..<n {
        let expected: Double = Double(x[i]) / rms * Double(w[i])
        #expect(abs(Double(out[i]) - expected) < 1e-5)
    }
}

@Test func ropeRotatesPairsByPositionAngles() {
    for layout in [Rope.Layout.interleaved, .halves] {
        let dims = 8
        let rope = Rope(dims: dims, base: 10000, layout: layout)
        var table = [Float](repeating: 0, count: dims)
        rope.table(position: 3, into: &table)
        var x: [Float] = (0..<dims).map { Float($0 + 1) }
        let before = x
        rope.apply(&x, heads: 1, stride: dims, table: table)
        for i in 0..<dims / 2 {
            let theta: Double = 3 * pow(10000, -2 * Double(i) / Double(dims))
            let (a, b) = layout == .interleaved ? (2 * i, 2 * i + 1) : (i, i + dims / 2)
            let xa = Double(before[a]), xb = Double(before[b])
            let ea: Double = xa * cos(theta) - xb * sin(theta)
            let eb: Double = xa * sin(theta) + xb * cos(theta)
            #expect(abs(Double(x[a]) - ea) < 1e-4)
            #expect(abs(Double(x[b]) - eb) < 1e-4)
        }
        // Norms are preserved.
        let n1: Float = x.map { $0 * $0 }.reduce(0, +)
        let n0: Float = before.map { $0 * $0 }.reduce(0, +)
        #expect(abs(n1 - n0) < 1e-3)
    }
}

@Test func gegluTableIsCloseToTheFormula() {
    var gate: [Float] = stride(from: -12, through: 12, by: 0.37).map { Float($0) }
    let xs = gate
    let up = [Float](repeating: 2, count: gate.count)
    Vector.geglu(&gate, up, gate.count)
    for (x, y) in zip(xs, gate) {
        #expect(abs(y - 2 * Vector.geluTanh(x)) <= 2e-3 * (1 + abs(y)), "x \(x)")
    }
}
