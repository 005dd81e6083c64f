// The tensors of a split folder (`swiftlet split`): each name looked up in the part file that holds
// it, its bytes mapped in place there, so a split model runs exactly like the model it came from.
import SwiftletCore
import SwiftletFormats

/// A split folder's tensors by name, over its mapped part files (embedding, one per layer, head).
public final class SplitTensorSource: TensorSource, @unchecked Sendable {
    public let store: SplitStore
    /// Tensor names in manifest order (embedding, layer 0, 1, ..., head).
    public let tensorNames: [String]
    /// Tensor name -> (index into `store.parts`, its entry there).
    private let index: [String: (part: Int, info: GGUFTensorInfo)]

    public init(_ store: SplitStore) {
        self.store = store
        var index: [String: (part: Int, info: GGUFTensorInfo)] = [:]
        var names: [String] = []
        for (i, file) in store.parts.enumerated() {
            for t in file.tensors {
                index[t.name] = (i, t)
                names.append(t.name)
            }
        }
        self.index = index
        tensorNames = names
    }

    /// Opens the split folder at `folder` (manifest checked, parts verified: see `SplitStore`).
    public convenience init(folder: String, verify: Bool = true) throws {
        self.init(try SplitStore(folder: folder, verify: verify))
    }

    public func tensor(_ name: String) -> SourceTensor? {
        guard let (part, info) = index[name] else { return nil }
        return SourceTensor(name: name, type: info.type, dims: info.dims, data: store.parts[part].data(info))
    }

    /// The part files, in manifest order.
    public var mappedFiles: [MappedFile] { store.parts.map(\.file) }

    /// The index into `store.parts` (and `store.manifest.parts`) of the part holding `tensor`.
    public func part(holding tensor: String) -> Int? { index[tensor]?.part }

    /// The split folder a model's tensors come from: `source` itself, or the source under a
    /// checkpoint's sanitize step; nil when the model was not loaded from a split folder.
    public static func underlying(_ source: TensorSource) -> SplitTensorSource? {
        (source as? SplitTensorSource) ?? ((source as? SanitizedTensorSource)?.base as? SplitTensorSource)
    }
}
