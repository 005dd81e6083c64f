// Swiftlet's quantized weight formats inside a safetensors file: such a tensor is stored as U8
// rows (shape [rows, bytes per row]) and the header's `__metadata__` says how to read it, under
// "swiftlet.type.<tensor name>" = "<format>;<dims, row length first>", e.g. "SW_A4_G64;576,1536".
import SwiftletCore

public enum SwiftletTensorType {
    public static func key(_ tensor: String) -> String { "swiftlet.type." + tensor }

    public static func value(_ type: GGMLType, dims: [Int]) -> String {
        "\(type);" + dims.map(String.init).joined(separator: ",")
    }

    /// The format and ggml dims a metadata value names, or nil when it is not one.
    public static func parse(_ value: String) -> (type: GGMLType, dims: [Int])? {
        let parts = value.split(separator: ";")
        guard parts.count == 2, let type = GGMLType.allCases.first(where: { $0.description == parts[0] }) else { return nil }
        let dims = parts[1].split(separator: ",").compactMap { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ $0 > 0 }) else { return nil }
        return (type, dims)
    }
}

extension SafetensorsCheckpoint {
    /// The Swiftlet format of a U8 tensor, when its file's metadata declares one and the sizes agree.
    public func swiftletType(_ name: String) -> (type: GGMLType, dims: [Int])? {
        guard let (f, info) = index[name], info.dtype == .U8,
              let value = files[f].metadata[SwiftletTensorType.key(name)],
              let (type, dims) = SwiftletTensorType.parse(value),
              type.byteCount(rows: dims.dropFirst().reduce(1, *), rowLength: dims[0]) == info.byteCount else { return nil }
        return (type, dims)
    }
}
