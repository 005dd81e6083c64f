// Why a prediction's input was refused: every bad field at once, as coglet's 422 `detail` list.

/// One refused field: `loc` is `["body", "input", field]`, `type` is coglet's error type string.
public struct InputIssue: Sendable, Equatable {
    public let loc: [String]
    public let msg: String
    public let type: String

    public init(loc: [String], msg: String, type: String) {
        self.loc = loc
        self.msg = msg
        self.type = type
    }

    /// A problem with the input field `field`.
    static func field(_ field: String, _ msg: String, type: String = "value_error") -> InputIssue {
        InputIssue(loc: ["body", "input", field], msg: msg, type: type)
    }

    /// `{"loc": [...], "msg": ..., "type": ...}`
    public var json: JSONValue { ["loc": .array(loc.map { .string($0) }), "msg": .string(msg), "type": .string(type)] }
}

/// A refused prediction input (answered 422 with `body`).
public struct InputValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let issues: [InputIssue]

    public init(issues: [InputIssue]) { self.issues = issues }

    /// `{"detail": [...]}`, the 422 response body.
    public var body: JSONValue { ["detail": .array(issues.map(\.json))] }

    public var description: String {
        issues.map { "\($0.loc.dropFirst(2).joined(separator: ".")): \($0.msg)" }.joined(separator: "; ")
    }
}
