// `swiftlet split`: a model (GGUF file or checkpoint folder) written as a split folder, one GGUF
// file per part (token embedding, each transformer block, the head), the metadata beside them and
// split.json last, so a runtime can page the model in one layer at a time. An interrupted split
// resumes: finished parts are recorded in split.progress.json and kept when they still check out.
// The layout is documented in docs/layer-streaming.md ("Split folder layout").
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletOptimize

public enum ModelSplitter {
    /// The metadata key of every part file: its file name without `.gguf` (`layer-007`).
    public static let partKey = "swiftlet.split.part"

    /// One part file to write: where its tensors go and how each is produced.
    struct PlannedPart {
        var kind: SplitManifest.PartKind
        var layer: Int?
        var tensors: [PlannedTensor] = []

        var file: String { SplitManifest.partFile(kind, layer: layer) }
        var metadata: [(String, GGUFValue)] { [(ModelSplitter.partKey, .string(String(file.dropLast(".gguf".count))))] }
        var entries: [GGUFFileWriter.Tensor] { tensors.map { .init(name: $0.name, dims: $0.dims, type: $0.type) } }
    }

    /// What a split writes, planned from the source before anything is written.
    struct Plan {
        var architecture: String
        var layerCount: Int
        var container: SplitManifest.Container
        var parts: [PlannedPart]
    }

    /// Splits `input` (a GGUF file or a Hugging Face checkpoint folder of a decoder) into the split
    /// folder `output`. With `compression`, the projection matrices (filter map `projections`) are
    /// quantized with RTN in groups of 64; everything else is kept byte for byte.
    ///
    /// `output` must be new, empty, or a split folder of the same source and options: an
    /// interrupted split is resumed (finished parts kept when their size and checksum still match,
    /// leftover `.partial` files removed), a complete one is verified and left as it is. `restart`
    /// throws away a split folder made from another source or with other options, and starts over.
    @discardableResult
    public static func run(input: String, output: String, compression: SplitManifest.Compression = .none,
                           restart: Bool = false, threads: Int? = nil, progress: RewriteProgress = .silent) throws -> SplitSummary {
        try run(input: input, output: output, compression: compression, restart: restart, threads: threads,
                progress: progress, stopAfterParts: nil)
    }

    /// - stopAfterParts: for tests, stops with an error once this run has written that many parts,
    ///   leaving the folder as an interruption would.
    @discardableResult
    static func run(input: String, output: String, compression: SplitManifest.Compression, restart: Bool,
                    threads: Int?, progress: RewriteProgress, stopAfterParts: Int?) throws -> SplitSummary {
        let started = Date()
        if try ModelKind.of(input) == .embedding {
            throw RuntimeError("\(input) is an embedding model: swiftlet split splits text generators (decoder models) only")
        }
        let source = try RewriteSource(path: input)
        let identity = try sourceIdentity(input)
        if source.isFolder && existingAncestor(output).appending("/").hasPrefix(identity.path + "/") {
            throw RuntimeError("\(output) lies inside the checkpoint folder \(input); choose a folder outside it")
        }
        let pool = compression == .none ? nil : ThreadPool(threads: threads ?? ThreadPool.coreCount, spinIterations: 0)
        let plan = try makePlan(source, compression: compression, pool: pool)
        let metadataFiles = source.isFolder ? try RewriteWriter.nonWeightFiles(in: source.path) : [SplitManifest.metadataGGUF]
        func manifest(_ parts: [SplitManifest.Part]) -> SplitManifest {
            SplitManifest(source: identity, container: plan.container, architecture: plan.architecture, layerCount: plan.layerCount,
                          compression: compression, metadataFiles: metadataFiles, parts: parts)
        }
        func summary(written: Int, reused: Int, complete: Bool) throws -> SplitSummary {
            let tensors = plan.parts.flatMap(\.tensors)
            return SplitSummary(output: output, source: input, compression: compression, parts: plan.parts.count, written: written,
                                reused: reused, alreadyComplete: complete, tensors: tensors.count,
                                changed: tensors.filter { $0.action != "kept" }.map { ($0.name, $0.action) },
                                inputBytes: try source.weightBytes(), outputBytes: try ModelSize.bytes(output),
                                seconds: Date().timeIntervalSince(started))
        }

        // What a previous run left: parts kept when they are the ones this plan writes and still check out.
        let previous = try previousSplit(in: output, source: identity, compression: compression, restart: restart)
        var finished = [SplitManifest.Part?](repeating: nil, count: plan.parts.count)
        for recorded in previous?.manifest.parts ?? [] {
            guard let i = plan.parts.firstIndex(where: { $0.file == recorded.file }),
                  plan.parts[i].kind == recorded.kind, plan.parts[i].layer == recorded.layer,
                  plan.parts[i].tensors.map(\.name) == recorded.tensors,
                  (try? SplitStore.check(recorded, in: output, checksum: true)) != nil else { continue }
            finished[i] = recorded
        }
        let reused = finished.compactMap { $0 }.count
        let metadataPresent = metadataFiles.allSatisfy { FileManager.default.fileExists(atPath: output + "/" + $0) }
        if previous?.complete == true && reused == plan.parts.count && metadataPresent {
            return try summary(written: 0, reused: reused, complete: true)
        }

        // Nothing is written before the free space is checked (a --restart has removed the old split).
        var needed = try metadataBytes(source, files: metadataFiles)
        for (part, done) in zip(plan.parts, finished) where done == nil {
            needed += try GGUFFileWriter.fileSize(metadata: part.metadata, tensors: part.entries)
        }
        try DiskSpace.check(needed: needed, available: try DiskSpace.available(at: existingAncestor(output)), at: output)

        let fm = FileManager.default
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        let progressPath = output + "/" + SplitManifest.progressFileName
        func recordProgress() throws {
            try manifest(finished.compactMap { $0 }).write(to: progressPath, format: SplitManifest.progressFormatName)
        }
        try recordProgress()
        try? fm.removeItem(atPath: output + "/" + SplitManifest.fileName)
        for name in try fm.contentsOfDirectory(atPath: output) where name.hasSuffix(".partial") {
            try fm.removeItem(atPath: output + "/" + name)
        }
        try writeMetadata(source, files: metadataFiles, to: output)

        let total = plan.parts.reduce(0) { $0 + $1.tensors.count }
        var done = zip(plan.parts, finished).reduce(0) { $0 + ($1.1 == nil ? 0 : $1.0.tensors.count) }
        var written = 0
        for (i, part) in plan.parts.enumerated() where finished[i] == nil {
            if let stop = stopAfterParts, written >= stop {
                throw RuntimeError("\(output): split stopped after \(written) parts (stopAfterParts)")
            }
            let path = output + "/" + part.file
            let writer = try GGUFFileWriter(path: path, metadata: part.metadata, tensors: part.entries, checksum: true)
            // The bar runs over every tensor of the split; a part's own end is not the end.
            let offset = done
            let partProgress = RewriteProgress { d, n, name, action in
                if d < n || offset + d == total { progress.report(offset + d, total, name, action) }
            }
            try RewriteWriter.stream(part.tensors, progress: partProgress, write: writer.write, finish: writer.finish,
                                     abandon: writer.abandon)
            let bytes = (try fm.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            finished[i] = SplitManifest.Part(file: part.file, kind: part.kind, layer: part.layer, bytes: bytes,
                                             xxh64: writer.xxh64!, tensors: part.tensors.map(\.name))
            try recordProgress()
            done += part.tensors.count
            written += 1
        }
        try manifest(finished.map { $0! }).write(to: output + "/" + SplitManifest.fileName)
        try fm.removeItem(atPath: progressPath)
        return try summary(written: written, reused: reused, complete: false)
    }

    /// The parts: which tensor goes where comes from the architecture's name table (its per-layer
    /// prefix, WeightNames.layer), applied to the names the loader sees (a multimodal checkpoint's
    /// wrapper prefix renamed; the parts the text model does not use, such as a vision tower, left
    /// out). The source is loaded first, so a split is only made of a model that loads.
    static func makePlan(_ source: RewriteSource, compression: SplitManifest.Compression, pool: ThreadPool?) throws -> Plan {
        let names: [TensorRole: String]
        let config: DecoderConfig
        if let g = source.gguf {
            names = try ArchitectureRegistry.layout(gguf: g).names
            config = try ArchitectureRegistry.load(gguf: g).config
        } else {
            names = try ArchitectureRegistry.layout(checkpoint: source.path).names
            config = try ArchitectureRegistry.load(checkpoint: source.path).config
        }
        var parts = [PlannedPart(kind: .embedding, layer: nil)] + (0..<config.layerCount).map { PlannedPart(kind: .layer, layer: $0) }
            + [PlannedPart(kind: .head, layer: nil)]
        let embedding = WeightNames.name(names, .tokenEmbedding)
        let filter = try FilterMap.named("projections")
        for name in source.names {
            var loaderName = name
            if source.isFolder {
                guard let n = SanitizedTensorSource.sanitize(name, renames: WeightNames.huggingFaceRenames,
                                                             ignoredPrefixes: WeightNames.huggingFaceIgnoredPrefixes) else { continue }
                loaderName = n
            }
            var index = parts.count - 1
            if loaderName == embedding {
                index = 0
            } else if let layer = WeightNames.layer(of: loaderName, in: names) {
                guard layer < config.layerCount else {
                    throw RuntimeError("\(source.path): tensor \(name) is in layer \(layer), the model has \(config.layerCount) layers")
                }
                index = 1 + layer
            }
            let t = try source.tensor(name)
            if let pool, compression != .none {
                parts[index].tensors.append(try ModelQuantizer.planTensor(t, method: compression == .bits4 ? "rtn4" : "rtn8", groupSize: 64,
                                                                          filter: filter, compatible: false, folder: source.isFolder, pool: pool))
            } else {
                parts[index].tensors.append(.kept(t))
            }
        }
        if let empty = parts.first(where: { $0.tensors.isEmpty }) {
            throw RuntimeError("\(source.path): no tensors for \(empty.file)")
        }
        return Plan(architecture: config.architecture, layerCount: config.layerCount,
                    container: source.isFolder ? .checkpoint : .gguf, parts: parts)
    }

    /// The source as the manifest records it: absolute path, weight bytes, and the latest
    /// modification time of the file or of the folder's files.
    static func sourceIdentity(_ path: String) throws -> SplitManifest.Source {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let fm = FileManager.default
        /// Modification time of a regular file; nil for folders and other entries.
        func modified(_ p: String) throws -> Double? {
            let a = try fm.attributesOfItem(atPath: p)
            guard a[.type] as? FileAttributeType == .typeRegular else { return nil }
            return (a[.modificationDate] as? Date)?.timeIntervalSince1970
        }
        let latest: Double
        if try ModelPath.isFolder(absolute) {
            latest = try fm.contentsOfDirectory(atPath: absolute).compactMap { try modified(absolute + "/" + $0) }.max() ?? 0
        } else {
            latest = try modified(absolute) ?? 0
        }
        return SplitManifest.Source(path: absolute, bytes: try ModelSize.bytes(absolute), modified: latest)
    }

    /// The split an existing `output` holds, if any: split.json (complete) or split.progress.json.
    /// A split of another source or with other options is an error, unless `restart` (its files
    /// are then removed); a folder holding anything else is an error.
    static func previousSplit(in output: String, source: SplitManifest.Source, compression: SplitManifest.Compression,
                              restart: Bool) throws -> (manifest: SplitManifest, complete: Bool)? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: output, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { throw RuntimeError("\(output) exists and is not a folder; choose a folder for the split") }
        let manifestPath = output + "/" + SplitManifest.fileName, progressPath = output + "/" + SplitManifest.progressFileName
        let isSplit = fm.fileExists(atPath: manifestPath) || fm.fileExists(atPath: progressPath)
        guard isSplit else {
            guard try fm.contentsOfDirectory(atPath: output).isEmpty else {
                throw RuntimeError("\(output) exists, is not empty and is not a split folder; choose a new or empty folder")
            }
            return nil
        }
        if restart {
            try removeSplit(in: output)
            return nil
        }
        let again = "; run with --restart to throw it away and split again"
        let previous: (manifest: SplitManifest, complete: Bool)
        do {
            previous = fm.fileExists(atPath: manifestPath)
                ? (try SplitManifest.read(path: manifestPath), true)
                : (try SplitManifest.read(path: progressPath, format: SplitManifest.progressFormatName), false)
        } catch {
            throw RuntimeError("\(error)\(again)")
        }
        let p = previous.manifest
        guard p.source.path == source.path else {
            throw RuntimeError("\(output) holds a split of \(p.source.path), not of \(source.path)\(again)")
        }
        guard p.source == source else {
            throw RuntimeError("\(output) holds a split of \(p.source.path) as it was before it changed (\(p.source.bytes) bytes, "
                + "modified \(Date(timeIntervalSince1970: p.source.modified)); now \(source.bytes) bytes, modified "
                + "\(Date(timeIntervalSince1970: source.modified)))\(again)")
        }
        guard p.compression == compression else {
            throw RuntimeError("\(output) holds a split with compression \(p.compression.rawValue), not \(compression.rawValue)\(again)")
        }
        return previous
    }

    /// Removes what a split wrote to `folder`: the manifest and progress files, the parts, the
    /// metadata files they list, and any `.partial` file.
    static func removeSplit(in folder: String) throws {
        let fm = FileManager.default
        var names = Set([SplitManifest.fileName, SplitManifest.progressFileName, SplitManifest.metadataGGUF])
        for (path, format) in [(SplitManifest.fileName, SplitManifest.formatName),
                               (SplitManifest.progressFileName, SplitManifest.progressFormatName)] {
            guard let m = try? SplitManifest(json: try JSONValue.parse(Array(fm.contents(atPath: folder + "/" + path) ?? Data())),
                                             path: path, format: format) else { continue }
            names.formUnion(m.metadataFiles)
        }
        for name in try fm.contentsOfDirectory(atPath: folder) {
            let isPart = name.hasSuffix(".gguf") && (name == SplitManifest.partFile(.embedding) || name == SplitManifest.partFile(.head)
                || name.hasPrefix("layer-"))
            if names.contains(name) || isPart || name.hasSuffix(".partial") { try fm.removeItem(atPath: folder + "/" + name) }
        }
    }

    /// Bytes of the metadata files the split writes.
    static func metadataBytes(_ source: RewriteSource, files: [String]) throws -> Int {
        if let g = source.gguf {
            return try GGUFFileWriter.fileSize(metadata: g.metadataKeys.map { ($0, g.metadata[$0]!) }, tensors: [], alignment: g.alignment)
        }
        return try files.reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: source.path + "/" + $1)[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// `model.gguf` (every metadata key of a GGUF source, no tensors), or the checkpoint's
    /// non-weight files copied; each written as `.partial` and renamed into place.
    static func writeMetadata(_ source: RewriteSource, files: [String], to output: String) throws {
        if let g = source.gguf {
            let writer = try GGUFFileWriter(path: output + "/" + SplitManifest.metadataGGUF,
                                            metadata: g.metadataKeys.map { ($0, g.metadata[$0]!) }, tensors: [], alignment: g.alignment)
            try writer.finish()
            return
        }
        let fm = FileManager.default
        for name in files {
            let target = output + "/" + name, partial = target + ".partial"
            try fm.copyItem(atPath: source.path + "/" + name, toPath: partial)
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.moveItem(atPath: partial, toPath: target)
        }
    }

    /// `path` or its nearest existing parent folder (where a new output folder will live).
    static func existingAncestor(_ path: String) -> String {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: url.path) && url.path != "/" { url.deleteLastPathComponent() }
        return url.path
    }
}
