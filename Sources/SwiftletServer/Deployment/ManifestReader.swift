// Reading a deployment manifest's JSON with errors that name the file and the field
// (`deployments/smollm3.json: inputs[2].maximum: expected a number, got "x"`).

/// A deployment manifest that cannot be used: which file, which field, and what is wrong with it.
public struct DeploymentManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// The field's path in the manifest (`inputs[1].default`); empty for the file as a whole.
    public let field: String
    public let message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)" }
}

/// One JSON object of a manifest, with the keys it may have; absent and `null` members read as nil.
struct ManifestObject {
    let file: String
    let path: String
    let members: [(String, JSONValue)]

    init(_ value: JSONValue, file: String, path: String, keys: [String]) throws {
        self.file = file
        self.path = path
        guard let members = value.members else {
            throw DeploymentManifestError(file: file, field: path, message: "expected an object, got \(value.encoded)")
        }
        self.members = members
        var seen = Set<String>()
        for (key, _) in members {
            guard keys.contains(key) else {
                throw fail(key, "unknown key (known keys: \(keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw fail(key, "given twice") }
        }
    }

    /// The path of `key` in this object (`inputs[0].name`).
    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String?, _ message: String) -> DeploymentManifestError {
        DeploymentManifestError(file: file, field: key.map(field) ?? path, message: message)
    }

    /// The member `key`, nil when absent or `null`.
    func value(_ key: String) -> JSONValue? {
        guard let v = members.first(where: { $0.0 == key })?.1, !v.isNull else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { members.contains { $0.0 == key } }

    func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw fail(key, "missing (expected a string)") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string, !s.isEmpty else { throw fail(key, "expected a non-empty string, got \(v.encoded)") }
        return s
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw fail(key, "expected true or false, got \(v.encoded)") }
        return b
    }

    func optionalNumber(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.double, d.isFinite else { throw fail(key, "expected a number, got \(v.encoded)") }
        return d
    }

    func optionalArray(_ key: String) throws -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.array else { throw fail(key, "expected an array, got \(v.encoded)") }
        return a
    }

    /// The member `key` as an object with the given keys, nil when absent.
    func optionalObject(_ key: String, keys: [String]) throws -> ManifestObject? {
        guard let v = value(key) else { return nil }
        return try ManifestObject(v, file: file, path: field(key), keys: keys)
    }

    /// A string member that must be one of a table's names.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T where T.RawValue == String {
        let s = try string(key)
        guard let v = T(rawValue: s) else {
            throw fail(key, "unknown value \"\(s)\" (known: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return v
    }
}
