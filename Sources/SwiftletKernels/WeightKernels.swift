// The kernel table: for each weight format, the functions that multiply its rows by activations.
import SwiftletCore

/// The kernels for one weight format, picked once per tensor at load time (never per call).
///
/// Shapes follow ggml: a weight matrix has `rows` rows of `k` elements, stored row after row,
/// each row `rowBytes = type.rowBytes(k)` long (k / blockSize blocks; SW_I8_ROW: a 4-byte scale and k codes). Activations are first converted to
/// `activationType` (ggml's `vec_dot_type`: Q8_0, Q8_1, Q8_K, F32 for float weights, SW_Q16 for SW_I8_ROW) with
/// `quantizeActivation`, then dotted against weight rows.
public struct WeightKernels: Sendable {
    public typealias Dequantize = @Sendable (_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ k: Int) -> Void
    public typealias Quantize = @Sendable (_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ k: Int) -> Void
    /// y[r - rows.lowerBound] = dot(row r of w, xq) for every r in rows.
    public typealias MatVec = @Sendable (_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int,
                                         _ xq: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) -> Void
    /// For n activation rows (xq + j * xqStride, j in 0..<n) and weight rows r in `rows`:
    /// y[j * ldy + r] = dot(row r of w, activation j). Note: `y` is indexed by absolute row r.
    public typealias MatMul = @Sendable (_ w: UnsafeRawPointer, _ rows: Range<Int>, _ k: Int,
                                         _ xq: UnsafeRawPointer, _ xqStride: Int, _ n: Int,
                                         _ y: UnsafeMutablePointer<Float>, _ ldy: Int) -> Void

    public let type: GGMLType
    public let activationType: GGMLType
    public let dequantizeRow: Dequantize
    public let quantizeActivation: Quantize
    public let matvec: MatVec
    public let matmul: MatMul

    public init(type: GGMLType, activationType: GGMLType, dequantizeRow: @escaping Dequantize,
                quantizeActivation: @escaping Quantize, matvec: @escaping MatVec, matmul: @escaping MatMul) {
        self.type = type
        self.activationType = activationType
        self.dequantizeRow = dequantizeRow
        self.quantizeActivation = quantizeActivation
        self.matvec = matvec
        self.matmul = matmul
    }

    /// Bytes one activation row of `k` elements takes once quantized.
    public func activationBytes(_ k: Int) -> Int { activationType.byteCount(elements: k) ?? 0 }
}

public struct UnsupportedWeightFormat: Error, CustomStringConvertible {
    public let type: GGMLType
    public var description: String {
        "weight format \(type) is not supported (supported: \(KernelTable.supported.map(\.description).joined(separator: ", ")))"
    }
}
