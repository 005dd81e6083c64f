// Finds tokenizer.json's added tokens in text before the model sees it, with the rules of `tokenizers`'
// AddedVocabulary: leftmost-longest matching (not llama.cpp's longest-token-first of SpecialTokenMatcher),
// then each token's single_word / lstrip / rstrip flags. One matcher serves the tokens matched on the raw
// text, another those matched on normalized text.

struct AddedToken: Sendable {
    var id: Int32
    var content: String
    var special: Bool
    var singleWord: Bool
    var lstrip: Bool
    var rstrip: Bool
    var normalized: Bool
}

/// A run of text still to tokenize, or an added token.
enum AddedTokenSegment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

struct AddedTokenMatcher: Sendable {
    private struct Entry: Sendable {
        var id: Int32
        var length: Int
        var special: Bool
        var singleWord: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    private let entries: [Entry]
    /// Trie over the token texts (as matched): edges keyed by node and scalar; `terminal[node]` is an entry or -1.
    private let edges: [UInt64: Int32]
    private let terminal: [Int32]

    var isEmpty: Bool { entries.isEmpty }

    /// A matcher for `tokens`, each matched as its content.
    init(_ tokens: [AddedToken]) {
        var entries: [Entry] = []
        var edges: [UInt64: Int32] = [:]
        var terminal: [Int32] = [-1]
        for t in tokens {
            let scalars = Array(t.content.unicodeScalars)
            guard !scalars.isEmpty else { continue }
            var node: Int32 = 0
            for c in scalars {
                let key = UInt64(UInt32(node)) << 32 | UInt64(c.value)
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = next
                    node = next
                }
            }
            if terminal[Int(node)] < 0 {
                terminal[Int(node)] = Int32(entries.count)
                entries.append(Entry(id: t.id, length: scalars.count, special: t.special, singleWord: t.singleWord,
                                     lstrip: t.lstrip, rstrip: t.rstrip))
            }
        }
        self.entries = entries
        self.edges = edges
        self.terminal = terminal
    }

    /// The longest token starting at `start`, if any.
    private func longest(at start: Int, in text: [Unicode.Scalar]) -> Entry? {
        var node: Int32 = 0
        var best: Entry?
        var i = start
        while i < text.count, let next = edges[UInt64(UInt32(node)) << 32 | UInt64(text[i].value)] {
            node = next
            i += 1
            if terminal[Int(node)] >= 0 { best = entries[Int(terminal[Int(node)])] }
        }
        return best
    }

    /// Splits `text` into runs of text and added tokens. Without `parseSpecial`, special tokens are left as text.
    func split(_ text: [Unicode.Scalar], parseSpecial: Bool) -> [AddedTokenSegment] {
        if text.isEmpty { return [] }
        if entries.isEmpty { return [.text(0..<text.count)] }
        var found: [(start: Int, stop: Int, id: Int32)] = []
        var startOffset = 0  // end of the previous accepted token, with its stripped spaces
        var i = 0
        while i < text.count {
            guard let e = longest(at: i, in: text) else { i += 1; continue }
            var start = i, stop = i + e.length
            i = stop
            if e.special && !parseSpecial { continue }
            if e.singleWord {
                let startsWord = start > 0 && Self.isWordCharacter(text[start - 1])
                let endsWord = stop < text.count && Self.isWordCharacter(text[stop])
                if startsWord || endsWord { continue }
            }
            if e.lstrip {
                var s = start
                while s > 0 && text[s - 1].properties.isWhitespace { s -= 1 }
                start = max(s, startOffset)
            }
            if e.rstrip {
                while stop < text.count && text[stop].properties.isWhitespace { stop += 1 }
            }
            startOffset = stop
            found.append((start, stop, e.id))
        }
        var out: [AddedTokenSegment] = []
        var pos = 0
        for m in found {
            if m.start > pos { out.append(.text(pos..<m.start)) }
            out.append(.token(m.id))
            pos = max(pos, m.stop)
        }
        if pos < text.count { out.append(.text(pos..<text.count)) }
        return out
    }

    /// Rust regex's `\w`: alphabetic, marks, decimal digits, connector punctuation, join controls.
    private static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        let p = c.properties
        switch p.generalCategory {
        case .decimalNumber, .connectorPunctuation, .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return p.isAlphabetic || p.isJoinControl
        }
    }
}
