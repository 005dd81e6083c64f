// A deployment's ordered input fields and the validation of a request's `input` against them,
// with coglet's semantics: every problem reported at once, in coglet's order.

/// The input fields of a deployment, in `x-order`.
public struct InputSchema: Sendable, Equatable {
    public let fields: [InputField]

    public init(fields: [InputField]) { self.fields = fields }

    public subscript(name: String) -> InputField? { fields.first { $0.name == name } }

    /// Checks the request's `input` member (nil or `null` count as `{}`, as in coglet) and returns every
    /// field in schema order, defaults applied, optional fields without a value as `null`.
    ///
    /// Refusals come in coglet's order: unknown fields (as sent), then bad values (by field name),
    /// then missing required fields (schema order).
    public func validate(_ input: JSONValue?) -> Result<PredictionInput, InputValidationFailure> {
        let given: [(String, JSONValue)]
        switch input {
        case nil, .null?: given = []
        case .object(let members)?: given = members
        case let other?:
            let issue = InputIssue(loc: ["body", "input"], msg: "\(other.encoded) is not of type \"object\"",
                                   type: "value_error")
            return .failure(InputValidationFailure(issues: [issue]))
        }
        let sent = JSONValue.object(given)

        var unknown: [InputIssue] = []
        var seen = Set<String>()
        for (name, _) in given where self[name] == nil && seen.insert(name).inserted {
            unknown.append(.field(name, "Unexpected field '\(name)'", type: "value_error.extra"))
        }

        var bad: [(String, InputIssue)] = []
        var missing: [InputIssue] = []
        var values: [(String, JSONValue)] = []
        for field in fields {
            guard let value = sent[field.name] else {
                if field.isRequired {
                    missing.append(.field(field.name, "Field required", type: "value_error.missing"))
                } else {
                    values.append((field.name, field.defaultValue ?? .null))
                }
                continue
            }
            switch field.check(value) {
            case .accepted(let v): values.append((field.name, v))
            case .rejected(let msg): bad.append((field.name, .field(field.name, msg)))
            }
        }
        bad.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }

        let issues = unknown + bad.map(\.1) + missing
        return issues.isEmpty ? .success(PredictionInput(fields: values)) : .failure(InputValidationFailure(issues: issues))
    }
}
