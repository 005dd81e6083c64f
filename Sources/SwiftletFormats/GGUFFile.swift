// GGUF (versions 2 and 3) reader: memory-mapped, every structure bounds-checked.
import SwiftletCore

/// What went wrong reading a GGUF file. Every case names the file and the offending item.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ path: String, _ message: String) { description = "\(path): \(message)" }
}

/// A tensor described by the GGUF header. `dims` are in ggml order: `dims[0]` is the length of a row.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    public let dims: [Int]
    public let type: GGMLType
    /// Offset from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Rows of `dims[0]` elements each.
    public var rows: Int { dims.dropFirst().reduce(1, *) }
    public var rowBytes: Int { byteCount / max(rows, 1) }
}

/// A GGUF model file, mapped in memory.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public let alignment: Int
    /// Metadata in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    public let tensors: [GGUFTensorInfo]
    public let tensorsByName: [String: GGUFTensorInfo]
    public let dataOffset: Int
    public let file: MappedFile

    /// Largest accepted dimension product, guarding against absurd headers (2^48 elements).
    static let maxElements = 1 << 48
    static let maxDims = 4
    static let maxNesting = 4

    public convenience init(path: String) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as MappedFileError { throw GGUFError(path, e.description) }
        try self.init(file: file)
    }

    public init(file: MappedFile) throws {
        self.file = file
        path = file.path
        var r = ByteReader(base: file.base, count: file.count, path: file.path)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            if magic == 0x4747_5546 { throw GGUFError(path, "big-endian GGUF files are not supported") }
            throw GGUFError(path, "not a GGUF file (bad magic)")
        }
        let v = try r.read(UInt32.self, "version")
        guard v == 2 || v == 3 else { throw GGUFError(path, "unsupported GGUF version \(v) (2 and 3 are supported)") }
        version = Int(v)
        let tensorCount = try r.readCount("tensor count", minBytesEach: 24)
        let kvCount = try r.readCount("metadata count", minBytesEach: 13)

        var keys: [String] = []
        var meta: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let key = try r.readString("metadata key #\(i)")
            let rawType = try r.read(UInt32.self, "type of \(key)")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(path, "metadata \(key): unknown value type \(rawType)")
            }
            let value = try r.readValue(type, key: key, depth: 0)
            if meta[key] != nil { throw GGUFError(path, "duplicate metadata key \(key)") }
            meta[key] = value
            keys.append(key)
        }
        metadataKeys = keys
        metadata = meta

        var align = 32
        if let a = meta["general.alignment"] {
            guard let n = a.int, n > 0, n & (n - 1) == 0, n <= 1 << 20 else {
                throw GGUFError(path, "general.alignment \(a.summary) is not a power of two")
            }
            align = n
        }
        alignment = align

        struct Raw { let name: String; let dims: [Int]; let type: GGMLType; let offset: Int }
        var raws: [Raw] = []
        raws.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try r.readString("tensor #\(i) name")
            let nDims = Int(try r.read(UInt32.self, "dimension count of \(name)"))
            guard (1...Self.maxDims).contains(nDims) else {
                throw GGUFError(path, "tensor \(name): \(nDims) dimensions (1...\(Self.maxDims) allowed)")
            }
            var dims: [Int] = []
            var product = 1
            for d in 0..<nDims {
                let n = try r.read(UInt64.self, "dimension \(d) of \(name)")
                guard n > 0, n <= UInt64(Self.maxElements) else {
                    throw GGUFError(path, "tensor \(name): dimension \(d) is \(n)")
                }
                let (p, o) = product.multipliedReportingOverflow(by: Int(n))
                guard !o, p <= Self.maxElements else {
                    throw GGUFError(path, "tensor \(name): absurd shape (more than 2^48 elements)")
                }
                product = p
                dims.append(Int(n))
            }
            let rawType = try r.read(UInt32.self, "type of \(name)")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError(path, "tensor \(name): unknown tensor type id \(rawType)")
            }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError(path, "tensor \(name): row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let off = try r.read(UInt64.self, "offset of \(name)")
            guard off <= UInt64(Int.max / 2) else { throw GGUFError(path, "tensor \(name): offset \(off) out of range") }
            raws.append(Raw(name: name, dims: dims, type: type, offset: Int(off)))
        }

        let dataStart = (r.offset + align - 1) / align * align
        dataOffset = dataStart
        var list: [GGUFTensorInfo] = []
        var byName: [String: GGUFTensorInfo] = [:]
        for t in raws {
            // dims[0] is the row length, the other dims count rows (SW_I8_ROW rows carry a scale: not k / 32 blocks).
            guard let bytes = t.type.byteCount(rows: t.dims.dropFirst().reduce(1, *), rowLength: t.dims[0]) else {
                throw GGUFError(path, "tensor \(t.name): size overflows")
            }
            guard t.offset % align == 0 else {
                throw GGUFError(path, "tensor \(t.name): offset \(t.offset) is not aligned to \(align)")
            }
            let start = dataStart + t.offset
            guard start <= file.count, bytes <= file.count - start else {
                throw GGUFError(path, "tensor \(t.name): data [\(start), \(start + bytes)) lies outside the file (\(file.count) bytes); the file may be truncated")
            }
            let info = GGUFTensorInfo(name: t.name, dims: t.dims, type: t.type, fileOffset: start, byteCount: bytes)
            guard byName[t.name] == nil else { throw GGUFError(path, "duplicate tensor name \(t.name)") }
            byName[t.name] = info
            list.append(info)
        }
        tensors = list
        tensorsByName = byName
    }

    /// Pointer to a tensor's data inside the mapping.
    public func data(_ t: GGUFTensorInfo) -> UnsafeRawPointer { file.base + t.fileOffset }

    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// The architecture name from `general.architecture`.
    public var architecture: String? { metadata["general.architecture"]?.string }
}
