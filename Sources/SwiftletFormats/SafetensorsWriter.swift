// Writes a safetensors file: the JSON header (dtype, shape, offsets per tensor, plus free-form
// metadata) first, then each tensor's bytes in order, into `<path>.partial`, renamed when complete.
import Foundation
import SwiftletCore

public final class SafetensorsFileWriter {
    public struct Tensor: Sendable {
        public var name: String
        /// A safetensors dtype name ("F32", "F16", "U8", ...).
        public var dtype: String
        /// PyTorch order (the last dimension is contiguous).
        public var shape: [Int]
        public var byteCount: Int
        public init(name: String, dtype: String, shape: [Int], byteCount: Int) {
            self.name = name; self.dtype = dtype; self.shape = shape; self.byteCount = byteCount
        }
    }

    public let path: String
    let tensors: [Tensor]
    private let file: PartialFile
    private var next = 0

    public init(path: String, tensors: [Tensor], metadata: [(String, String)] = []) throws {
        self.path = path
        self.tensors = tensors
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty { members.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) }))) }
        var offset = 0
        for t in tensors {
            members.append((t.name, ["dtype": .string(t.dtype), "shape": .array(t.shape.map { .int($0) }),
                                     "data_offsets": [.int(offset), .int(offset + t.byteCount)]]))
            offset += t.byteCount
        }
        var header = Array(JSONValue.object(members).encoded.utf8)
        while header.count % 8 != 0 { header.append(0x20) }   // data starts 8-byte aligned
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        file = try PartialFile(path: path, header: bytes) { SafetensorsError(path, $0) }
    }

    /// Appends the next tensor's bytes (exactly its declared size).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard next < tensors.count, bytes.count == tensors[next].byteCount else {
            throw SafetensorsError(path, "tensor bytes do not match the declared tensors")
        }
        try file.write(bytes)
        next += 1
    }

    public func finish() throws {
        guard next == tensors.count else { throw SafetensorsError(path, "\(tensors.count - next) tensors were never written") }
        try file.commit()
    }

    public func abandon() { file.abandon() }
}
