// Rotary position embeddings in the two layouts GGUF models use.
import Foundation

/// Explicit per-pair inverse frequencies (scaled ropes: llama3, yarn, longrope, and every Hugging
/// Face checkpoint, computed as transformers does), with the factor cos/sin are multiplied by.
public struct RopeFrequencies: Sendable, Equatable {
    /// dims/2 inverse frequencies: the angle of pair i at position p is p * inverse[i].
    public var inverse: [Float]
    /// Frequencies for positions at or past `longFrom` (longrope's long factors), if any.
    public var long: [Float]?
    public var longFrom: Int
    public var attentionFactor: Float

    public init(inverse: [Float], long: [Float]? = nil, longFrom: Int = .max, attentionFactor: Float = 1) {
        self.inverse = inverse
        self.long = long
        self.longFrom = longFrom
        self.attentionFactor = attentionFactor
    }
}

/// Rotary embedding of one head vector. Without explicit frequencies it computes as ggml does: the
/// angle of pair i at position p is p * base^(-2i/dims), built by repeated multiplication (like
/// ggml, so results match bit for bit); with them, as transformers does: p * inverse[i] in f32.
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
    public let frequencies: RopeFrequencies?

    public init(dims: Int, base: Float, layout: Layout, positionScale: Float = 1, frequencies: RopeFrequencies? = nil) {
        precondition(frequencies.map { $0.inverse.count == dims / 2 && ($0.long?.count ?? dims / 2) == dims / 2 } ?? true,
                     "rope frequencies must have dims/2 entries")
        self.dims = dims
        self.base = base
        self.layout = layout
        self.positionScale = positionScale
        self.frequencies = frequencies
    }

    /// Fills `cs` (dims floats: cos/sin pairs for dims/2 frequencies) for a position.
    @inline(__always)
    public func table(position: Int, into cs: UnsafeMutablePointer<Float>) {
        if let f = frequencies {
            let inverse = position >= f.longFrom ? f.long! : f.inverse
            let p = Float(position)
            for i in 0..<dims / 2 {
                let theta = p * inverse[i]
                cs[2 * i] = cosf(theta) * f.attentionFactor
                cs[2 * i + 1] = sinf(theta) * f.attentionFactor
            }
            return
        }
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
