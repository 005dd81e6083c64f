// Writes GGUF files: the header (metadata, tensor table) encoded once, then each tensor's bytes
// streamed in table order, into `<path>.partial`, renamed to `path` only when complete, so an
// interrupted write never leaves a file that looks finished.
import Foundation
import SwiftletCore

/// The GGUF header encoding (magic, version, metadata, tensor infos), shared by the file writer
/// and the tests that build malformed files.
public enum GGUFEncoding {
    public struct TensorEntry: Sendable {
        public var name: String
        /// ggml order: dims[0] is the row length.
        public var dims: [Int]
        public var type: GGMLType
        public var offset: Int
        public init(name: String, dims: [Int], type: GGMLType, offset: Int) {
            self.name = name; self.dims = dims; self.type = type; self.offset = offset
        }
    }

    public static func header(version: UInt32 = 3, metadata: [(String, GGUFValue)], tensors: [TensorEntry]) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
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
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (k, v) in metadata {
            str(k)
            u32(v.valueType.rawValue)
            value(v)
        }
        for t in tensors {
            str(t.name)
            u32(UInt32(t.dims.count))
            for d in t.dims { u64(UInt64(d)) }
            u32(t.type.rawValue)
            u64(UInt64(t.offset))
        }
        return out
    }
}

extension GGUFValue {
    /// The type id this value is stored under.
    public var valueType: GGUFValueType {
        switch self {
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
}

/// Streams a GGUF file to disk: declare every tensor up front, then write their bytes in order.
public final class GGUFFileWriter {
    public struct Tensor: Sendable {
        public var name: String
        public var dims: [Int]
        public var type: GGMLType
        public init(name: String, dims: [Int], type: GGMLType) { self.name = name; self.dims = dims; self.type = type }
        /// Bytes of data: rows (all dims but the first) times the bytes of one row.
        public var byteCount: Int? { type.byteCount(rows: dims.dropFirst().reduce(1, *), rowLength: dims.first ?? 0) }
    }

    public let path: String
    let alignment: Int
    let tensors: [Tensor]
    private let file: PartialFile
    private var next = 0

    /// Creates `path.partial` and writes the header; `metadata` keys must be unique.
    /// - checksum: keep the XXH64 of every byte written (header, data, padding), for `xxh64`.
    public init(path: String, metadata: [(String, GGUFValue)], tensors: [Tensor], alignment: Int = 32,
                checksum: Bool = false) throws {
        self.path = path
        self.alignment = alignment
        self.tensors = tensors
        let (header, _) = try Self.header(path: path, metadata: metadata, tensors: tensors, alignment: alignment)
        file = try PartialFile(path: path, header: header, checksum: checksum) { GGUFError(path, $0) }
    }

    /// The padded header, and the bytes of padded tensor data that follow it.
    static func header(path: String, metadata: [(String, GGUFValue)], tensors: [Tensor],
                       alignment: Int) throws -> (header: [UInt8], dataBytes: Int) {
        var seen = Set<String>()
        for (k, _) in metadata where !seen.insert(k).inserted { throw GGUFError(path, "duplicate metadata key \(k)") }
        var entries: [GGUFEncoding.TensorEntry] = []
        var offset = 0
        for t in tensors {
            guard let bytes = t.byteCount else { throw GGUFError(path, "tensor \(t.name): \(t.dims) is not a whole number of \(t.type) rows") }
            entries.append(.init(name: t.name, dims: t.dims, type: t.type, offset: offset))
            offset += Self.padded(bytes, alignment)
        }
        var meta = metadata.filter { $0.0 != "general.alignment" }
        if alignment != 32 { meta.append(("general.alignment", .uint32(UInt32(alignment)))) }
        var header = GGUFEncoding.header(metadata: meta, tensors: entries)
        header += [UInt8](repeating: 0, count: Self.padded(header.count, alignment) - header.count)
        return (header, offset)
    }

    /// The size of the file a writer with these arguments makes.
    public static func fileSize(metadata: [(String, GGUFValue)], tensors: [Tensor], alignment: Int = 32) throws -> Int {
        let (header, data) = try header(path: "", metadata: metadata, tensors: tensors, alignment: alignment)
        return header.count + data
    }

    /// XXH64 of the file's bytes so far (the whole file after `finish`); nil unless made with `checksum`.
    public var xxh64: UInt64? { file.digest }

    /// Appends the next tensor's bytes (exactly its declared size).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard next < tensors.count else { throw GGUFError(path, "more tensors written than declared") }
        let t = tensors[next]
        guard bytes.count == t.byteCount else {
            throw GGUFError(path, "tensor \(t.name): \(bytes.count) bytes written, \(t.byteCount ?? -1) declared")
        }
        try file.write(bytes)
        try file.pad(Self.padded(bytes.count, alignment) - bytes.count)
        next += 1
    }

    /// Checks every tensor was written, syncs, and renames the file into place.
    public func finish() throws {
        guard next == tensors.count else { throw GGUFError(path, "\(tensors.count - next) tensors were never written") }
        try file.commit()
    }

    /// Removes the partial file (after a failure).
    public func abandon() { file.abandon() }

    static func padded(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }
}
