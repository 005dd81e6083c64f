// safetensors reader: single and sharded files read back; malformed headers fail naming the tensor.
import Foundation
import Testing
import SwiftletFormats
import SwiftletTestSupport

/// Builds a safetensors file: header JSON (given as text, so tests can corrupt it) plus data bytes.
private func file(header: String, data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    let h = Array(header.utf8)
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
    return out + h + data
}

private func floats(_ xs: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    for x in xs { withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 } }
    return out
}

private let goodHeader = """
{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]}}
"""
private let goodData = floats([1, 2, 3, 4, 5, 6]) + [0x80, 0x3F, 0x00, 0x40]  // bf16 1.0, 2.0

private func expectError(_ header: String, _ data: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = try GGUFWriter.temporaryFile(file(header: header, data: data), name: "t.safetensors")
    #expect(sourceLocation: sourceLocation) { _ = try SafetensorsFile(path: path) } throws: { e in
        let ok = "\(e)".contains(fragment)
        if !ok { Issue.record("\(e) does not contain \(fragment)", sourceLocation: sourceLocation) }
        return ok
    }
}

@Test func readsTensorsAndMetadata() throws {
    let path = try GGUFWriter.temporaryFile(file(header: goodHeader, data: goodData), name: "m.safetensors")
    let f = try SafetensorsFile(path: path)
    #expect(f.metadata["format"] == "pt")
    #expect(f.tensors.map(\.name) == ["w", "b"])
    let w = try #require(f.tensorsByName["w"])
    #expect(w.shape == [2, 3] && w.dtype == .F32 && w.byteCount == 24)
    #expect(f.data(w).loadUnaligned(fromByteOffset: 20, as: Float.self) == 6)
    let b = try #require(f.tensorsByName["b"])
    #expect(f.data(b).loadUnaligned(fromByteOffset: 2, as: UInt16.self) == 0x4000)
    let c = try SafetensorsCheckpoint(path: path)
    #expect(c.tensorNames == ["b", "w"] && c.info("w")?.dtype.ggmlType == .f32)
}

@Test func readsShardedCheckpoints() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: floats([1, 2])))
        .write(to: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
    try Data(file(header: #"{"c":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, data: [0x00, 0x3C]))
        .write(to: dir.appendingPathComponent("model-00002-of-00002.safetensors"))
    let index = #"{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}"#
    try Data(index.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
    let c = try SafetensorsCheckpoint(path: dir.path)
    #expect(c.files.count == 2 && c.tensorNames == ["a", "c"])
    #expect(c.data("a")!.loadUnaligned(fromByteOffset: 4, as: Float.self) == 2)
    #expect(c.data("c")!.loadUnaligned(as: UInt16.self) == 0x3C00)

    let bad = #"{"weight_map":{"zzz":"model-00001-of-00002.safetensors"}}"#
    try Data(bad.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
    #expect { _ = try SafetensorsCheckpoint(path: dir.path) } throws: { "\($0)".contains("tensor zzz is listed in model-00001-of-00002.safetensors") }
}

@Test func rejectsMalformedFiles() throws {
    try expectError(goodHeader, Array(goodData.prefix(20)), "lies outside the 20 data bytes")
    try expectError(#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, floats([1]), "tensor w: unknown dtype F33")
    try expectError(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}"#, floats([1, 2, 3]), "tensor w: 4 bytes do not hold shape [3]")
    try expectError(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, floats([1, 2, 3]), "tensor w: bad data_offsets")
    try expectError(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, floats([1]), "tensor w: bad dimension")
    try expectError(#"{"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}"#, floats([1]), "absurd shape")
    try expectError(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    floats([1, 2, 3]), "overlap")
    try expectError("{not json", [], "not a JSON object")
    try expectError(#"{"w":[1,2]}"#, [], "tensor w: entry is not an object")
    // Header length beyond the file, and files too short to hold one.
    var bytes = file(header: goodHeader, data: goodData)
    bytes[0] = 0xFF; bytes[1] = 0xFF; bytes[2] = 0xFF
    let path = try GGUFWriter.temporaryFile(bytes, name: "long.safetensors")
    #expect { _ = try SafetensorsFile(path: path) } throws: { "\($0)".contains("runs past the end") }
    let tiny = try GGUFWriter.temporaryFile([1, 2, 3], name: "tiny.safetensors")
    #expect { _ = try SafetensorsFile(path: tiny) } throws: { "\($0)".contains("truncated") }
    #expect { _ = try SafetensorsCheckpoint(path: "/nonexistent/model") } throws: { "\($0)".contains("no such file") }
}
