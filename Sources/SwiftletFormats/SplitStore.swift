// Opens a split folder: the manifest read and checked, every part file checked against it (present,
// the recorded size, the recorded XXH64), then each part mapped as a GGUF file.
import Foundation
import SwiftletCore

/// A split folder opened for reading: its manifest and its part files, mapped.
public final class SplitStore: @unchecked Sendable {
    public let folder: String
    public let manifest: SplitManifest
    /// The part files in manifest order (embedding, layers, head).
    public let parts: [GGUFFile]

    /// Whether `path` is a split folder (holds a `split.json`).
    public static func isSplitFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: path + "/" + SplitManifest.fileName)
    }

    /// Reads `folder/split.json` and opens every part. Each part must exist with its recorded
    /// size; with `verify` its checksum is recomputed too (the file read once with pread and
    /// dropped from the page cache, so this does not leave the model resident). A part file must
    /// hold exactly the tensors the manifest lists for it.
    public init(folder: String, verify: Bool = true) throws {
        self.folder = folder
        let manifest = try SplitManifest.read(path: folder + "/" + SplitManifest.fileName)
        self.manifest = manifest
        var parts: [GGUFFile] = []
        for part in manifest.parts {
            try Self.check(part, in: folder, checksum: verify)
            let path = folder + "/" + part.file
            let file = try GGUFFile(path: path)
            let names = file.tensors.map(\.name)
            guard names == part.tensors else {
                let missing = part.tensors.first { file.tensorsByName[$0] == nil }
                let extra = names.first { !part.tensors.contains($0) }
                throw SplitError(path, "holds other tensors than split.json lists"
                    + (missing.map { " (no \($0))" } ?? extra.map { " (unlisted \($0))" } ?? " (a different order)"))
            }
            parts.append(file)
        }
        self.parts = parts
    }

    /// Checks a part file against its manifest entry: present, `part.bytes` long and, with
    /// `checksum`, of XXH64 `part.xxh64`. Errors name the file, and both sizes or checksums.
    public static func check(_ part: SplitManifest.Part, in folder: String, checksum: Bool) throws {
        let path = folder + "/" + part.file
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw SplitError(path, "missing: split.json lists this part; re-run `swiftlet split` to write it again")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        guard size == part.bytes else {
            throw SplitError(path, "\(size) bytes, split.json records \(part.bytes)"
                + (size < part.bytes ? " (truncated)" : "") + "; re-run `swiftlet split` to write it again")
        }
        guard checksum else { return }
        let (digest, read) = try XXH64.file(path)
        guard read == part.bytes, digest == part.xxh64 else {
            throw SplitError(path, "checksum \(XXH64.hex(digest)) differs from the \(XXH64.hex(part.xxh64)) split.json records: "
                + "the file changed or is corrupt since the split; re-run `swiftlet split`")
        }
    }
}
