// The table of weight-format kernels, keyed by GGML type; a tensor picks its kernels once, at load time.
import Foundation
import SwiftletCore

public enum KernelTable {
    /// Weight formats with kernels, in ggml id order, then Swiftlet's own.
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K,
                                               .swI8Row, .swA4G32, .swA4G64, .swA4G128, .swA8G32, .swA8G64, .swA8G128]

    /// The fastest kernels compiled in: AVX2 when SWIFTLET_AVX2 is defined, else the portable (reference) ones.
    public static func kernels(for type: GGMLType) throws -> WeightKernels {
        guard supported.contains(type) else { throw UnsupportedWeightFormat(type: type) }
        #if SWIFTLET_AVX2
        if !forceReference, let k = AVX2Kernels.kernels(for: type) { return k }
        #endif
        return try reference(for: type)
    }

    /// SWIFTLET_KERNELS=reference in the environment runs every model on the scalar reference
    /// kernels (slow; for checking a result against the plainest code).
    static let forceReference = ProcessInfo.processInfo.environment["SWIFTLET_KERNELS"] == "reference"

    /// Scalar reference kernels (plain loops, no SIMD) for the same type: the test oracle.
    public static func reference(for type: GGMLType) throws -> WeightKernels {
        guard supported.contains(type), let k = ReferenceKernels.kernels(for: type) else {
            throw UnsupportedWeightFormat(type: type)
        }
        return k
    }
}
