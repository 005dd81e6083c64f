// A weight matrix in any supported format, bound to its kernels at load time.
import SwiftletCore
import SwiftletKernels

/// y = W x for W of shape (outputs, inputs), stored in place in the mapped model file.
public struct Linear: @unchecked Sendable {
    public let name: String
    public let weights: UnsafeRawPointer
    public let inputs: Int
    public let outputs: Int
    public let kernels: WeightKernels

    public init(name: String, weights: UnsafeRawPointer, inputs: Int, outputs: Int, type: GGMLType) throws {
        self.name = name
        self.weights = weights
        self.inputs = inputs
        self.outputs = outputs
        do { kernels = try KernelTable.kernels(for: type) } catch {
            throw ModelError("tensor \(name): \(error)")
        }
    }

    public var type: GGMLType { kernels.type }
    public var rowBytes: Int { type.byteCount(elements: inputs)! }

    /// Dequantizes row r (used for embedding lookups).
    @inline(__always)
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        kernels.dequantizeRow(weights + r * rowBytes, out, inputs)
    }
}
