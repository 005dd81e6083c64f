// The five input field types a deployment manifest can declare, each with its OpenAPI fragment and
// how a request value is checked and coerced (one table row per type).
import Foundation

/// The type of one prediction input field.
public enum InputFieldType: String, Sendable, CaseIterable {
    case string, integer, number, boolean, path

    /// The JSON Schema `type` of the field's values.
    var jsonType: String { Self.rules[self]!.jsonType }
    /// The OpenAPI `type`, and `format` if any, Cog writes for the field (keys sorted, as coglet does).
    var schema: [(String, JSONValue)] {
        let rule = Self.rules[self]!
        return (rule.format.map { [("format", JSONValue.string($0))] } ?? []) + [("type", .string(rule.jsonType))]
    }
    /// Whether `minimum`/`maximum` make sense for the type.
    var takesBounds: Bool { Self.rules[self]!.takesBounds }
    /// Whether `choices` make sense for the type.
    var takesChoices: Bool { Self.rules[self]!.takesChoices }

    /// Checks a (non-null) request value, giving the value to keep or the message saying why not.
    func coerce(_ value: JSONValue) -> FieldOutcome { Self.rules[self]!.coerce(value) }

    private struct Rule {
        let jsonType: String
        var format: String? = nil
        let takesBounds: Bool
        let takesChoices: Bool
        let coerce: @Sendable (JSONValue) -> FieldOutcome
    }

    private static let rules: [InputFieldType: Rule] = [
        .string: Rule(jsonType: "string", takesBounds: false, takesChoices: true) { v in
            v.string != nil ? .accepted(v) : .notOfType(v, "string")
        },
        .integer: Rule(jsonType: "integer", takesBounds: true, takesChoices: true) { v in
            guard let n = numberLiteral(v), let i = integer(n) else { return .notOfType(v, "integer") }
            return .accepted(.int(i))
        },
        .number: Rule(jsonType: "number", takesBounds: true, takesChoices: true) { v in
            guard let n = numberLiteral(v), let d = Double(n), d.isFinite else { return .notOfType(v, "number") }
            return .accepted(.number(n))
        },
        .boolean: Rule(jsonType: "boolean", takesBounds: false, takesChoices: false) { v in
            v.bool != nil ? .accepted(v) : .notOfType(v, "boolean")
        },
        .path: Rule(jsonType: "string", format: "uri", takesBounds: false, takesChoices: false) { v in
            guard let s = v.string else { return .notOfType(v, "string") }
            guard isFetchable(s) else {
                return .rejected("\(v.encoded) is not a file URL: give an http(s) URL or a data URI")
            }
            return .accepted(v)
        },
    ]

    /// The number literal of a JSON number, or of a string holding one ("64", " 0.5 ": cog-0.16's
    /// lax coercion). Strings like "nan" or "1_000" are not JSON numbers and are refused.
    private static func numberLiteral(_ v: JSONValue) -> String? {
        switch v {
        case .number(let n): return n
        case .string(let s):
            guard case .number(let n)? = try? JSONValue.parse(s.trimmingCharacters(in: .whitespaces)) else { return nil }
            return n
        default: return nil
        }
    }

    /// An integer literal, or a literal with a zero fraction (64.0, 6.4e1); nil for 64.5 or out of range.
    private static func integer(_ literal: String) -> Int? {
        if let i = JSONValue.number(literal).int { return i }
        guard let d = Double(literal), d == d.rounded(), abs(d) < 9.0e18 else { return nil }
        return Int(d)
    }

    /// http(s) URLs with a host, and data URIs (`data:[<type>][;base64],<data>`): what the server fetches.
    private static func isFetchable(_ s: String) -> Bool {
        let lower = s.lowercased()
        if lower.hasPrefix("data:") { return s.contains(",") }
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"),
              let url = URLComponents(string: s), let host = url.host, !host.isEmpty else { return false }
        return true
    }
}

/// The result of checking one field value.
enum FieldOutcome: Equatable {
    case accepted(JSONValue)
    case rejected(String)

    /// Coglet's (JSON Schema's) wording: `"lots" is not of type "integer"`.
    static func notOfType(_ v: JSONValue, _ type: String) -> FieldOutcome {
        .rejected("\(v.encoded) is not of type \"\(type)\"")
    }
}
