// A file written as `<path>.partial` and renamed to `path` only once complete, so an interrupted
// write never leaves a file that looks finished. The GGUF and safetensors writers stream through it.
import Foundation
import SwiftletCore

final class PartialFile {
    let path: String
    let partial: String
    private let handle: FileHandle
    /// XXH64 of everything written, when asked for.
    private var hash: XXH64?

    /// Creates `path.partial` holding `header`; `error` words a failure in the caller's format.
    /// - checksum: keep the XXH64 of every byte written (`digest`).
    init(path: String, header: [UInt8], checksum: Bool = false, error: (String) -> Error) throws {
        self.path = path
        if checksum {
            hash = XXH64()
            hash!.update(header)
        }
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
        hash?.update(bytes)
        try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
    }

    /// Appends `count` zero bytes.
    func pad(_ count: Int) throws {
        guard count > 0 else { return }
        let zeros = Data(count: count)
        if hash != nil { zeros.withUnsafeBytes { hash!.update($0) } }
        try handle.write(contentsOf: zeros)
    }

    /// XXH64 of the bytes written so far; nil unless made with `checksum`.
    var digest: UInt64? { hash?.digest }

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
