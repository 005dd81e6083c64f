// AVX2 building blocks shared by the format kernels: loads, int8 dot products, horizontal sums, f16 scalars.
#if SWIFTLET_AVX2
import _Builtin_intrinsics.intel
import SwiftletCore

@inline(__always) func ld256(_ p: UnsafeRawPointer) -> __m256i {
    _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
}
@inline(__always) func ld128(_ p: UnsafeRawPointer) -> __m128i {
    _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
}
@inline(__always) func ldf(_ p: UnsafePointer<Float>) -> __m256 { _mm256_loadu_ps(p) }

/// f16 scalar at byte offset `o` (one vcvtph2ps).
@inline(__always) func h2f(_ p: UnsafeRawPointer, _ o: Int = 0) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
}

@inline(__always) func hsum(_ v: __m256) -> Float {
    let s4 = v.lowHalf + v.highHalf
    let s2 = s4.lowHalf + s4.highHalf
    return s2[0] + s2[1]
}

@inline(__always) func hsumI32(_ v: __m256i) -> Int32 {
    let lanes = unsafeBitCast(v, to: SIMD8<Int32>.self)
    return lanes.wrappedSum()
}

/// Pairwise sums of unsigned(a) * signed(b) bytes, widened to 8 x int32: sum over 32 bytes in 8 lanes.
@inline(__always) func dotU8I8(_ a: __m256i, _ b: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
}

/// The same for signed(a) * signed(b): |a| * (b with a's sign), valid for a in -128...127 (|-128| reads as 128).
@inline(__always) func dotI8I8(_ a: __m256i, _ b: __m256i) -> __m256i {
    dotU8I8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a))
}

/// 32 nibbles of 16 bytes in element order: low nibbles are elements 0..<16, high nibbles 16..<32.
@inline(__always) func nibbles32(_ p: UnsafeRawPointer) -> __m256i {
    // The 16 bytes in both halves, the upper half shifted right by 4 (per 32-bit lane; the mask drops spill-over).
    let t = _mm256_broadcastsi128_si256(ld128(p))
    return _mm256_and_si256(_mm256_srlv_epi32(t, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F))
}

/// Bit j of the 32-bit word at `p` -> byte j is 0xFF (set) or 0x00.
@inline(__always) func bitsToBytes32(_ p: UnsafeRawPointer) -> __m256i {
    let w = _mm256_set1_epi32(Int32(bitPattern: p.loadUnaligned(as: UInt32.self)))
    // Byte j takes byte j/8 of the word (shuffles act within each 128-bit half).
    let pick = _mm256_shuffle_epi8(w, _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202,
                                                          0x0101_0101_0101_0101, 0x0000_0000_0000_0000))
    let mask = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
    return _mm256_cmpeq_epi8(_mm256_and_si256(pick, mask), mask)
}

/// Round-to-nearest-even int8 quantization of 32 floats with multiplier `id`; returns the bytes and their sum.
@inline(__always) func quantize32(_ x: UnsafePointer<Float>, _ id: Float, _ out: UnsafeMutableRawPointer) -> Int32 {
    let m = _mm256_set1_ps(id)
    let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(x), m))
    let i1 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(x + 8), m))
    let i2 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(x + 16), m))
    let i3 = _mm256_cvtps_epi32(_mm256_mul_ps(ldf(x + 24), m))
    let sum = hsumI32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)))
    // packs work per 128-bit half: undo the interleave with a cross-lane permute.
    let p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3))
    let q = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    _mm256_storeu_si256(out.assumingMemoryBound(to: __m256i.self), q)
    return sum
}

@inline(__always) func absMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = _mm256_setzero_ps()
    let signMask = _mm256_set1_ps(-0.0)
    var i = 0
    while i < n { m = _mm256_max_ps(m, _mm256_andnot_ps(signMask, ldf(x + i))); i += 8 }
    return m.max()
}

/// Compile-time sizes of register tiles: activation rows handled together (matmul) or weight rows (matvec).
protocol TileSize { static var n: Int { get } }
enum Tile1: TileSize { static var n: Int { 1 } }
enum Tile4: TileSize { static var n: Int { 4 } }
enum Tile8: TileSize { static var n: Int { 8 } }

/// Rows handled per pass of a matmul: their weights stay in L1/L2 while every activation tile streams past.
let matmulRowChunk = 64
#endif
