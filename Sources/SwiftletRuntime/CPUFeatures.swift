// Refuses to run an AVX2 build on a CPU without AVX2/FMA/F16C, with a message instead of SIGILL.
import Foundation

public enum CPUFeatures {
    public static func check() throws {
        #if SWIFTLET_AVX2
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        guard let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let missing = ["avx2", "fma", "f16c"].filter { !flags.contains($0) }
        if !missing.isEmpty {
            throw RuntimeError("this build uses AVX2/FMA/F16C but the CPU lacks \(missing.joined(separator: ", ")): rebuild with SWIFTLET_PORTABLE=1")
        }
        #endif
    }
}
