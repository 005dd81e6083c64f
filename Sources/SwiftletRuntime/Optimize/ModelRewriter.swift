// Reads a model for rewriting (a GGUF file or a Hugging Face checkpoint folder) and writes the
// rewritten one in the same container: GGUF with the metadata carried over (plus what changed),
// or a folder with config.json and tokenizer files copied and the weights in model.safetensors.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletModels

/// A model opened for rewriting: its tensors in file order and where they came from.
public final class RewriteSource {
    public let path: String
    public let gguf: GGUFFile?
    public let checkpoint: SafetensorsCheckpoint?
    public let tensors: TensorSource
    /// Tensor names in file order (GGUF) or sorted (safetensors).
    public let names: [String]

    public init(path: String) throws {
        self.path = path
        if try ModelPath.isFolder(path) {
            if SplitStore.isSplitFolder(path) {
                let origin = (try? SplitManifest.read(path: path + "/" + SplitManifest.fileName)).map { " (\($0.source.path))" } ?? ""
                throw RuntimeError("\(path) is a split folder (swiftlet split): use the model it was split from\(origin) instead")
            }
            guard FileManager.default.fileExists(atPath: path + "/config.json") else {
                throw RuntimeError("\(path): a checkpoint folder needs a config.json")
            }
            let c = try SafetensorsCheckpoint(path: path)
            checkpoint = c
            gguf = nil
            tensors = c
            names = c.tensorNames
        } else {
            let g = try GGUFFile(path: path)
            gguf = g
            checkpoint = nil
            tensors = g
            names = g.tensors.map(\.name)
        }
    }

    public var isFolder: Bool { checkpoint != nil }

    public func tensor(_ name: String) throws -> SourceTensor {
        guard let t = tensors.tensor(name) else { throw RuntimeError("\(path): tensor \(name) has a type Swiftlet cannot read") }
        return t
    }

    /// Bytes of all weights on disk.
    public func weightBytes() throws -> Int { try ModelSize.bytes(path) }
}

/// Model size on disk: a file's size, or the weight files (*.safetensors, *.gguf) of a folder (a
/// checkpoint folder, or a split folder: its parts and model.gguf).
public enum ModelSize {
    public static func bytes(_ path: String) throws -> Int {
        let fm = FileManager.default
        func size(_ p: String) throws -> Int { (try fm.attributesOfItem(atPath: p)[.size] as? NSNumber)?.intValue ?? 0 }
        guard try ModelPath.isFolder(path) else { return try size(path) }
        return try fm.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".gguf") }
            .reduce(0) { try $0 + size(path + "/" + $1) }
    }
}

/// Writes planned tensors in the source's container.
public enum RewriteWriter {
    /// GGUF: `metadata` (the source's, updated by the caller) and the planned tensors.
    /// Folder: the source's non-weight files copied, config.json replaced by `config` when given,
    /// and model.safetensors with the planned tensors (Swiftlet's own formats as U8 rows, their
    /// type and shape in the header metadata, see docs/quantization.md).
    public static func write(_ plan: [PlannedTensor], source: RewriteSource, to output: String,
                             metadata: [(String, GGUFValue)], config: JSONValue?, notes: [(String, String)],
                             progress: RewriteProgress) throws {
        if source.isFolder {
            try writeFolder(plan, source: source, to: output, config: config, notes: notes, progress: progress)
        } else {
            try writeGGUF(plan, to: output, metadata: metadata + notes.map { ($0.0, .string($0.1)) }, progress: progress)
        }
    }

    static func writeGGUF(_ plan: [PlannedTensor], to output: String, metadata: [(String, GGUFValue)],
                          progress: RewriteProgress) throws {
        let writer = try GGUFFileWriter(path: output, metadata: metadata,
                                        tensors: plan.map { .init(name: $0.name, dims: $0.dims, type: $0.type) })
        try stream(plan, progress: progress, write: writer.write, finish: writer.finish, abandon: writer.abandon)
    }

    /// Produces each planned tensor in order and hands its bytes to the writer; on any failure the
    /// partial file is removed.
    static func stream(_ plan: [PlannedTensor], progress: RewriteProgress, write: (UnsafeRawBufferPointer) throws -> Void,
                       finish: () throws -> Void, abandon: () -> Void) throws {
        do {
            for (i, t) in plan.enumerated() {
                progress.report(i, plan.count, t.name, t.action)
                try t.emit(write)
            }
            try finish()
            progress.report(plan.count, plan.count, "", "")
        } catch {
            abandon()
            throw error
        }
    }

    /// The entries of a checkpoint folder that are not weights (config.json, tokenizer files, chat
    /// template, ...): what a rewritten or split folder copies.
    static func nonWeightFiles(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { name in
            !(name.hasSuffix(".safetensors") || name == "model.safetensors.index.json" || name.hasSuffix(".bin") || name.hasSuffix(".partial"))
        }.sorted()
    }

    static func writeFolder(_ plan: [PlannedTensor], source: RewriteSource, to output: String, config: JSONValue?,
                            notes: [(String, String)], progress: RewriteProgress) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: output) {
            guard (try? fm.contentsOfDirectory(atPath: output))?.isEmpty ?? false else {
                throw RuntimeError("\(output) exists and is not an empty folder; choose a new output folder")
            }
        }
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        for name in try nonWeightFiles(in: source.path) {
            try fm.copyItem(atPath: source.path + "/" + name, toPath: output + "/" + name)
        }
        if let config { try Data((config.encoded + "\n").utf8).write(to: URL(fileURLWithPath: output + "/config.json")) }
        var entries: [SafetensorsFileWriter.Tensor] = []
        var meta = notes
        for t in plan {
            switch t.type {
            case .f32: entries.append(.init(name: t.name, dtype: "F32", shape: t.dims.reversed(), byteCount: t.byteCount))
            case .f16: entries.append(.init(name: t.name, dtype: "F16", shape: t.dims.reversed(), byteCount: t.byteCount))
            case .bf16: entries.append(.init(name: t.name, dtype: "BF16", shape: t.dims.reversed(), byteCount: t.byteCount))
            default:
                entries.append(.init(name: t.name, dtype: "U8", shape: [t.rows, t.byteCount / max(t.rows, 1)], byteCount: t.byteCount))
                meta.append((SwiftletTensorType.key(t.name), SwiftletTensorType.value(t.type, dims: t.dims)))
            }
        }
        let writer = try SafetensorsFileWriter(path: output + "/model.safetensors", tensors: entries, metadata: meta)
        try stream(plan, progress: progress, write: writer.write, finish: writer.finish, abandon: writer.abandon)
    }
}
