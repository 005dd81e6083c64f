// The AVX2 entries of the kernel table. Dequantization stays on the scalar reference (bit-exact, off the hot
// path); activation quantization, matvec (decode) and matmul (prefill) are vectorized.
#if SWIFTLET_AVX2
import SwiftletCore

enum AVX2Kernels {
    static func kernels(for type: GGMLType) -> WeightKernels? {
        guard let ref = ReferenceKernels.kernels(for: type) else { return nil }
        func make(_ quantize: @escaping WeightKernels.Quantize, _ matvec: @escaping WeightKernels.MatVec,
                  _ matmul: @escaping WeightKernels.MatMul) -> WeightKernels {
            WeightKernels(type: type, activationType: ref.activationType, dequantizeRow: ref.dequantizeRow,
                          quantizeActivation: quantize, matvec: matvec, matmul: matmul)
        }
        let q80: WeightKernels.Quantize = { x, d, k in quantizeQ8AVX2(x, d, k, withSum: false) }
        let q81: WeightKernels.Quantize = { x, d, k in quantizeQ8AVX2(x, d, k, withSum: true) }
        let q8K: WeightKernels.Quantize = { x, d, k in quantizeQ8KAVX2(x, d, k) }
        let copy: WeightKernels.Quantize = { x, d, k in d.copyMemory(from: x, byteCount: 4 * k) }
        switch type {
        case .f32: return make(copy, FloatKernels<FF32>.matvec, FloatKernels<FF32>.matmul)
        case .f16: return make(copy, FloatKernels<FF16>.matvec, FloatKernels<FF16>.matmul)
        case .bf16: return make(copy, FloatKernels<FBF16>.matvec, FloatKernels<FBF16>.matmul)
        case .q4_0: return make(q80, Q32Kernels<FQ4_0>.matvec, Q32Kernels<FQ4_0>.matmul)
        case .q4_1: return make(q81, Q32Kernels<FQ4_1>.matvec, Q32Kernels<FQ4_1>.matmul)
        case .q5_0: return make(q80, Q32Kernels<FQ5_0>.matvec, Q32Kernels<FQ5_0>.matmul)
        case .q5_1: return make(q81, Q32Kernels<FQ5_1>.matvec, Q32Kernels<FQ5_1>.matmul)
        case .q8_0: return make(q80, Q32Kernels<FQ8_0>.matvec, Q32Kernels<FQ8_0>.matmul)
        case .q4_K: return make(q8K, KKernels<FQ4K>.matvec, KKernels<FQ4K>.matmul)
        case .q5_K: return make(q8K, KKernels<FQ5K>.matvec, KKernels<FQ5K>.matmul)
        case .q6_K: return make(q8K, KKernels<FQ6K>.matvec, KKernels<FQ6K>.matmul)
        case .swI8Row: return make(quantizeQ16AVX2, I8RowKernels.matvec, I8RowKernels.matmul)
        case .swA4G32: return make(q81, SWKernels<FA4<G32>>.matvec, SWKernels<FA4<G32>>.matmul)
        case .swA4G64: return make(q81, SWKernels<FA4<G64>>.matvec, SWKernels<FA4<G64>>.matmul)
        case .swA4G128: return make(q81, SWKernels<FA4<G128>>.matvec, SWKernels<FA4<G128>>.matmul)
        case .swA8G32: return make(q81, SWKernels<FA8<G32>>.matvec, SWKernels<FA8<G32>>.matmul)
        case .swA8G64: return make(q81, SWKernels<FA8<G64>>.matvec, SWKernels<FA8<G64>>.matmul)
        case .swA8G128: return make(q81, SWKernels<FA8<G128>>.matvec, SWKernels<FA8<G128>>.matmul)
        default: return nil
        }
    }
}
#endif
