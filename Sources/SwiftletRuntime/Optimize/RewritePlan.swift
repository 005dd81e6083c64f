// A model rewrite (quantize, prune, dequantize): the output's tensors planned up front (name, shape,
// type, so a file header can be written first) and each one's bytes produced on demand, in order.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletKernels
import SwiftletModels

/// One tensor of a rewritten model.
public struct PlannedTensor {
    public var name: String
    /// ggml order: dims[0] is the row length.
    public var dims: [Int]
    public var type: GGMLType
    /// What happened to it, for the summary ("hqq4 g64", "kept", "pruned 25% rows", ...).
    public var action: String
    /// Hands the tensor's bytes to the writer (called once, when the writer reaches it).
    public var emit: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    public init(name: String, dims: [Int], type: GGMLType, action: String,
                emit: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
        self.name = name
        self.dims = dims
        self.type = type
        self.action = action
        self.emit = emit
    }

    /// A tensor whose bytes are computed when the writer reaches it.
    public init(name: String, dims: [Int], type: GGMLType, action: String, produce: @escaping () throws -> [UInt8]) {
        self.init(name: name, dims: dims, type: type, action: action) { write in try produce().withUnsafeBytes(write) }
    }

    /// A tensor copied as it is stored: its bytes go from the mapped source to the writer.
    public static func kept(_ t: SourceTensor) -> PlannedTensor {
        PlannedTensor(name: t.name, dims: t.dims, type: t.type, action: "kept") { write in try write(try TensorFloats.raw(t)) }
    }

    public var rows: Int { dims.dropFirst().reduce(1, *) }
    public var byteCount: Int { type.byteCount(rows: rows, rowLength: dims.first ?? 0) ?? 0 }
}

/// A rewrite's result: where it went and what it did.
public struct RewriteSummary: Sendable {
    public var output: String
    public var tensors: Int
    /// Tensor name -> action, for tensors the rewrite changed.
    public var changed: [(String, String)]
    public var inputBytes: Int
    public var outputBytes: Int
    public var seconds: Double
}

/// The float values of a tensor in any supported format (rows of dims[0] values).
enum TensorFloats {
    static func read(_ t: SourceTensor) throws -> [Float] {
        let k = t.dims.first ?? 0
        let rows = t.dims.dropFirst().reduce(1, *)
        guard let rowBytes = t.type.rowBytes(k) else { throw RuntimeError("tensor \(t.name): \(t.type) rows of \(k) are not whole blocks") }
        let kernels = try KernelTable.kernels(for: t.type)
        var out = [Float](repeating: 0, count: rows * k)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows { kernels.dequantizeRow(t.data + r * rowBytes, o.baseAddress! + r * k, k) }
        }
        return out
    }

    /// `values` stored as F32 or F16 bytes.
    static func encode(_ values: [Float], as type: GGMLType) throws -> [UInt8] {
        switch type {
        case .f32:
            return values.withUnsafeBytes { Array($0) }
        case .f16:
            var out = [UInt8](repeating: 0, count: values.count * 2)
            out.withUnsafeMutableBytes { o in
                for (i, v) in values.enumerated() { o.storeBytes(of: floatToHalf(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            }
            return out
        default:
            throw RuntimeError("cannot store floats as \(type)")
        }
    }

    /// A tensor's bytes exactly as stored, in place in the mapped source.
    static func raw(_ t: SourceTensor) throws -> UnsafeRawBufferPointer {
        let rows = t.dims.dropFirst().reduce(1, *)
        guard let n = t.type.byteCount(rows: rows, rowLength: t.dims.first ?? 0) else {
            throw RuntimeError("tensor \(t.name): size unknown for \(t.type)")
        }
        return UnsafeRawBufferPointer(start: t.data, count: n)
    }
}

/// Reports progress: a bar on a terminal, a line per tensor otherwise (both on stderr).
public struct RewriteProgress: Sendable {
    public var report: @Sendable (_ done: Int, _ total: Int, _ name: String, _ action: String) -> Void
    public init(_ report: @escaping @Sendable (Int, Int, String, String) -> Void) { self.report = report }
    public static let silent = RewriteProgress { _, _, _, _ in }
}
