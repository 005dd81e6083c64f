// Typed access to an architecture's GGUF hyperparameters (`<arch>.<key>`), with clear errors.
import SwiftletFormats

public struct GGUFHyperparameters {
    public let file: GGUFFile
    public let arch: String

    public init(_ file: GGUFFile) throws {
        guard let a = file.architecture else { throw ModelError("\(file.path): no general.architecture in the metadata") }
        self.file = file
        arch = a
    }

    public func int(_ key: String) throws -> Int {
        guard let v = file["\(arch).\(key)"] else { throw ModelError("\(file.path): missing metadata \(arch).\(key)") }
        guard let i = v.int ?? v.ints?.first else { throw ModelError("\(file.path): metadata \(arch).\(key) is not an integer") }
        return i
    }

    public func int(_ key: String, default d: Int) throws -> Int {
        file["\(arch).\(key)"] == nil ? d : try int(key)
    }

    public func float(_ key: String) throws -> Float {
        guard let v = file["\(arch).\(key)"] else { throw ModelError("\(file.path): missing metadata \(arch).\(key)") }
        guard let d = v.double else { throw ModelError("\(file.path): metadata \(arch).\(key) is not a number") }
        return Float(d)
    }

    public func float(_ key: String, default d: Float) throws -> Float {
        file["\(arch).\(key)"] == nil ? d : try float(key)
    }

    public func has(_ key: String) -> Bool { file["\(arch).\(key)"] != nil }

    /// Vocabulary size: `<arch>.vocab_size` when present, else the token list's length.
    public func vocabSize() throws -> Int {
        if has("vocab_size") { return try int("vocab_size") }
        if let n = file["tokenizer.ggml.tokens"]?.array?.count { return n }
        throw ModelError("\(file.path): cannot tell the vocabulary size")
    }
}
