// Builds GGUF files in memory for tests: valid ones, and the raw pieces to corrupt them.
import Foundation
import SwiftletCore
import SwiftletFormats

public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        public var dims: [Int]
        public var type: GGMLType
        public var data: [UInt8]
        public init(name: String, dims: [Int], type: GGMLType, data: [UInt8]) {
            self.name = name; self.dims = dims; self.type = type; self.data = data
        }
    }

    public var version: UInt32 = 3
    public var alignment = 32
    public var metadata: [(String, GGUFValue)] = []
    public var tensors: [Tensor] = []

    public init() {}

    public static func f32Tensor(_ name: String, dims: [Int], _ values: [Float]) -> Tensor {
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return Tensor(name: name, dims: dims, type: .f32, data: bytes)
    }

    /// The header (magic through tensor infos); tensor data begins at the next multiple of `alignment`.
    public func header() -> [UInt8] {
        var meta = metadata
        if alignment != 32 && !meta.contains(where: { $0.0 == "general.alignment" }) {
            meta.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        var entries: [GGUFEncoding.TensorEntry] = []
        var offset = 0
        for t in tensors {
            entries.append(.init(name: t.name, dims: t.dims, type: t.type, offset: offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        return GGUFEncoding.header(version: version, metadata: meta, tensors: entries)
    }

    /// The complete file.
    public func bytes() -> [UInt8] {
        var out = header()
        func pad() { while out.count % alignment != 0 { out.append(0) } }
        pad()
        for t in tensors {
            out += t.data
            pad()
        }
        return out
    }

    /// Writes bytes to a fresh temporary file and returns its path.
    public static func temporaryFile(_ bytes: [UInt8], name: String = "test.gguf") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
