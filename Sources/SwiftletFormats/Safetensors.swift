// safetensors reader: memory-mapped single files and sharded checkpoints, every header checked.
import Foundation
import SwiftletCore

/// What went wrong reading a safetensors file; names the file and, where it applies, the tensor.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ path: String, _ message: String) { description = "\(path): \(message)" }
}

/// Element types of the safetensors format.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2

    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: return 1
        }
    }

    /// The GGUF/ggml element type with the same encoding, if there is one.
    public var ggmlType: GGMLType? {
        switch self {
        case .F32: return .f32
        case .F16: return .f16
        case .BF16: return .bf16
        case .F64: return .f64
        case .I8: return .i8
        case .I16: return .i16
        case .I32: return .i32
        case .I64: return .i64
        default: return nil
        }
    }
}

/// A tensor described by a safetensors header. `shape` is as stored (PyTorch order: the last
/// dimension is contiguous).
public struct SafetensorsTensorInfo: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Offset of the first byte from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// One `.safetensors` file, mapped in memory.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    /// Tensors in the order their data appears in the file.
    public let tensors: [SafetensorsTensorInfo]
    public let tensorsByName: [String: SafetensorsTensorInfo]
    /// The free-form `__metadata__` map.
    public let metadata: [String: String]

    /// Headers larger than this are refused as corrupt (real ones are well under a few MB).
    static let maxHeaderBytes = 100 << 20

    public convenience init(path: String) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError { throw SafetensorsError(path, e.description) }
        try self.init(file: file)
    }

    public init(file: MappedFile) throws {
        self.file = file
        path = file.path
        let path = file.path
        guard file.count >= 8 else { throw SafetensorsError(path, "truncated: \(file.count) bytes, no header length") }
        let headerLength = UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(file.count - 8) else {
            throw SafetensorsError(path, "header length \(headerLength) runs past the end of the file (\(file.count) bytes); the file may be truncated")
        }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw SafetensorsError(path, "header length \(headerLength) is absurd")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart
        let headerData = Data(bytes: file.base + 8, count: Int(headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw SafetensorsError(path, "header is not a JSON object")
        }
        var meta: [String: String] = [:]
        var infos: [SafetensorsTensorInfo] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafetensorsError(path, "__metadata__ is not an object") }
                for (k, v) in m { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafetensorsError(path, "tensor \(name): entry is not an object") }
            guard let dt = entry["dtype"] as? String, let dtype = SafetensorsDType(rawValue: dt) else {
                throw SafetensorsError(path, "tensor \(name): unknown dtype \(entry["dtype"] ?? "missing")")
            }
            guard let rawShape = entry["shape"] as? [Any], rawShape.count <= 8 else {
                throw SafetensorsError(path, "tensor \(name): shape missing or has more than 8 dimensions")
            }
            var shape: [Int] = []
            var elements = 1
            for d in rawShape {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n <= 1 << 40 else {
                    throw SafetensorsError(path, "tensor \(name): bad dimension \(d)")
                }
                let (p, o) = elements.multipliedReportingOverflow(by: n)
                guard !o, p <= 1 << 48 else { throw SafetensorsError(path, "tensor \(name): absurd shape \(rawShape)") }
                elements = p
                shape.append(n)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, begin <= end else {
                throw SafetensorsError(path, "tensor \(name): bad data_offsets \(entry["data_offsets"] ?? "missing")")
            }
            guard end <= dataSize else {
                throw SafetensorsError(path, "tensor \(name): data [\(begin), \(end)) lies outside the \(dataSize) data bytes; the file may be truncated")
            }
            guard end - begin == elements * dtype.byteSize else {
                throw SafetensorsError(path, "tensor \(name): \(end - begin) bytes do not hold shape \(shape) of \(dtype.rawValue) (\(elements * dtype.byteSize) bytes)")
            }
            infos.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + begin, byteCount: end - begin))
        }
        infos.sort { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        for (a, b) in zip(infos, infos.dropFirst()) where a.byteCount > 0 && b.byteCount > 0 && a.fileOffset + a.byteCount > b.fileOffset {
            throw SafetensorsError(path, "tensors \(a.name) and \(b.name) overlap")
        }
        tensors = infos
        tensorsByName = Dictionary(uniqueKeysWithValues: infos.map { ($0.name, $0) })
        metadata = meta
    }

    public func data(_ t: SafetensorsTensorInfo) -> UnsafeRawPointer { file.base + t.fileOffset }
}

/// A checkpoint: one `.safetensors` file, or the shards named by `model.safetensors.index.json`.
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public let files: [SafetensorsFile]
    /// Tensor name -> (file index, info).
    public let index: [String: (file: Int, info: SafetensorsTensorInfo)]

    /// `path` is a `.safetensors` file, an index file, or a folder holding either
    /// (`model.safetensors.index.json` is preferred over `model.safetensors`).
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SafetensorsError(path, "no such file or folder")
        }
        var target = path
        if isDir.boolValue {
            let indexPath = path + "/model.safetensors.index.json"
            let single = path + "/model.safetensors"
            if FileManager.default.fileExists(atPath: indexPath) { target = indexPath }
            else if FileManager.default.fileExists(atPath: single) { target = single }
            else { throw SafetensorsError(path, "no model.safetensors or model.safetensors.index.json in the folder") }
        }
        if target.hasSuffix(".json") {
            let dir = (target as NSString).deletingLastPathComponent
            guard let data = FileManager.default.contents(atPath: target),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw SafetensorsError(target, "not a safetensors index (no weight_map object)")
            }
            var files: [SafetensorsFile] = []
            var fileIndex: [String: Int] = [:]
            var index: [String: (Int, SafetensorsTensorInfo)] = [:]
            for (name, shard) in map.sorted(by: { $0.key < $1.key }) {
                guard !shard.contains("/") else { throw SafetensorsError(target, "shard \(shard) for \(name) is not a file in the folder") }
                if fileIndex[shard] == nil {
                    fileIndex[shard] = files.count
                    files.append(try SafetensorsFile(path: dir + "/" + shard))
                }
                let f = fileIndex[shard]!
                guard let info = files[f].tensorsByName[name] else {
                    throw SafetensorsError(target, "tensor \(name) is listed in \(shard) but that file does not hold it")
                }
                index[name] = (f, info)
            }
            self.files = files
            self.index = index
        } else {
            let file = try SafetensorsFile(path: target)
            files = [file]
            index = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, (0, $0)) })
        }
    }

    public var tensorNames: [String] { index.keys.sorted() }

    public func info(_ name: String) -> SafetensorsTensorInfo? { index[name]?.info }

    public func data(_ name: String) -> UnsafeRawPointer? {
        guard let (f, info) = index[name] else { return nil }
        return files[f].data(info)
    }
}
