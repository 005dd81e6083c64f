// A prediction's input after validation: every schema field with its value, defaults applied.

/// Validated input fields in schema order (`x-order`); optional fields without a value are `.null`.
public struct PredictionInput: Sendable, Equatable {
    public var fields: [(String, JSONValue)]

    public init(fields: [(String, JSONValue)]) { self.fields = fields }

    public subscript(name: String) -> JSONValue? { fields.first { $0.0 == name }?.1 }

    /// The input as a JSON object (echoed in prediction responses).
    public var json: JSONValue { .object(fields) }

    public static func == (a: PredictionInput, b: PredictionInput) -> Bool { a.json == b.json }
}
