// Which tensors an optimization touches: allow and deny globs over tensor names, deny winning.
import SwiftletCore

/// Selects tensors by name: a tensor is selected when it is a matrix, some `allow` pattern matches
/// its name and no `deny` pattern does. Deny always wins; an empty allow list selects nothing.
///
/// JSON form: `{"allow": ["blk.*.attn_{q,k,v}.weight"], "deny": ["*norm*"]}` (both keys optional).
/// Built-in maps (`FilterMap.named`) cover GGUF, Hugging Face decoder and BERT names.
public struct FilterMap: Sendable, Equatable {
    public let allow: [GlobPattern]
    public let deny: [GlobPattern]

    init(patterns allow: [GlobPattern], deny: [GlobPattern]) {
        self.allow = allow
        self.deny = deny
    }

    /// Patterns from strings; an empty or malformed pattern is a RecipeError naming it (`allow[1]`).
    public init(allow: [String], deny: [String] = []) throws(RecipeError) {
        var reader = RecipeReader()
        let a = Self.patterns(allow.map(JSONValue.string), at: "allow", &reader)
        let d = Self.patterns(deny.map(JSONValue.string), at: "deny", &reader)
        try reader.check()
        self.init(patterns: a, deny: d)
    }

    /// Reads the JSON form. `field` prefixes the paths in errors (`prune.filter`).
    public init(json: JSONValue, field: String = "") throws(RecipeError) {
        var reader = RecipeReader()
        let map = Self.read(json, at: field, &reader)
        try reader.check()
        self = map!
    }

    /// Reads a JSON file holding the JSON form; errors name the file.
    public static func load(path: String) throws(RecipeError) -> FilterMap {
        let json = try RecipeReader.document(path: path)
        var reader = RecipeReader()
        let map = read(json, at: "", &reader)
        try reader.check(file: path)
        return map!
    }

    /// The names of the built-in maps, for `named(_:)`.
    public static var builtInNames: [String] { builtIns.map(\.name) }

    /// A built-in map: "projections" (every attention and MLP projection; the quantization default) or
    /// "gemma3" (Q/K/V and MLP up/down; the pruning default). See FilterMap+BuiltIn.swift.
    public static func named(_ name: String) throws(RecipeError) -> FilterMap {
        guard let map = builtIns.first(where: { $0.name == name })?.map else {
            throw RecipeError(problems: [.init(field: "", message:
                "unknown filter map \"\(name)\" (built-in maps: \(builtInNames.joined(separator: ", ")))")])
        }
        return map
    }

    /// Whether `name` passes the patterns (allowed and not denied), whatever its shape.
    public func matches(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        return allow.contains { $0.matches(scalars) } && !deny.contains { $0.matches(scalars) }
    }

    /// Whether the tensor `name` with shape `dims` is selected: it must be a matrix (at least two
    /// dimensions longer than 1, so a 3-D MoE expert stack counts and a 1-D norm or bias never does)
    /// and pass the patterns.
    public func selects(_ name: String, dims: [Int]) -> Bool {
        dims.count(where: { $0 > 1 }) >= 2 && matches(name)
    }

    /// The JSON form.
    public var json: JSONValue {
        ["allow": .array(allow.map { .string($0.text) }), "deny": .array(deny.map { .string($0.text) })]
    }

    /// A map from its JSON form, problems reported to `reader` (nil when there are any).
    static func read(_ json: JSONValue, at field: String, _ reader: inout RecipeReader) -> FilterMap? {
        let before = reader.problems.count
        guard let members = reader.object(json, at: field, keys: ["allow", "deny"]) else { return nil }
        var lists: [[GlobPattern]] = []
        for key in ["allow", "deny"] {
            let path = RecipeReader.path(field, key)
            guard let value = members[key] else {
                lists.append([])
                continue
            }
            guard let items = value.array else {
                reader.fail(path, "expected an array of patterns, got \(RecipeReader.describe(value))")
                lists.append([])
                continue
            }
            lists.append(patterns(items, at: path, &reader))
        }
        return reader.problems.count == before ? FilterMap(patterns: lists[0], deny: lists[1]) : nil
    }

    static func patterns(_ items: [JSONValue], at field: String, _ reader: inout RecipeReader) -> [GlobPattern] {
        var out: [GlobPattern] = []
        for (i, item) in items.enumerated() {
            let path = "\(field)[\(i)]"
            guard let text = item.string else {
                reader.fail(path, "expected a string pattern, got \(RecipeReader.describe(item))")
                continue
            }
            do {
                out.append(try GlobPattern(text))
            } catch {
                reader.fail(path, error.description)
            }
        }
        return out
    }
}
