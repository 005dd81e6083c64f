// Reasoning models write their reasoning between think tags before the answer; this keeps the two apart.
import Foundation

/// Splits a reasoning model's output into its reasoning and its answer.
public enum ThinkSplit {
    public static let open = "<think>"
    public static let close = "</think>"

    /// (reasoning, answer): the text inside the first think block, and everything after it. Text
    /// with no block is all answer; a block never closed (the budget ran out) is all reasoning.
    /// `startsInside` is for templates that open the block in the prompt.
    public static func split(_ text: String, startsInside: Bool = false) -> (reasoning: String?, answer: String) {
        var body = Substring(text)
        if !startsInside {
            let trimmed = body.drop { $0.isWhitespace }
            guard trimmed.hasPrefix(open) else { return (nil, text) }
            body = trimmed.dropFirst(open.count)
        }
        guard let end = body.range(of: close) else {
            return (String(body).trimmingCharacters(in: .whitespacesAndNewlines), "")
        }
        let reasoning = body[..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = body[end.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        return (reasoning, answer)
    }
}
