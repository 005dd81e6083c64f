// A weight matrix in any supported format, bound to its kernels at load time.
import SwiftletCore
import SwiftletKernels

/// y = W x (+ b) for W of shape (outputs, inputs), stored in place in the mapped model file.
public struct Linear: @unchecked Sendable {
    public let name: String
    public let weights: UnsafeRawPointer
    public let inputs: Int
    public let outputs: Int
    public let kernels: WeightKernels
    /// Added to the outputs when present (f32, `outputs` values).
    public var bias: UnsafePointer<Float>?

    public init(name: String, weights: UnsafeRawPointer, inputs: Int, outputs: Int, type: GGMLType) throws {
        self.name = name
        self.weights = weights
        self.inputs = inputs
        self.outputs = outputs
        do { kernels = try KernelTable.kernels(for: type) } catch {
            throw ModelError("tensor \(name): \(error)")
        }
    }

    private init(name: String, weights: UnsafeRawPointer, inputs: Int, outputs: Int, kernels: WeightKernels, bias: UnsafePointer<Float>?) {
        self.name = name
        self.weights = weights
        self.inputs = inputs
        self.outputs = outputs
        self.kernels = kernels
        self.bias = bias
    }

    public var type: GGMLType { kernels.type }
    public var rowBytes: Int { type.rowBytes(inputs)! }

    /// Output rows `range` as a matrix of their own (a fused QKV or gate/up tensor's parts); rows
    /// are contiguous in every format, so nothing is copied.
    public func rows(_ range: Range<Int>, name part: String) -> Linear {
        Linear(name: "\(name)[\(part)]", weights: weights + range.lowerBound * rowBytes, inputs: inputs,
               outputs: range.count, kernels: kernels, bias: bias.map { $0 + range.lowerBound })
    }

    /// Dequantizes row r (used for embedding lookups).
    @inline(__always)
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        kernels.dequantizeRow(weights + r * rowBytes, out, inputs)
    }
}
