// Performance probe for the fast kernels; runs only with SWIFTLET_KERNEL_BENCH=1 and asserts nothing about speed:
//   SWIFTLET_KERNEL_BENCH=1 swift test -c release --scratch-path .build-kernels --filter KernelBench
// matvec: single thread, weights cycled through copies totalling >= 96 MB so they stream from DRAM as in decode
// (GB/s of weight bytes read). matmul: n = 64 activation rows against one in-cache copy (GFLOP/s = 2*rows*k*n / s).
// Each figure is the best of several timed passes: the machine is shared, and the best pass is the least disturbed.
// The 2-thread streaming figure (rows split in halves) only means something when both cores are otherwise idle.
import Foundation
import Testing
import SwiftletCore
import SwiftletKernels

@Suite struct KernelBench {
    static let enabled = ProcessInfo.processInfo.environment["SWIFTLET_KERNEL_BENCH"] == "1"

    /// (format, rows, k): shapes of the two real models' matrices.
    static let shapes: [(GGMLType, Int, Int, String)] = [
        (.q4_1, 576, 1536, "SmolLM2 ffn_down"),
        (.q4_1, 1536, 576, "SmolLM2 ffn_gate/up"),
        (.q4_1, 49152, 576, "SmolLM2 output"),
        (.q8_0, 576, 1536, "SmolLM2 Q8_0 ffn_down"),
        (.q8_0, 65536, 640, "Gemma3 output (1/4)"),
        (.q5_0, 2048, 640, "Gemma3 ffn_gate/up"),
        (.q4_K, 640, 1024, "Gemma3 attn_output"),
        (.q6_K, 640, 2048, "Gemma3 ffn_down"),
        (.q4_0, 1536, 576, "(Q4_0)"),
        (.q5_K, 640, 1024, "(Q5_K)"),
        (.f32, 576, 1536, "(F32)"),
        (.f16, 576, 1536, "(F16)"),
        // Swiftlet's own formats against the ggml formats they replace, on SmolLM2's shapes.
        (.q8_0, 1536, 576, "SmolLM2 Q8_0 ffn_gate/up"),
        (.swI8Row, 576, 1536, "SmolLM2 ffn_down"),
        (.swI8Row, 1536, 576, "SmolLM2 ffn_gate/up"),
        (.swA4G32, 576, 1536, "SmolLM2 ffn_down"),
        (.swA4G32, 1536, 576, "SmolLM2 ffn_gate/up"),
        (.swA4G64, 576, 1536, "SmolLM2 ffn_down"),
        (.swA4G64, 1536, 576, "SmolLM2 ffn_gate/up"),
        (.swA4G128, 576, 1536, "SmolLM2 ffn_down"),      // (576 is not a multiple of 128: no gate/up)
        (.swA8G64, 576, 1536, "SmolLM2 ffn_down"),
        (.swA8G64, 1536, 576, "SmolLM2 ffn_gate/up"),
    ]

    static func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    @Test(.enabled(if: KernelBench.enabled))
    func matvecAndMatmulSpeed() throws {
        var rng = SplitMix64(42)
        // SWIFTLET_KERNEL_BENCH_ONLY=Q4_1,Q8_0 limits the run to some formats.
        let only = ProcessInfo.processInfo.environment["SWIFTLET_KERNEL_BENCH_ONLY"].map { $0.split(separator: ",").map(String.init) }
        for (t, rows, k, label) in Self.shapes where only.map({ $0.contains(t.description) }) ?? true {
            let kernels = try KernelTable.kernels(for: t)
            let rowBytes = t.rowBytes(k)!
            let matrixBytes = rows * rowBytes
            let copies = max(1, (96 << 20) / matrixBytes)
            let one = randomMatrix(t, rows: rows, k: k, rng: &rng)
            var weights = [UInt8](repeating: 0, count: copies * matrixBytes)
            for c in 0..<copies { weights.replaceSubrange((c * matrixBytes)..<((c + 1) * matrixBytes), with: one) }
            let n = 64
            let x = randomFloats(n * k, rng: &rng)
            let (xq, stride) = quantizeRows(kernels, x, n: n, k: k)
            var y = [Float](repeating: 0, count: n * rows)

            // matvec, streaming: each pass reads every copy once.
            var best = Double.infinity, total = 0.0
            weights.withUnsafeBytes { w in xq.withUnsafeBytes { xp in y.withUnsafeMutableBufferPointer { yp in
                while total < 0.6 {
                    let t = Self.seconds {
                        for c in 0..<copies { kernels.matvec(w.baseAddress! + c * matrixBytes, 0..<rows, k, xp.baseAddress!, yp.baseAddress!) }
                    }
                    best = min(best, t); total += t
                }
            } } }
            let gbps = Double(copies * matrixBytes) / best / 1e9
            let mvPerSec = Double(copies) / best

            // matvec, in cache (one copy, repeated).
            var hotBest = Double.infinity, hotTotal = 0.0
            let reps = max(1, (4 << 20) / matrixBytes)
            weights.withUnsafeBytes { w in xq.withUnsafeBytes { xp in y.withUnsafeMutableBufferPointer { yp in
                while hotTotal < 0.3 {
                    let t = Self.seconds { for _ in 0..<reps { kernels.matvec(w.baseAddress!, 0..<rows, k, xp.baseAddress!, yp.baseAddress!) } }
                    hotBest = min(hotBest, t); hotTotal += t
                }
            } } }
            let hotGbps = Double(reps * matrixBytes) / hotBest / 1e9

            // matvec, streaming, 2 threads (rows split in halves), as the runtime would run decode.
            var best2 = Double.infinity, total2 = 0.0
            weights.withUnsafeBytes { w in xq.withUnsafeBytes { xp in y.withUnsafeMutableBufferPointer { yp in
                nonisolated(unsafe) let wb = UnsafeRawPointer(w.baseAddress!), xb = UnsafeRawPointer(xp.baseAddress!)
                let yb = yp.baseAddress!, half = rows / 2
                nonisolated(unsafe) let out = yb
                while total2 < 0.6 {
                    let t = Self.seconds {
                        DispatchQueue.concurrentPerform(iterations: 2) { part in
                            let range = part == 0 ? 0..<half : half..<rows
                            for c in 0..<copies { kernels.matvec(wb + c * matrixBytes, range, k, xb, out + range.lowerBound) }
                        }
                    }
                    best2 = min(best2, t); total2 += t
                }
            } } }
            let gbps2 = Double(copies * matrixBytes) / best2 / 1e9

            // matmul, n = 64.
            var mmBest = Double.infinity, mmTotal = 0.0
            weights.withUnsafeBytes { w in xq.withUnsafeBytes { xp in y.withUnsafeMutableBufferPointer { yp in
                while mmTotal < 0.6 {
                    let t = Self.seconds { kernels.matmul(w.baseAddress!, 0..<rows, k, xp.baseAddress!, stride, n, yp.baseAddress!, rows) }
                    mmBest = min(mmBest, t); mmTotal += t
                }
            } } }
            let gflops = 2.0 * Double(rows * k * n) / mmBest / 1e9
            let line = "\(t.description.padding(toLength: 10, withPad: " ", startingAt: 0)) \(rows)x\(k) \(label): "
                + String(format: "matvec %.1f GB/s streaming (%.0f/s), %.1f GB/s in cache, %.1f GB/s 2 threads; matmul n=64 %.1f GFLOP/s",
                         gbps, mvPerSec, hotGbps, gbps2, gflops)
            print(line)
        }
    }
}
