// Rotary position embeddings in the two layouts GGUF models use.
import Foundation

/// Rotary embedding of one head vector, as ggml computes it: the angle of pair i at position p is
/// p * base^(-2i/dims), built by repeated multiplication (like ggml, so results match bit for bit).
public struct Rope: Sendable {
    public enum Layout: Sendable {
        /// Adjacent pairs (x[2i], x[2i+1]): ggml's "normal" mode, used by Llama in GGUF.
        case interleaved
        /// Halves (x[i], x[i + dims/2]): "neox" mode, used by Gemma, Qwen, Phi and HF checkpoints.
        case halves
    }
    public let dims: Int
    public let base: Float
    public let layout: Layout
    /// Positions are divided by this (linear rope scaling), 1 when absent.
    public let positionScale: Float

    public init(dims: Int, base: Float, layout: Layout, positionScale: Float = 1) {
        self.dims = dims
        self.base = base
        self.layout = layout
        self.positionScale = positionScale
    }

    /// Fills `cs` (dims floats: cos/sin pairs for dims/2 frequencies) for a position.
    @inline(__always)
    public func table(position: Int, into cs: UnsafeMutablePointer<Float>) {
        let thetaScale = powf(base, -2 / Float(dims))
        var theta = Float(position) / positionScale
        for i in 0..<dims / 2 {
            cs[2 * i] = cosf(theta)
            cs[2 * i + 1] = sinf(theta)
            theta *= thetaScale
        }
    }

    /// Rotates `heads` consecutive head vectors of `stride` floats each, using a table from `table`.
    @inline(__always)
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, stride: Int, table cs: UnsafePointer<Float>) {
        for h in 0..<heads {
            let v = x + h * stride
            switch layout {
            case .interleaved:
                for i in 0..<dims / 2 {
                    let c = cs[2 * i], s = cs[2 * i + 1]
                    let a = v[2 * i], b = v[2 * i + 1]
                    v[2 * i] = a * c - b * s
                    v[2 * i + 1] = a * s + b * c
                }
            case .halves:
                let half = dims / 2
                for i in 0..<half {
                    let c = cs[2 * i], s = cs[2 * i + 1]
                    let a = v[i], b = v[i + half]
                    v[i] = a * c - b * s
                    v[i + half] = a * s + b * c
                }
            }
        }
    }
}
