// Free space on the filesystem a path lives on, checked before a long write starts.
import Foundation

/// Free space checks before writing large outputs.
enum DiskSpace {
    /// Bytes an unprivileged process may still write on the filesystem holding `path` (statvfs).
    static func available(at path: String) throws -> Int {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else {
            throw RuntimeError("\(path): cannot tell the free disk space: \(String(cString: strerror(errno)))")
        }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// Throws a clear error when `needed` bytes do not fit in `available`.
    static func check(needed: Int, available: Int, at path: String) throws {
        guard needed > available else { return }
        throw RuntimeError("\(path): the split needs \(ByteSize.format(needed)), \(ByteSize.format(available)) free on that disk")
    }
}
