// A read-only memory-mapped file: weights are read in place, never copied to the heap.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct MappedFileError: Error, CustomStringConvertible {
    public let description: String
}

/// A whole file mapped read-only. The mapping lives as long as this object.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let count: Int
    /// Kept open to tell the kernel about the file's page cache (`release`).
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw MappedFileError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw MappedFileError(description: "cannot stat \(path): \(message)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw MappedFileError(description: "\(path) is not a regular file")
        }
        count = Int(st.st_size)
        if count == 0 {
            // mmap of length 0 fails; an empty file maps to a valid, empty region.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            self.fd = fd
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw MappedFileError(description: "cannot map \(path): \(message)")
        }
        base = UnsafeRawPointer(p)
        self.fd = fd
    }

    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether `pointer` lies inside the mapping.
    public func contains(_ pointer: UnsafeRawPointer) -> Bool { pointer >= base && pointer < base + count }

    /// Tells the kernel a byte range will be needed soon (read-ahead).
    public func willNeed(offset: Int, count n: Int) {
        guard let r = pages(offset, n, outward: true) else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + r.lowerBound, r.count, MADV_WILLNEED)
    }

    /// Reads a byte range into memory now and maps it (the pages it spans), so later reads do not
    /// wait for the disk. Runs on the calling thread; returns false if `shouldStop` asked to stop
    /// between steps of `step` bytes. A read error (the file shrank, the disk failed) is thrown.
    @discardableResult
    public func populate(offset: Int, count n: Int, step: Int = 1 << 20, shouldStop: () -> Bool = { false }) throws -> Bool {
        guard let r = pages(offset, n, outward: true) else { return true }
        let start = UnsafeMutableRawPointer(mutating: base) + r.lowerBound
        willNeed(offset: offset, count: n)
        var done = 0
        while done < r.count {
            if shouldStop() { return false }
            let len = min(step, r.count - done)
            // MADV_POPULATE_READ (Linux 5.14) reports a failed read as an error instead of a signal;
            // older kernels (EINVAL) fault the pages in by reading them.
            if madvise(start + done, len, Self.populateRead) != 0 {
                let e = errno
                guard e == EINVAL else {
                    throw MappedFileError(description: "cannot read \(path) bytes \(r.lowerBound + done)..<\(r.lowerBound + done + len): \(String(cString: strerror(e)))")
                }
                var sum: UInt8 = 0
                var p = 0
                while p < len { sum &+= UnsafeRawPointer(start + done + p).load(as: UInt8.self); p += Self.pageSize }
                withExtendedLifetime(sum) {}
            }
            done += len
        }
        return true
    }

    /// Drops the pages wholly inside a byte range from this process and from the page cache (the
    /// next read comes from the disk). With `outward`, the pages the range touches at its ends go too.
    public func release(offset: Int, count n: Int, outward: Bool = false) {
        guard let r = pages(offset, n, outward: outward) else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + r.lowerBound, r.count, MADV_DONTNEED)
        _ = posix_fadvise(fd, off_t(r.lowerBound), off_t(r.count), POSIX_FADV_DONTNEED)
    }

    /// Page-aligned byte range for [offset, offset + n) clipped to the file, or nil when empty.
    private func pages(_ offset: Int, _ n: Int, outward: Bool) -> Range<Int>? {
        guard count > 0, n > 0 else { return nil }
        let page = Self.pageSize
        let lo = outward ? offset / page * page : (offset + page - 1) / page * page
        let end = min(count, offset + n)
        var hi = outward ? (end + page - 1) / page * page : end / page * page
        if end == count { hi = (count + page - 1) / page * page }   // the last partial page belongs to this range only
        return lo < hi ? lo..<hi : nil
    }

    private static let populateRead: Int32 = 22

    deinit {
        if count == 0 {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        }
        close(fd)
    }
}
