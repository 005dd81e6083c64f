// Block geometry of the GGUF tensor types.
import Testing
import SwiftletCore

@Test func blockGeometry() {
    #expect(GGMLType.q4_0.blockSize == 32 && GGMLType.q4_0.blockBytes == 18)
    #expect(GGMLType.q4_K.blockSize == 256 && GGMLType.q4_K.blockBytes == 144)
    #expect(GGMLType.q6_K.byteCount(elements: 512) == 420)
    #expect(GGMLType.q8_0.byteCount(elements: 33) == nil)
    #expect(GGMLType.f32.byteCount(elements: Int.max) == nil)
    #expect(GGMLType.q5_K.description == "Q5_K" && GGMLType.bf16.description == "BF16")
}

@Test func rowGeometry() {
    #expect(GGMLType.q4_1.rowBytes(576) == 360 && GGMLType.q4_1.byteCount(rows: 3, rowLength: 576) == 1080)
    #expect(GGMLType.q4_1.rowBytes(48) == nil && GGMLType.f32.byteCount(rows: 2, rowLength: Int.max / 4) == nil)
    // SW_I8_ROW: a 4-byte f32 scale and k codes per row; not a block format.
    #expect(GGMLType.swI8Row.rowBytes(64) == 68 && GGMLType.swI8Row.byteCount(rows: 3, rowLength: 64) == 204)
    #expect(GGMLType.swI8Row.byteCount(elements: 64) == nil && GGMLType.swI8Row.rowBytes(48) == nil)
    #expect(GGMLType.swI8Row.byteCount(rows: Int.max / 8, rowLength: 64) == nil)
    #expect(GGMLType.swA4G64.rowBytes(128) == 72 && GGMLType.swA8G128.rowBytes(256) == 264)
    #expect(GGMLType.swA4G64.description == "SW_A4_G64" && GGMLType.swI8Row.description == "SW_I8_ROW")
    #expect(GGMLType.swA8G32.isSwiftletFormat && !GGMLType.q8_0.isSwiftletFormat && GGMLType(rawValue: 0x5357_0001) == .swI8Row)
    #expect(GGMLType.swiftletGroup(bits: 4, group: 64) == .swA4G64 && GGMLType.swA8G32.swiftletGroup?.bits == 8)
}

@Test func halfConversions() {
    #expect(halfToFloat(floatToHalf(1.5)) == 1.5)
    #expect(bf16ToFloat(floatToBF16(-2.0)) == -2.0)
    #expect(bf16ToFloat(floatToBF16(1.00390625)) == 1.0)  // ties to even
    #expect(bf16ToFloat(floatToBF16(.nan)).isNaN)
}
