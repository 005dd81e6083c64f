// Weight matrices for the optimizer tests: seeded random ones shaped like real weights, and real ones
// from the test models when they are present.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletKernels
import SwiftletTestSupport

enum TestWeights {
    /// Normal(0, sd) values (Box-Muller).
    static func gaussian(_ n: Int, sd: Float = 0.02, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in normal(&rng) * sd }
    }

    /// Student-t-like values: a normal divided by the root of a chi-square with 3 degrees of freedom,
    /// so a few entries per group are several times larger than the rest (as in real LLM weights).
    static func heavyTailed(_ n: Int, sd: Float = 0.02, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            let (a, b, c) = (normal(&rng), normal(&rng), normal(&rng))
            let chi = (a * a + b * b + c * c) / 3
            return normal(&rng) * sd / max(chi.squareRoot(), 0.05)
        }
    }

    static func unit(_ rng: inout SplitMix64) -> Float { (Float(rng.next() >> 40) + 0.5) / Float(1 << 24) }

    static func normal(_ rng: inout SplitMix64) -> Float {
        (-2 * log(unit(&rng))).squareRoot() * cos(2 * .pi * unit(&rng))
    }

    /// A real 2-D tensor dequantized to f32 rows: (values, rows, k).
    static func gguf(_ file: GGUFFile, _ name: String) throws -> (values: [Float], rows: Int, k: Int) {
        let t = try #require(file.tensorsByName[name], "\(name) in \(file.path)")
        let kernels = try KernelTable.reference(for: t.type)
        let k = t.dims[0], rows = t.rows
        var out = [Float](repeating: 0, count: rows * k)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { kernels.dequantizeRow(file.data(t) + r * t.rowBytes, o.baseAddress! + r * k, k) }
        }
        return (out, rows, k)
    }

    /// A real f32 tensor of a safetensors checkpoint: (values, rows, k).
    static func safetensors(_ file: SafetensorsFile, _ name: String) throws -> (values: [Float], rows: Int, k: Int) {
        let t = try #require(file.tensorsByName[name], "\(name) in \(file.path)")
        try #require(t.dtype == .F32 && t.shape.count == 2)
        let p = file.data(t)
        let values = (0..<t.elementCount).map { p.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        return (values, t.shape[0], t.shape[1])
    }
}
