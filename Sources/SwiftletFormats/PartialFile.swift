// A file written as `<path>.partial` and renamed to `path` only once complete, so an interrupted
// write never leaves a file that looks finished. The GGUF and safetensors writers stream through it.
import Foundation

final class PartialFile {
    let path: String
    let partial: String
    private let handle: FileHandle

    /// Creates `path.partial` holding `header`; `error` words a failure in the caller's format.
    init(path: String, header: [UInt8], error: (String) -> Error) throws {
        self.path = path
        partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: Data(header)),
              let h = FileHandle(forWritingAtPath: partial) else {
            throw error("cannot create \(partial)")
        }
        handle = h
        try handle.seekToEnd()
    }

    /// Appends `bytes` (not copied).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
    }

    /// Appends `count` zero bytes.
    func pad(_ count: Int) throws {
        if count > 0 { try handle.write(contentsOf: Data(count: count)) }
    }

    /// Syncs, closes and renames the file into place (replacing an older one).
    func commit() throws {
        try handle.synchronize()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    /// Closes and removes the partial file (after a failure).
    func abandon() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}
