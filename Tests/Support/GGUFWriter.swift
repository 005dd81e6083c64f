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

    /// The header (magic through tensor infos), and the offset where tensor data begins.
    public func header() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
        func typeID(_ v: GGUFValue) -> GGUFValueType {
            switch v {
            case .uint8: return .uint8
            case .int8: return .int8
            case .uint16: return .uint16
            case .int16: return .int16
            case .uint32: return .uint32
            case .int32: return .int32
            case .float32: return .float32
            case .bool: return .bool
            case .string: return .string
            case .uint64: return .uint64
            case .int64: return .int64
            case .float64: return .float64
            case .array: return .array
            }
        }
        func value(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): out.append(x)
            case .int8(let x): out.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .uint32(let x): u32(x)
            case .int32(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .float32(let x): u32(x.bitPattern)
            case .bool(let x): out.append(x ? 1 : 0)
            case .string(let s): str(s)
            case .uint64(let x): u64(x)
            case .int64(let x): withUnsafeBytes(of: x.littleEndian) { out += $0 }
            case .float64(let x): u64(x.bitPattern)
            case .array(let t, let items):
                u32(t.rawValue)
                u64(UInt64(items.count))
                for i in items { value(i) }
            }
        }
        u32(0x4655_4747)
        u32(version)
        var meta = metadata
        if alignment != 32 && !meta.contains(where: { $0.0 == "general.alignment" }) {
            meta.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        u64(UInt64(tensors.count))
        u64(UInt64(meta.count))
        for (k, v) in meta {
            str(k)
            u32(typeID(v).rawValue)
            value(v)
        }
        var offset = 0
        for t in tensors {
            str(t.name)
            u32(UInt32(t.dims.count))
            for d in t.dims { u64(UInt64(d)) }
            u32(t.type.rawValue)
            u64(UInt64(offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        return out
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
