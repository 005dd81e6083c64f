// Where a deployment also writes each output as a file: a directory and a name pattern with
// `{seed}` and `{index}` placeholders (`output_{seed}_{index}.txt`).
import Foundation

/// The files a deployment writes beside its response.
public struct ArtifactOptions: Sendable, Equatable {
    /// Relative to the server's working directory unless absolute.
    public let directory: String
    public let pattern: String

    static let placeholders = ["seed", "index"]
    static let manifestKeys = ["directory", "pattern"]

    public init(directory: String, pattern: String) {
        self.directory = directory
        self.pattern = pattern
    }

    /// The file name for output `index` of a prediction run with `seed`.
    public func fileName(seed: Int, index: Int) -> String {
        pattern.replacingOccurrences(of: "{seed}", with: String(seed))
            .replacingOccurrences(of: "{index}", with: String(index))
    }

    /// The path of that file (`directory/fileName`).
    public func path(seed: Int, index: Int) -> String {
        directory.hasSuffix("/") ? directory + fileName(seed: seed, index: index)
            : directory + "/" + fileName(seed: seed, index: index)
    }

    init(manifest object: ManifestObject) throws {
        let pattern = try object.string("pattern")
        guard !pattern.contains("/") else { throw object.fail("pattern", "a file name, without '/'") }
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { throw object.fail("pattern", "unclosed '{'") }
            let name = String(rest[rest.index(after: open)..<close])
            guard Self.placeholders.contains(name) else {
                throw object.fail("pattern", "unknown placeholder {\(name)} (known: {seed}, {index})")
            }
            rest = rest[rest.index(after: close)...]
        }
        self.init(directory: try object.string("directory"), pattern: pattern)
    }
}
