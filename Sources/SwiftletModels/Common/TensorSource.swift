// Where weights come from: a name -> (type, shape, bytes) lookup over a mapped checkpoint.
import SwiftletCore
import SwiftletFormats

/// A tensor inside a mapped checkpoint. `dims[0]` is the row length (ggml order).
public struct SourceTensor: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let dims: [Int]
    public let data: UnsafeRawPointer
}

/// A checkpoint's tensors by name. Keeps the mapping alive.
public protocol TensorSource: AnyObject, Sendable {
    var tensorNames: [String] { get }
    func tensor(_ name: String) -> SourceTensor?
    /// The mapped files the tensors' bytes live in (layer streaming pages them in and out).
    var mappedFiles: [MappedFile] { get }
}

extension GGUFFile: TensorSource {
    public var tensorNames: [String] { tensors.map(\.name) }
    public func tensor(_ name: String) -> SourceTensor? {
        guard let t = tensorsByName[name] else { return nil }
        return SourceTensor(name: name, type: t.type, dims: t.dims, data: data(t))
    }
    public var mappedFiles: [MappedFile] { [file] }
}

extension SafetensorsCheckpoint: TensorSource {
    /// Tensors in ggml order (dims reversed from PyTorch's), for the float dtypes the kernels read.
    public func tensor(_ name: String) -> SourceTensor? {
        guard let info = info(name), let data = data(name) else { return nil }
        // Swiftlet's quantized formats: U8 rows with their format in the header metadata.
        if let (type, dims) = swiftletType(name) { return SourceTensor(name: name, type: type, dims: dims, data: data) }
        guard let type = info.dtype.ggmlType else { return nil }
        return SourceTensor(name: name, type: type, dims: info.shape.reversed(), data: data)
    }
    public var mappedFiles: [MappedFile] { files.map(\.file) }
}

/// The one sanitize step of Hugging Face checkpoints: prefixes renamed (a multimodal wrapper's
/// `language_model.model.` becomes `model.`) and tensors the text model does not use (the vision
/// tower, the projector) set aside, so the name tables see one layout.
public final class SanitizedTensorSource: TensorSource, @unchecked Sendable {
    public let base: TensorSource
    /// Sanitized name -> name in `base`.
    private let original: [String: String]
    public let tensorNames: [String]

    public init(_ base: TensorSource, renames: [(from: String, to: String)], ignoredPrefixes: [String]) {
        self.base = base
        var original: [String: String] = [:]
        var names: [String] = []
        for name in base.tensorNames {
            guard let new = Self.sanitize(name, renames: renames, ignoredPrefixes: ignoredPrefixes) else { continue }
            original[new] = name
            names.append(new)
        }
        self.original = original
        tensorNames = names
    }

    /// The name `name` has after the sanitize step, or nil when the text model does not use it.
    public static func sanitize(_ name: String, renames: [(from: String, to: String)], ignoredPrefixes: [String]) -> String? {
        if ignoredPrefixes.contains(where: name.hasPrefix) { return nil }
        guard let r = renames.first(where: { name.hasPrefix($0.from) }) else { return name }
        return r.to + name.dropFirst(r.from.count)
    }

    public func tensor(_ name: String) -> SourceTensor? {
        guard let from = original[name], let t = base.tensor(from) else { return nil }
        return SourceTensor(name: name, type: t.type, dims: t.dims, data: t.data)
    }

    public var mappedFiles: [MappedFile] { base.mappedFiles }
}
