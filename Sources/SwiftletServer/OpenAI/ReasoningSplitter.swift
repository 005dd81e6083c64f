// Splits a reasoning model's output into reasoning (a leading <think>...</think> block) and the
// answer, piece by piece as it streams, holding back text that may be the start of a tag.

/// Separates a leading `<think>...</think>` block (reasoning_content) from the rest (content).
/// Only a block at the very start counts (leading whitespace allowed), or one the prompt opened:
/// templates such as Qwen3's or DeepSeek-R1's end the prompt with `<think>`, so the output starts inside it.
struct ReasoningSplitter {
    static let open = "<think>"
    static let close = "</think>"

    enum Phase { case start, thinking, afterThinking, answer }
    private(set) var phase: Phase
    /// Whether the output had a reasoning block (so a response carries reasoning_content).
    private(set) var hadReasoning: Bool
    private var held = ""
    private var atThinkingStart = true

    /// `promptOpensThinking`: the rendered prompt ends with `<think>` (whitespace aside).
    init(promptOpensThinking: Bool) {
        phase = promptOpensThinking ? .thinking : .start
        hadReasoning = promptOpensThinking
    }

    static func promptOpensThinking(_ prompt: String) -> Bool {
        prompt.trimmingTrailingWhitespace().hasSuffix(open)
    }

    /// Adds generated text; returns what can be shown now, as (reasoning, content).
    mutating func push(_ piece: String) -> (reasoning: String, content: String) {
        held += piece
        var reasoning = "", content = ""
        while true {
            switch phase {
            case .start:
                let trimmed = held.drop(while: \.isWhitespace)
                if trimmed.hasPrefix(Self.open) {
                    held = String(trimmed.dropFirst(Self.open.count))
                    phase = .thinking
                    hadReasoning = true
                } else if Self.open.hasPrefix(trimmed) {
                    return (reasoning, content)  // could still become "<think>"
                } else {
                    phase = .answer
                }
            case .thinking:
                // The newline templates put after <think>.
                if atThinkingStart {
                    if held.isEmpty { return (reasoning, content) }
                    if held.first?.isNewline == true { held.removeFirst() }
                    atThinkingStart = false
                }
                if let r = held.range(of: Self.close) {
                    reasoning += held[..<r.lowerBound]
                    held = String(held[r.upperBound...])
                    phase = .afterThinking
                } else {
                    let keep = Self.partialSuffix(of: held, prefixOf: Self.close)
                    reasoning += held.dropLast(keep)
                    held = String(held.suffix(keep))
                    return (reasoning, content)
                }
            case .afterThinking:
                // The blank lines templates put between the think block and the answer.
                held = String(held.drop(while: \.isWhitespace))
                if held.isEmpty { return (reasoning, content) }
                phase = .answer
            case .answer:
                content += held
                held = ""
                return (reasoning, content)
            }
        }
    }

    /// What is still held back at the end of generation, as (reasoning, content).
    mutating func finish() -> (reasoning: String, content: String) {
        defer { held = "" }
        switch phase {
        case .thinking: return (held, "")
        case .afterThinking: return ("", "")
        case .start, .answer: return ("", held)
        }
    }

    /// Length of the longest suffix of `text` that is a proper prefix of `tag`.
    static func partialSuffix(of text: String, prefixOf tag: String) -> Int {
        for n in stride(from: min(tag.count - 1, text.count), to: 0, by: -1) where text.hasSuffix(tag.prefix(n)) {
            return n
        }
        return 0
    }
}

extension String {
    func trimmingTrailingWhitespace() -> Substring {
        var s = self[...]
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
