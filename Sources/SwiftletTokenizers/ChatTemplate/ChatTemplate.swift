// A chat template (Jinja subset, as transformers renders it) turning messages into a prompt.
import Foundation

/// A parsed chat template, rendered like `transformers`' `apply_chat_template`:
/// `trim_blocks` and `lstrip_blocks` on, keys whose value is None dropped, `raise_exception`
/// and `strftime_now` available.
public struct ChatTemplate: Sendable {
    private let nodes: [JinjaNode]

    /// Parses `source`; throws `ChatTemplateError.syntax` naming the line of the problem.
    public init(source: String) throws {
        nodes = try JinjaParser.parse(source)
    }

    /// Renders the conversation. `context` holds everything else the template receives
    /// (`add_generation_prompt`, `bos_token`, `tools`, ...). `now` is the clock read by `strftime_now`.
    public func render(messages: [JinjaValue], context: [String: JinjaValue], now: Date? = nil) throws -> String {
        var globals: [String: JinjaValue] = [:]
        for (k, v) in context where v != .null { globals[k] = v.droppingNulls }
        globals["messages"] = JinjaValue.array(messages).droppingNulls
        let evaluator = JinjaEvaluator(globals: globals, now: now ?? Date())
        var out = ""
        try evaluator.render(nodes, into: &out)
        return out
    }

    /// Renders messages given as dictionaries (key order within a message is then unspecified).
    public func render(messages: [[String: JinjaValue]], context: [String: JinjaValue], now: Date? = nil) throws -> String {
        try render(messages: messages.map { m in .object(JinjaObject(m.keys.sorted().map { ($0, m[$0]!) })) },
                   context: context, now: now)
    }
}
