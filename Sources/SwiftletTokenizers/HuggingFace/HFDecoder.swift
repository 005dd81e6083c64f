// Hugging Face decoders (tokenizer.json "decoder"), applied token by token: each token's text becomes bytes,
// and the first token of the output may be treated differently (Metaspace drops its `▁`, a Strip after Fuse
// drops the text's leading space, WordPiece puts no space before it). ByteFallback's bytes are concatenated
// as they come; `tokenizers` would replace an invalid run byte by byte, which only matters for text that
// is not valid UTF-8.

enum DecoderStep: Sendable {
    /// GPT-2 stand-in characters back to bytes (a token with any other character stays as it is).
    case byteLevel
    case replace(pattern: [UInt8], content: [UInt8])
    /// `<0xXX>` tokens become that byte.
    case byteFallback
    /// Joins the tokens: later steps see one text (only a leading Strip is then supported).
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` characters of each token, or of the
    /// first token only when `wholeText` (after Fuse).
    case strip(content: [UInt8], start: Int, stop: Int, wholeText: Bool)
    /// The replacement character becomes a space; the first token loses every one of them when `stripFirst`.
    case metaspace(replacement: [UInt8], stripFirst: Bool)
    /// A token with the prefix is glued to the previous one, others get a space; `cleanup` then removes the
    /// space before punctuation and contractions.
    case wordPiece(prefix: [UInt8], cleanup: Bool)
    /// No decoder: tokens joined with spaces.
    case joinWithSpaces
}

struct HFDecoder: Sendable {
    let steps: [DecoderStep]

    init(_ node: JSONNode?) throws {
        guard let node else {
            steps = [.joinWithSpaces]
            return
        }
        var steps: [DecoderStep] = []
        try Self.append(node, to: &steps)
        self.steps = steps
    }

    private static func append(_ node: JSONNode, to steps: inout [DecoderStep]) throws {
        let type = try node.type()
        guard let build = builders[type] else {
            throw node.error("unsupported decoder type \"\(type)\" (supported: \(builders.keys.sorted().joined(separator: ", ")))")
        }
        let fused = steps.contains { if case .fuse = $0 { return true } else { return false } }
        steps.append(contentsOf: try build(node, fused))
    }

    private static let builders: [String: @Sendable (JSONNode, Bool) throws -> [DecoderStep]] = [
        "Sequence": { n, _ in
            var steps: [DecoderStep] = []
            for d in try n.required("decoders").array() { try append(d, to: &steps) }
            return steps
        },
        "ByteLevel": { _, _ in [.byteLevel] },
        "ByteFallback": { _, _ in [.byteFallback] },
        "Fuse": { _, _ in [.fuse] },
        "Replace": { n, _ in
            [.replace(pattern: Array(HFNormalizer.string(try HFNormalizer.literalPattern(n.required("pattern"))).utf8),
                      content: Array(try n.required("content").string().utf8))]
        },
        "Strip": { n, fused in
            let start = try n.int("start") ?? 0, stop = try n.int("stop") ?? 0
            guard start >= 0, stop >= 0 else { throw n.error("Strip start and stop must not be negative") }
            if fused && stop > 0 { throw n.error("unsupported Strip of the end of fused text (stop \(stop))") }
            return [.strip(content: Array(try n.required("content").string().utf8), start: start, stop: stop, wholeText: fused)]
        },
        "Metaspace": { n, _ in
            let scheme = try n.string("prepend_scheme") ?? (try n.bool("add_prefix_space", default: true) ? "always" : "never")
            return [.metaspace(replacement: Array((try n.string("replacement") ?? "▁").utf8), stripFirst: scheme != "never")]
        },
        "WordPiece": { n, _ in
            [.wordPiece(prefix: Array((try n.string("prefix") ?? "##").utf8), cleanup: try n.bool("cleanup", default: true))]
        },
    ]

    /// Whether the first token of a text decodes differently from the same token later on.
    var treatsFirstTokenSpecially: Bool {
        steps.contains {
            switch $0 {
            case .metaspace(_, let stripFirst): return stripFirst
            case .strip(_, let start, _, let wholeText): return wholeText && start > 0
            case .wordPiece, .joinWithSpaces: return true
            default: return false
            }
        }
    }

    /// The bytes of a token with text `token` at position `first` (the first token of the text) or later.
    func decode(_ token: ArraySlice<UInt8>, first: Bool) -> [UInt8] {
        var t = Array(token)
        for step in steps { t = Self.apply(step, t, first: first) }
        return t
    }

    private static func apply(_ step: DecoderStep, _ t: [UInt8], first: Bool) -> [UInt8] {
        switch step {
        case .byteLevel: return byteLevel(t)
        case .replace(let pattern, let content): return replace(t, pattern, content)
        case .byteFallback:
            if t.count == 6, t.starts(with: Array("<0x".utf8)), t[5] == UInt8(ascii: ">"),
               let b = UInt8(String(decoding: t[3..<5], as: UTF8.self), radix: 16) {
                return [b]
            }
            return t
        case .fuse: return t
        case .strip(let content, let start, let stop, let wholeText):
            guard !content.isEmpty, !wholeText || first else { return t }
            var lo = 0, hi = t.count
            for _ in 0..<start where hi - lo >= content.count && t[lo..<(lo + content.count)].elementsEqual(content) { lo += content.count }
            for _ in 0..<stop where hi - lo >= content.count && t[(hi - content.count)..<hi].elementsEqual(content) { hi -= content.count }
            return Array(t[lo..<hi])
        case .metaspace(let replacement, let stripFirst):
            return replace(t, replacement, first && stripFirst ? [] : [0x20])
        case .wordPiece(let prefix, let cleanup):
            var out = t
            if !first {
                if !prefix.isEmpty && t.starts(with: prefix) { out = Array(t.dropFirst(prefix.count)) } else { out = [0x20] + t }
            }
            return cleanup ? Self.cleanup(out) : out
        case .joinWithSpaces:
            return first ? t : [0x20] + t
        }
    }

    private static func byteLevel(_ t: [UInt8]) -> [UInt8] {
        let standInToByte = HFDecoder.standInToByte
        var out: [UInt8] = []
        out.reserveCapacity(t.count)
        for c in String(decoding: t, as: UTF8.self).unicodeScalars {
            guard c.value < 0x144, standInToByte[Int(c.value)] >= 0 else { return t }
            out.append(UInt8(standInToByte[Int(c.value)]))
        }
        return out
    }

    private static let standInToByte = ByteLevelBPETokenizer.byteStandIns().fromStandIn

    static func replace(_ t: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, t.count >= pattern.count else { return t }
        var out: [UInt8] = []
        out.reserveCapacity(t.count)
        var i = 0
        while i < t.count {
            if i + pattern.count <= t.count && t[i] == pattern[0] && t[i..<(i + pattern.count)].elementsEqual(pattern) {
                out.append(contentsOf: content)
                i += pattern.count
            } else {
                out.append(t[i])
                i += 1
            }
        }
        return out
    }

    /// `tokenizers`' WordPiece cleanup replacements, in its order.
    private static let cleanups: [(from: [UInt8], to: [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    private static func cleanup(_ t: [UInt8]) -> [UInt8] {
        var out = t
        for (from, to) in cleanups { out = replace(out, from, to) }
        return out
    }
}
