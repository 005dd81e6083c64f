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

    static func statusMB(_ key: String) -> Double { (procField("/proc/self/status", key) ?? 0) / 1024 }

    /// The number after `key` on its line of a /proc file ("VmHWM:    1234 kB", "read_bytes: 5").
    static func procField(_ file: String, _ key: String) -> Double? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            return line.split(separator: " ").compactMap { Double($0) }.first
        }
        return nil
    }
}
