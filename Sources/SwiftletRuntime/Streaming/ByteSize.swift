// Byte counts as people write them on a command line: 67108864, 64M, 1.5G.
import Foundation

public enum ByteSize {
    /// Bytes for a count with an optional K/M/G/T suffix (powers of 1024; a trailing B or iB is
    /// allowed: 64M, 64MB, 64MiB).
    public static func parse(_ text: String) throws -> Int {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for unit in ["IB", "B"] where s.hasSuffix(unit) && s.count > unit.count {
            s.removeLast(unit.count)
            break
        }
        let scales: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var scale = 1.0
        if let last = s.last, let sc = scales[last] {
            scale = sc
            s.removeLast()
        }
        guard let value = Double(s), value.isFinite, value > 0, value * scale < 9e18 else {
            throw RuntimeError("'\(text)' is not a byte count (a positive number with an optional K, M, G or T suffix, e.g. 64M)")
        }
        return Int((value * scale).rounded(.up))
    }

    /// A byte count for people: "63.9 MB" (MiB, 1 decimal).
    public static func format(_ bytes: Int) -> String {
        let mb = Double(bytes) / 1_048_576
        return mb >= 1024 ? "\((mb / 1024 * 100).rounded() / 100) GB" : "\((mb * 10).rounded() / 10) MB"
    }
}
