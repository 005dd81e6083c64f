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

@Test func halfConversions() {
    #expect(halfToFloat(floatToHalf(1.5)) == 1.5)
    #expect(bf16ToFloat(floatToBF16(-2.0)) == -2.0)
    #expect(bf16ToFloat(floatToBF16(1.00390625)) == 1.0)  // ties to even
    #expect(bf16ToFloat(floatToBF16(.nan)).isNaN)
}
