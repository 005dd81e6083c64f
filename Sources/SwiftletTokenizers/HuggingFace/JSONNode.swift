// A value parsed from tokenizer.json or tokenizer_config.json that knows where it came from, so a wrong or
// missing field becomes a one-line TokenizerError naming the file and the field path.
import Foundation
import SwiftletCore

struct JSONNode {
    let value: JSONValue
    /// The file the value came from.
    let file: String
    /// Where in the file: `normalizer.normalizers[1].pattern`.
    let path: String

    /// Parses the JSON file at `file`. A missing file is `nil` when `optional`, else an error.
    static func read(_ file: String, optional: Bool = false) throws -> JSONNode? {
        guard let data = FileManager.default.contents(atPath: file) else {
            if optional && !FileManager.default.fileExists(atPath: file) { return nil }
            throw TokenizerError("\(file): cannot read the file")
        }
        do {
            return JSONNode(value: try JSONValue.parse([UInt8](data), maxDepth: 512), file: file, path: "")
        } catch {
            throw TokenizerError("\(file): malformed JSON (\(error))")
        }
    }

    func error(_ message: String) -> TokenizerError {
        TokenizerError("\(file): \(path.isEmpty ? "" : path + ": ")\(message)")
    }

    private func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member `key`, nil if absent or null.
    subscript(_ key: String) -> JSONNode? {
        guard case .object(let members) = value, let v = members.last(where: { $0.0 == key })?.1 else { return nil }
        if case .null = v { return nil }
        return JSONNode(value: v, file: file, path: child(key))
    }

    /// The member `key`, which must be present.
    func required(_ key: String) throws -> JSONNode {
        guard let v = self[key] else { throw error("missing \"\(key)\"") }
        return v
    }

    /// The string, if this is one.
    var stringValue: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    /// The number, if this is one.
    var numberValue: Double? {
        if case .number(let n) = value { return Double(n) }
        return nil
    }

    func string() throws -> String {
        guard let s = stringValue else { throw error("expected a string") }
        return s
    }

    func int() throws -> Int {
        guard let n = numberValue, n == n.rounded(), abs(n) < 9.0e18 else { throw error("expected an integer") }
        return Int(n)
    }

    /// A token id: an integer from 0 up to `HFVocabulary.maxTokenID`.
    func tokenID() throws -> Int32 {
        let n = try int()
        guard n >= 0 && n <= HFVocabulary.maxTokenID else { throw error("token id \(n) is out of range (0...\(HFVocabulary.maxTokenID))") }
        return Int32(n)
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false") }
        return b
    }

    func array() throws -> [JSONNode] {
        guard case .array(let a) = value else { throw error("expected an array") }
        return a.enumerated().map { JSONNode(value: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// The members of an object, in file order; equal keys (even canonically equivalent ones) all appear.
    func members() throws -> [(key: String, value: JSONNode)] {
        guard case .object(let o) = value else { throw error("expected an object") }
        return o.map { ($0.0, JSONNode(value: $0.1, file: file, path: child($0.0))) }
    }

    // Optional members with defaults.
    func string(_ key: String) throws -> String? { try self[key]?.string() }
    func int(_ key: String) throws -> Int? { try self[key]?.int() }
    func bool(_ key: String, default d: Bool) throws -> Bool { try self[key]?.bool() ?? d }

    /// The `type` member of a pipeline component.
    func type() throws -> String { try required("type").string() }
}
