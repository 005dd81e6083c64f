#if SWIFTLET_AVX2
import SwiftletCore
enum AVX2Kernels {
    static func kernels(for type: GGMLType) -> WeightKernels? { nil }
}
#endif
