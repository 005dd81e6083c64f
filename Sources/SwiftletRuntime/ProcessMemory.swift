// The process's own memory as Linux reports it: resident now, peak (and resetting it, to measure
// one phase), and handing freed heap pages back to the kernel.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ProcessMemory {
    /// Peak resident set size (VmHWM) in MiB, from /proc/self/status.
    public static func peakResidentMB() -> Double { statusMB("VmHWM:") }

    /// Current resident set size (VmRSS) in MiB.
    public static func residentMB() -> Double { statusMB("VmRSS:") }

    /// Resets the peak (VmHWM) to the current resident size, so the next reading is one phase's peak.
    /// False where the kernel does not allow it.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        return (try? h.write(contentsOf: Data("5".utf8))) != nil
    }

    /// Returns free heap pages to the kernel (glibc keeps them in its arenas otherwise, so a server's
    /// resident memory would stay at its busiest level after the load is gone).
    public static func releaseFreeMemory() {
        if let trim = mallocTrim { _ = trim(0) }
    }

    /// glibc's malloc_trim (malloc.h is not in Swift's Glibc module), looked up once.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func statusMB(_ key: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(key) {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
