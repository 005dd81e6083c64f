// Errors in optimization recipes and filter maps: every problem at once, each with its field path
// (`quantize.group: must be 32, 64 or 128, got 48`).

/// A recipe or filter map that cannot be used, with every problem found (not just the first).
public struct RecipeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem: the field's path (`prune.filter.allow[2]`; empty for the document as a whole) and what is wrong.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let field: String
        public let message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }

        public var description: String { field.isEmpty ? message : "\(field): \(message)" }
    }

    /// The file the document came from, when it came from one.
    public let file: String?
    public let problems: [Problem]

    public init(file: String? = nil, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    /// One line per problem, each prefixed with the file when there is one.
    public var description: String {
        let prefix = file.map { "\($0): " } ?? ""
        return problems.map { prefix + $0.description }.joined(separator: "\n")
    }
}
