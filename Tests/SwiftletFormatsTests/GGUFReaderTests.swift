// GGUF reader: valid files round-trip; every malformed case fails with a clear error, never a crash.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletTestSupport

private func sample() -> GGUFWriter {
    var w = GGUFWriter()
    w.metadata = [
        ("general.architecture", .string("llama")),
        ("u8", .uint8(7)), ("i8", .int8(-3)), ("u16", .uint16(65535)), ("i16", .int16(-300)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-5)), ("f32", .float32(1.5)), ("bool", .bool(true)),
        ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))), ("f64", .float64(2.25)),
        ("strings", .array(.string, [.string("a"), .string("héllo")])),
        ("nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [])])),
    ]
    w.tensors = [
        GGUFWriter.f32Tensor("a", dims: [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]),
        GGUFWriter.f32Tensor("b", dims: [3], [9, 10, 11]),
    ]
    return w
}

private func expectError(_ bytes: [UInt8], contains fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = try GGUFWriter.temporaryFile(bytes)
    do {
        _ = try GGUFFile(path: path)
        Issue.record("expected an error containing \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch let e as GGUFError {
        #expect(e.description.contains(fragment), "\(e.description)", sourceLocation: sourceLocation)
    }
}

@Test func readsEveryValueTypeAndTensors() throws {
    for version: UInt32 in [2, 3] {
        var w = sample()
        w.version = version
        let f = try GGUFFile(path: try GGUFWriter.temporaryFile(w.bytes()))
        #expect(f.version == Int(version))
        #expect(f["u8"] == .uint8(7))
        #expect(f["i8"]?.int == -3)
        #expect(f["u16"]?.int == 65535)
        #expect(f["i16"]?.int == -300)
        #expect(f["u32"]?.int == 4_000_000_000)
        #expect(f["f32"]?.double == 1.5)
        #expect(f["bool"]?.bool == true)
        #expect(f["u64"]?.int == 1 << 40)
        #expect(f["i64"]?.int == -(1 << 40))
        #expect(f["f64"]?.double == 2.25)
        #expect(f["strings"]?.strings == ["a", "héllo"])
        #expect(f["nested"]?.array?.first?.ints == [1, 2])
        #expect(f.metadataKeys.first == "general.architecture")
        let a = try #require(f.tensorsByName["a"])
        #expect(a.dims == [4, 2] && a.type == .f32 && a.byteCount == 32 && a.rows == 2)
        let floats = f.data(a).assumingMemoryBound(to: Float.self)
        #expect(floats[5] == 6)
        #expect(f.data(f.tensorsByName["b"]!).assumingMemoryBound(to: Float.self)[2] == 11)
        #expect(f.dataOffset % 32 == 0)
    }
}

@Test func honoursCustomAlignment() throws {
    var w = sample()
    w.alignment = 64
    let f = try GGUFFile(path: try GGUFWriter.temporaryFile(w.bytes()))
    #expect(f.alignment == 64 && f.dataOffset % 64 == 0)
    #expect(f.data(f.tensorsByName["b"]!).assumingMemoryBound(to: Float.self)[0] == 9)
}

@Test func rejectsBadMagicAndVersion() throws {
    var bytes = sample().bytes()
    bytes[0] = UInt8(ascii: "X")
    try expectError(bytes, contains: "bad magic")
    var w = sample()
    w.version = 1
    try expectError(w.bytes(), contains: "unsupported GGUF version 1")
    try expectError([], contains: "truncated")
}

@Test func rejectsTruncationAtEveryPoint() throws {
    let bytes = sample().bytes()
    let header = sample().header().count
    // Cutting anywhere inside the header or the tensor data is an error, never a crash.
    // (The last tensor's 12 bytes end 20 bytes before the file does: the rest is padding.)
    for cut in stride(from: 0, to: bytes.count - 20, by: 3) {
        let path = try GGUFWriter.temporaryFile(Array(bytes[0..<cut]))
        #expect(throws: GGUFError.self, "cut at \(cut) of \(bytes.count) (header \(header))") { _ = try GGUFFile(path: path) }
    }
}

@Test func rejectsTensorDataOutsideTheFile() throws {
    var w = sample()
    w.tensors[1].dims = [3000]  // claims 12000 bytes the file does not have
    w.tensors[1].data = Array(repeating: 0, count: 12)
    try expectError(w.bytes(), contains: "lies outside the file")
}

/// SW_I8_ROW (Swiftlet's own format) is sized per row, 4 + k bytes (an f32 scale and k int8 codes), not per
/// 32-element block: the reader takes dims[0] as the row length and the other dims as the row count.
@Test func sizesSwiftletRowFormatByRows() throws {
    func i8Rows(_ name: String, k: Int, rows: [Int], bytes: Int) -> GGUFWriter.Tensor {
        GGUFWriter.Tensor(name: name, dims: [k] + rows, type: .swI8Row, data: (0..<bytes).map { UInt8(truncatingIfNeeded: $0) })
    }
    var w = sample()
    w.tensors.insert(i8Rows("w8", k: 64, rows: [3], bytes: 3 * 68), at: 0)
    w.tensors.append(i8Rows("w8x2", k: 32, rows: [2, 5], bytes: 10 * 36))
    let f = try GGUFFile(path: try GGUFWriter.temporaryFile(w.bytes()))
    let t = try #require(f.tensorsByName["w8"])
    #expect(t.type == .swI8Row && t.byteCount == 204 && t.rows == 3 && t.rowBytes == 68)
    #expect(f.data(t).load(fromByteOffset: 68 + 4, as: UInt8.self) == 72)             // row 1's first code
    #expect(f.tensorsByName["w8x2"]?.byteCount == 360 && f.tensorsByName["w8x2"]?.rowBytes == 36)
    #expect(f.data(f.tensorsByName["a"]!).assumingMemoryBound(to: Float.self)[5] == 6)    // later offsets intact

    // Sized as k / 32 blocks of 32 bytes (192 bytes): the file ends before the last row's codes.
    var short = sample()
    short.tensors.append(i8Rows("w8", k: 64, rows: [3], bytes: 3 * 64))
    try expectError(short.bytes(), contains: "lies outside the file")
    // Row lengths are whole 32-element blocks (the Q8_0 activation blocks the codes are dotted against).
    var ragged = sample()
    ragged.tensors.append(i8Rows("w8", k: 40, rows: [2], bytes: 2 * 44))
    try expectError(ragged.bytes(), contains: "not a multiple of the SW_I8_ROW block size 32")
}

@Test func rejectsUnknownTypesAndAbsurdShapes() throws {
    var w = sample()
    w.tensors[0].type = .f32
    var bytes = w.bytes()
    // Patch the type id of tensor "a" (right after its dims) to an unknown value.
    let header = w.header()
    let needle: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "a")]  // name length 1, "a"
    let at = try #require(findSubarray(header, needle, last: true))
    let typeOffset = at + needle.count + 4 + 16
    bytes[typeOffset] = 99
    try expectError(bytes, contains: "unknown tensor type id 99")

    var huge = sample()
    huge.tensors[0].dims = [1 << 30, 1 << 30]
    try expectError(huge.bytes(), contains: "absurd shape")

    var zero = sample()
    zero.tensors[0].dims = [0, 2]
    try expectError(zero.bytes(), contains: "dimension 0 is 0")

    var many = sample()
    many.tensors[0].dims = [1, 1, 1, 1, 1]
    try expectError(many.bytes(), contains: "5 dimensions")

    var blocky = sample()
    blocky.tensors[0] = GGUFWriter.Tensor(name: "q", dims: [33], type: .q4_0, data: Array(repeating: 0, count: 40))
    try expectError(blocky.bytes(), contains: "not a multiple of the Q4_0 block size")
}

@Test func rejectsBadMetadata() throws {
    var w = sample()
    w.metadata.append(("general.alignment", .uint32(48)))
    try expectError(w.bytes(), contains: "general.alignment")

    var dup = sample()
    dup.metadata.append(("u8", .uint8(1)))
    try expectError(dup.bytes(), contains: "duplicate metadata key u8")

    var dupT = sample()
    dupT.tensors.append(GGUFWriter.f32Tensor("a", dims: [1], [0]))
    try expectError(dupT.bytes(), contains: "duplicate tensor name a")

    // A string whose length runs past the end of the file.
    var bytes = sample().header()
    let key = Array("general.architecture".utf8)
    let at = try #require(findSubarray(bytes, key))
    let lenOffset = at + key.count + 4
    for i in 0..<8 { bytes[lenOffset + i] = 0xFF }
    bytes[lenOffset + 7] = 0x0F
    try expectError(bytes, contains: "runs past the end")

    // A tensor count no file of this size could hold.
    var counts = sample().bytes()
    for i in 8..<16 { counts[i] = 0xFF }
    counts[15] = 0x00
    try expectError(counts, contains: "impossible")
}

@Test func rejectsMisalignedOffsets() throws {
    let w = sample()
    var bytes = w.bytes()
    let header = w.header()
    // Offset of tensor "b" is the last 8 bytes of the header.
    bytes[header.count - 8] = 4
    try expectError(bytes, contains: "not aligned")
}

@Test func rejectsDirectoriesAndMissingFiles() throws {
    #expect(throws: GGUFError.self) { _ = try GGUFFile(path: "/nonexistent/model.gguf") }
    #expect(throws: GGUFError.self) { _ = try GGUFFile(path: FileManager.default.temporaryDirectory.path) }
}

private func findSubarray(_ hay: [UInt8], _ needle: [UInt8], last: Bool = false) -> Int? {
    guard needle.count <= hay.count else { return nil }
    let starts = Array(0...(hay.count - needle.count))
    for i in (last ? starts.reversed() : starts) where Array(hay[i..<(i + needle.count)]) == needle { return i }
    return nil
}
