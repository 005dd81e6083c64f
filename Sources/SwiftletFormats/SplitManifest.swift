// split.json, the manifest of a split folder (`swiftlet split`): where the model came from, how it
// was split, and every part file with its size, XXH64 checksum and tensors. The same shape, with
// another format name and only the finished parts, is the progress file of an unfinished split.
// The layout is documented in docs/layer-streaming.md ("Split folder layout").
import Foundation
import SwiftletCore

/// What went wrong with a split folder; names the file and, where it applies, the field.
public struct SplitError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ path: String, _ message: String) { description = "\(path): \(message)" }
}

/// A model split into one GGUF file per part (token embedding, each layer, the head), as
/// recorded in `split.json`.
public struct SplitManifest: Sendable, Equatable {
    /// The manifest's file name in a split folder.
    public static let fileName = "split.json"
    /// The progress file of a split still being written (the same shape, finished parts only).
    public static let progressFileName = "split.progress.json"
    /// The metadata-only GGUF of a split GGUF model (every metadata key of the source, no tensors).
    public static let metadataGGUF = "model.gguf"
    public static let formatName = "swiftlet-split"
    public static let progressFormatName = "swiftlet-split-progress"
    public static let version = 1

    /// Where the metadata (configuration, tokenizer, chat template) comes from.
    public enum Container: String, Sendable, CaseIterable {
        /// `model.gguf`: every metadata key of the source GGUF file.
        case gguf
        /// The Hugging Face checkpoint folder's non-weight files (config.json, tokenizer.json, ...).
        case checkpoint
    }

    /// How the parts store the weights.
    public enum Compression: String, Sendable, CaseIterable {
        /// Every tensor byte for byte as the source stores it.
        case none
        /// Projection matrices quantized with RTN in groups of 64 (SW_A4_G64 / SW_A8_G64).
        case bits4 = "4bit", bits8 = "8bit"
    }

    /// Which part of the model a part file holds.
    public enum PartKind: String, Sendable, CaseIterable {
        case embedding, layer, head
    }

    /// The model the split was made from; a re-run on a different source is refused.
    public struct Source: Sendable, Equatable {
        /// Absolute path of the GGUF file or checkpoint folder.
        public var path: String
        /// Bytes of its weights (the file, or the folder's weight files).
        public var bytes: Int
        /// Latest modification time of its files, seconds since 1970.
        public var modified: Double

        public init(path: String, bytes: Int, modified: Double) {
            self.path = path
            self.bytes = bytes
            self.modified = modified
        }
    }

    /// One part file.
    public struct Part: Sendable, Equatable {
        /// File name inside the folder (`embedding.gguf`, `layer-007.gguf`, `head.gguf`).
        public var file: String
        public var kind: PartKind
        /// The transformer block of a layer part; nil for the embedding and the head.
        public var layer: Int?
        /// Size of the file.
        public var bytes: Int
        /// XXH64 (seed 0) of the whole file.
        public var xxh64: UInt64
        /// The tensors it holds, under their names in the source, in file order.
        public var tensors: [String]

        public init(file: String, kind: PartKind, layer: Int?, bytes: Int, xxh64: UInt64, tensors: [String]) {
            self.file = file
            self.kind = kind
            self.layer = layer
            self.bytes = bytes
            self.xxh64 = xxh64
            self.tensors = tensors
        }
    }

    public var source: Source
    public var container: Container
    /// `general.architecture` (GGUF) or `model_type` (config.json) of the source.
    public var architecture: String
    public var layerCount: Int
    public var compression: Compression
    /// The non-weight files beside the parts: `model.gguf`, or the checkpoint's copied files.
    public var metadataFiles: [String]
    /// Embedding, layers 0..<layerCount, head, in that order (a progress file: the finished ones).
    public var parts: [Part]

    public init(source: Source, container: Container, architecture: String, layerCount: Int, compression: Compression,
                metadataFiles: [String], parts: [Part]) {
        self.source = source
        self.container = container
        self.architecture = architecture
        self.layerCount = layerCount
        self.compression = compression
        self.metadataFiles = metadataFiles
        self.parts = parts
    }

    /// The file name a part of `kind` has (`layer` for layer parts): `embedding.gguf`,
    /// `layer-000.gguf` ..., `head.gguf`.
    public static func partFile(_ kind: PartKind, layer: Int? = nil) -> String {
        switch kind {
        case .embedding: return "embedding.gguf"
        case .head: return "head.gguf"
        case .layer: return "layer-" + String(format: "%03d", layer ?? 0) + ".gguf"
        }
    }

    /// The manifest as JSON (`format` names a manifest or a progress file).
    public func json(format: String = formatName) -> JSONValue {
        .object([
            ("format", .string(format)), ("version", .int(Self.version)),
            ("source", .object([("path", .string(source.path)), ("bytes", .int(source.bytes)),
                                ("modified", .number("\(source.modified)"))])),
            ("container", .string(container.rawValue)), ("architecture", .string(architecture)),
            ("layers", .int(layerCount)), ("compression", .string(compression.rawValue)),
            ("metadata_files", .array(metadataFiles.map(JSONValue.string))),
            ("parts", .array(parts.map { p in
                .object([("file", .string(p.file)), ("kind", .string(p.kind.rawValue))]
                    + (p.layer.map { [("layer", JSONValue.int($0))] } ?? [])
                    + [("bytes", .int(p.bytes)), ("xxh64", .string(XXH64.hex(p.xxh64))),
                       ("tensors", .array(p.tensors.map(JSONValue.string)))])
            })),
        ])
    }

    /// The JSON text written to disk: one line per member, one line per part.
    public func text(format: String = formatName) -> String {
        guard let members = json(format: format).members else { return "" }
        let lines = members.map { key, value -> String in
            var name = ""
            JSONValue.writeString(key, into: &name)
            if key == "parts", let parts = value.array {
                return "  \(name): [\n" + parts.map { "    " + $0.encoded }.joined(separator: ",\n") + "\n  ]"
            }
            return "  \(name): \(value.encoded)"
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    /// Writes the manifest atomically: `path.partial`, synced, then renamed onto `path`.
    public func write(to path: String, format: String = formatName) throws {
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: Data(text(format: format).utf8)),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw SplitError(partial, "cannot create the file")
        }
        try handle.synchronize()
        try handle.close()
        guard rename(partial, path) == 0 else {
            throw SplitError(path, "cannot rename \(partial) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a manifest (`format` = `formatName`) or a progress file (`progressFormatName`).
    /// Every field is checked; an error names the file and the field (`parts[3].xxh64`).
    /// A manifest must list every part exactly once, in order, under its canonical file name.
    public static func read(path: String, format: String = formatName) throws -> SplitManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw SplitError(path, "cannot read the file") }
        let json: JSONValue
        do { json = try JSONValue.parse(Array(data)) } catch { throw SplitError(path, "not JSON: \(error)") }
        let manifest = try SplitManifest(json: json, path: path, format: format)
        if format == formatName { try manifest.checkComplete(path: path) }
        return manifest
    }

    /// Decodes the JSON form, checking every field's presence, type and range.
    public init(json: JSONValue, path: String, format: String = formatName) throws {
        func fail(_ field: String, _ message: String) -> SplitError { SplitError(path, "\(field): \(message)") }
        func member(_ o: JSONValue, _ key: String, _ field: String) throws -> JSONValue {
            guard let v = o[key], !v.isNull else { throw fail(field, "missing") }
            return v
        }
        func string(_ o: JSONValue, _ key: String, _ field: String) throws -> String {
            guard let s = try member(o, key, field).string, !s.isEmpty else { throw fail(field, "must be a non-empty string") }
            return s
        }
        func count(_ o: JSONValue, _ key: String, _ field: String) throws -> Int {
            guard let n = try member(o, key, field).int, n >= 0 else { throw fail(field, "must be a whole number >= 0") }
            return n
        }
        func strings(_ o: JSONValue, _ key: String, _ field: String) throws -> [String] {
            guard let items = try member(o, key, field).array else { throw fail(field, "must be an array of strings") }
            return try items.enumerated().map { i, v in
                guard let s = v.string, !s.isEmpty else { throw fail("\(field)[\(i)]", "must be a non-empty string") }
                return s
            }
        }
        func oneOf<E: RawRepresentable & CaseIterable>(_ o: JSONValue, _ key: String, _: E.Type) throws -> E where E.RawValue == String {
            let s = try string(o, key, key)
            guard let e = E(rawValue: s) else {
                throw fail(key, "\"\(s)\" is not one of \(E.allCases.map { $0.rawValue }.joined(separator: ", "))")
            }
            return e
        }
        /// A plain file name: no folder part, so a manifest cannot point outside its folder.
        func fileName(_ s: String, _ field: String) throws -> String {
            guard !s.contains("/"), s != ".", s != ".." else { throw fail(field, "\"\(s)\" is not a file name in the folder") }
            return s
        }

        guard json.members != nil else { throw SplitError(path, "not a JSON object") }
        let f = try string(json, "format", "format")
        guard f == format else { throw fail("format", "\"\(f)\", expected \"\(format)\"") }
        let v = try count(json, "version", "version")
        guard v == Self.version else { throw fail("version", "\(v) is not supported (this swiftlet reads version \(Self.version))") }
        let src = try member(json, "source", "source")
        guard let modified = try member(src, "modified", "source.modified").double else { throw fail("source.modified", "must be a number") }
        source = Source(path: try string(src, "path", "source.path"), bytes: try count(src, "bytes", "source.bytes"), modified: modified)
        container = try oneOf(json, "container", Container.self)
        architecture = try string(json, "architecture", "architecture")
        layerCount = try count(json, "layers", "layers")
        guard layerCount > 0 else { throw fail("layers", "must be at least 1") }
        compression = try oneOf(json, "compression", Compression.self)
        metadataFiles = try strings(json, "metadata_files", "metadata_files").enumerated().map { try fileName($1, "metadata_files[\($0)]") }
        guard let items = try member(json, "parts", "parts").array else { throw fail("parts", "must be an array") }
        parts = try items.enumerated().map { i, p in
            let field = "parts[\(i)]"
            guard p.members != nil else { throw fail(field, "must be an object") }
            let kindText = try string(p, "kind", field + ".kind")
            guard let kind = PartKind(rawValue: kindText) else {
                throw fail(field + ".kind", "\"\(kindText)\" is not one of embedding, layer, head")
            }
            var layer: Int?
            if kind == .layer {
                layer = try count(p, "layer", field + ".layer")
            } else if let l = p["layer"], !l.isNull {
                throw fail(field + ".layer", "only layer parts have a layer index")
            }
            let hex = try string(p, "xxh64", field + ".xxh64")
            guard hex.count == 16, let digest = UInt64(hex, radix: 16) else { throw fail(field + ".xxh64", "\"\(hex)\" is not 16 hex digits") }
            let tensors = try strings(p, "tensors", field + ".tensors")
            guard !tensors.isEmpty else { throw fail(field + ".tensors", "a part holds at least one tensor") }
            return Part(file: try fileName(try string(p, "file", field + ".file"), field + ".file"), kind: kind, layer: layer,
                        bytes: try count(p, "bytes", field + ".bytes"), xxh64: digest, tensors: tensors)
        }
        var files = Set(metadataFiles)
        var tensorNames = Set<String>()
        for (i, p) in parts.enumerated() {
            guard files.insert(p.file).inserted else { throw fail("parts[\(i)].file", "\(p.file) is listed twice") }
            if let l = p.layer, l >= layerCount { throw fail("parts[\(i)].layer", "\(l) is not below layers (\(layerCount))") }
            for t in p.tensors where !tensorNames.insert(t).inserted { throw fail("parts[\(i)].tensors", "\(t) is listed twice") }
        }
    }

    /// The parts a complete split has, in order: embedding, layer 0..<layerCount, head.
    public var expectedParts: [(kind: PartKind, layer: Int?)] {
        [(.embedding, nil)] + (0..<layerCount).map { (.layer, $0) } + [(.head, nil)]
    }

    /// Every part present once, in order, under its canonical file name.
    func checkComplete(path: String) throws {
        let expected = expectedParts
        guard parts.count == expected.count else {
            throw SplitError(path, "parts: \(parts.count) listed, a split of \(layerCount) layers has \(expected.count) (embedding, layers, head)")
        }
        for (i, (p, e)) in zip(parts, expected).enumerated() {
            guard p.kind == e.kind, p.layer == e.layer else {
                throw SplitError(path, "parts[\(i)]: \(p.kind.rawValue)\(p.layer.map { " \($0)" } ?? "") where \(e.kind.rawValue)\(e.layer.map { " \($0)" } ?? "") belongs")
            }
            let name = Self.partFile(e.kind, layer: e.layer)
            guard p.file == name else { throw SplitError(path, "parts[\(i)].file: \(p.file), expected \(name)") }
        }
    }
}
