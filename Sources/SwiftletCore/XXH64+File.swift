// Checksumming a whole file without leaving it in memory: read in chunks with pread, then its
// pages dropped from the page cache, so verifying a model larger than RAM does not evict the rest.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read to the end; names the file and the reason.
public struct FileReadError: Error, CustomStringConvertible {
    public let description: String
}

extension XXH64 {
    /// The XXH64 (seed 0) of the file at `path` and its size, read `chunk` bytes at a time with
    /// pread. Afterwards the file's pages are dropped from the page cache (posix_fadvise
    /// DONTNEED, on Linux), so the check does not leave the file resident.
    public static func file(_ path: String, chunk: Int = 4 << 20) throws -> (digest: UInt64, bytes: Int) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileReadError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var h = XXH64()
        var offset = 0
        while true {
            let n = pread(fd, buffer, chunk, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileReadError(description: "cannot read \(path) at byte \(offset): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(start: buffer, count: n))
            offset += n
        }
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        #endif
        return (h.digest, offset)
    }
}
