// The fast kernels against the reference on real weights of the two test models, with activations shaped
// like real ones (dequantized embedding rows). Tolerance: 1e-3 relative to max(|reference|, 1e-3); measured
// worst cases are 2e-6..1e-4 (float summation order only; the integer sums are identical).
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletKernels
import SwiftletTestSupport

@Suite struct RealWeightTests {
    @Test(arguments: [TestModels.smollm2, TestModels.gemma3])
    func fastMatchesReferenceOnRealWeights(_ path: String) throws {
        guard let path = try TestModels.require(path) else { return }
        let gguf = try GGUFFile(path: path)
        var seen = Set<UInt32>()
        // One 2-D tensor per weight type, plus the activation source: the token embedding.
        let embedding = try #require(gguf.tensorsByName["token_embd.weight"])
        for t in gguf.tensors where t.dims.count == 2 && !seen.contains(t.type.rawValue) {
            seen.insert(t.type.rawValue)
            let fast = try KernelTable.kernels(for: t.type), ref = try KernelTable.reference(for: t.type)
            let k = t.dims[0], rows = min(t.rows, 64), n = 9
            // Activations: embedding rows when the widths agree, else a deterministic ramp with outliers.
            var x = [Float](repeating: 0, count: n * k)
            let embKernels = try KernelTable.reference(for: embedding.type)
            for j in 0..<n {
                if embedding.dims[0] == k {
                    x.withUnsafeMutableBufferPointer {
                        embKernels.dequantizeRow(gguf.data(embedding) + (100 + 37 * j) * embedding.rowBytes, $0.baseAddress! + j * k, k)
                    }
                } else {
                    for i in 0..<k { x[j * k + i] = sin(Float(i * (j + 1)) * 0.37) * (i % 61 == 0 ? 20 : 1) }
                }
            }
            let (xq, stride) = quantizeRows(ref, x, n: n, k: k)
            let (xqFast, _) = quantizeRows(fast, x, n: n, k: k)
            #expect(xq == xqFast, "\(t.name): activation quantization")
            var yRef = [Float](repeating: 0, count: n * rows), yFast = yRef, yVec = [Float](repeating: 0, count: rows)
            let w = gguf.data(t)
            xq.withUnsafeBytes { xp in
                ref.matmul(w, 0..<rows, k, xp.baseAddress!, stride, n, &yRef, rows)
                fast.matmul(w, 0..<rows, k, xp.baseAddress!, stride, n, &yFast, rows)
                fast.matvec(w, 0..<rows, k, xp.baseAddress!, &yVec)
            }
            var worst: Float = 0
            for j in 0..<n {
                for r in 0..<rows {
                    let scale = max(abs(yRef[j * rows + r]), 1e-3)
                    worst = max(worst, abs(yRef[j * rows + r] - yFast[j * rows + r]) / scale)
                    if j == 0 { worst = max(worst, abs(yRef[r] - yVec[r]) / scale) }
                }
            }
            print("\(t.name) \(t.type): worst relative difference fast vs reference \(worst)")
            #expect(worst < 1e-3, "\(t.name) \(t.type)")
        }
    }
}
