// Turns a stream of token ids into text chunks that are always whole UTF-8 characters: bytes of a
// character split across tokens (byte-fallback tokens, byte-level BPE pieces) are held back until the
// character is complete.

/// Incremental detokenizer: `append` returns the text that became complete, `flush` the remainder.
/// The concatenation of everything returned equals `tokenizer.decode(ids)`.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let renderSpecial: Bool
    private var pending: [UInt8] = []
    private var first = true

    public init(tokenizer: any Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token; returns the newly completed text (possibly empty).
    public mutating func append(_ id: Int32) -> String {
        var piece = tokenizer.bytes(of: id, renderSpecial: renderSpecial)
        if first && tokenizer.stripsLeadingSpace && piece.first == 0x20 { piece.removeFirst() }
        if tokenizer.takesFirstPosition(id, renderSpecial: renderSpecial) { first = false }
        pending.append(contentsOf: piece)
        let cut = pending.count - Self.incompleteSuffixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is held back (an incomplete character becomes U+FFFD) and resets the state.
    public mutating func flush() -> String {
        defer { pending.removeAll(); first = true }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of a trailing sequence that is a valid but unfinished UTF-8 character (0 if none).
    static func incompleteSuffixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        if n == 0 { return 0 }
        for k in 1...min(3, n) {
            let lead = b[n - k]
            if lead & 0xC0 == 0x80 { continue }  // continuation byte: keep looking for the lead
            let need: Int
            switch lead {
            case 0xC2...0xDF: need = 2
            case 0xE0...0xEF: need = 3
            case 0xF0...0xF4: need = 4
            default: return 0
            }
            guard k < need else { return 0 }
            // The second byte's allowed range depends on the lead (no overlongs, surrogates, > U+10FFFF).
            if k >= 2 {
                let second = b[n - k + 1]
                let ok: Bool
                switch lead {
                case 0xE0: ok = (0xA0...0xBF).contains(second)
                case 0xED: ok = (0x80...0x9F).contains(second)
                case 0xF0: ok = (0x90...0xBF).contains(second)
                case 0xF4: ok = (0x80...0x8F).contains(second)
                default: ok = true
                }
                if !ok { return 0 }
            }
            return k
        }
        return 0
    }
}
