// The server speaks SwiftletCore's JSON (ordered members, number literals kept), plus the one
// conversion routes need: request JSON to chat-template variables.
import SwiftletCore
import SwiftletTokenizers

public typealias JSONValue = SwiftletCore.JSONValue
public typealias JSONParseError = SwiftletCore.JSONParseError

extension JinjaValue {
    /// A JSON value as a template variable (integers stay integers).
    public init(json v: JSONValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number: self = v.int.map(JinjaValue.int) ?? .double(v.double ?? 0)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(JinjaValue.init(json:)))
        case .object(let m): self = .object(JinjaObject(m.map { ($0.0, JinjaValue(json: $0.1)) }))
        }
    }
}
