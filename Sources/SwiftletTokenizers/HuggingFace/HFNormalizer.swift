// Hugging Face normalizers (tokenizer.json "normalizer"): rewrite the text of each piece between added tokens
// before it is split into words, as the `tokenizers` library does. Each JSON type is built by one table entry.
import Foundation

enum NormalizerStep: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Prepends the text to a non-empty piece (SentencePiece's dummy prefix `▁`).
    case prepend([Unicode.Scalar])
    /// Replaces every occurrence of a literal pattern, left to right.
    case replace(pattern: [Unicode.Scalar], content: [Unicode.Scalar])
    /// Removes leading and/or trailing whitespace.
    case strip(left: Bool, right: Bool)
    /// Removes nonspacing marks (after an NFD step, accents).
    case stripAccents
    case bert(BertNormalization)
}

struct BertNormalization: Sendable {
    var cleanText: Bool
    var handleChineseChars: Bool
    var stripAccents: Bool
    var lowercase: Bool
}

struct HFNormalizer: Sendable {
    let steps: [NormalizerStep]

    var isEmpty: Bool { steps.isEmpty }

    /// The normalizer a tokenizer.json `normalizer` node describes (none when null).
    init(_ node: JSONNode?) throws {
        steps = try node.map(Self.steps) ?? []
    }

    private static func steps(_ node: JSONNode) throws -> [NormalizerStep] {
        let type = try node.type()
        guard let build = builders[type] else {
            throw node.error("unsupported normalizer type \"\(type)\" (supported: \(builders.keys.sorted().joined(separator: ", ")))")
        }
        return try build(node)
    }

    private static let builders: [String: @Sendable (JSONNode) throws -> [NormalizerStep]] = [
        "Sequence": { n in try n.required("normalizers").array().flatMap(steps) },
        "NFC": { _ in [.nfc] },
        "NFD": { _ in [.nfd] },
        "NFKC": { _ in [.nfkc] },
        "NFKD": { _ in [.nfkd] },
        "Lowercase": { _ in [.lowercase] },
        "StripAccents": { _ in [.stripAccents] },
        "Strip": { n in [.strip(left: try n.bool("strip_left", default: true), right: try n.bool("strip_right", default: true))] },
        "Prepend": { n in [.prepend(Array(try n.required("prepend").string().unicodeScalars))] },
        "Replace": { n in
            [.replace(pattern: try literalPattern(n.required("pattern")), content: Array(try n.required("content").string().unicodeScalars))]
        },
        "BertNormalizer": { n in
            let lowercase = try n.bool("lowercase", default: true)
            return [.bert(BertNormalization(cleanText: try n.bool("clean_text", default: true),
                                            handleChineseChars: try n.bool("handle_chinese_chars", default: true),
                                            stripAccents: try n["strip_accents"]?.bool() ?? lowercase,
                                            lowercase: lowercase))]
        },
    ]

    /// A `{"String": ...}` pattern; `{"Regex": ...}` patterns are not supported in normalizers.
    static func literalPattern(_ node: JSONNode) throws -> [Unicode.Scalar] {
        if let s = try node.string("String") { return Array(s.unicodeScalars) }
        if let r = try node.string("Regex") { throw node.error("unsupported regex pattern \(r.debugDescription) (only literal String patterns)") }
        throw node.error("expected {\"String\": ...}")
    }

    func apply(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s = text
        for step in steps { s = Self.apply(step, s) }
        return s
    }

    private static func apply(_ step: NormalizerStep, _ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch step {
        case .nfc: return Array(string(s).precomposedStringWithCanonicalMapping.unicodeScalars)
        case .nfd: return nfd(s)
        case .nfkc: return Array(string(s).precomposedStringWithCompatibilityMapping.unicodeScalars)
        case .nfkd: return Array(string(s).decomposedStringWithCompatibilityMapping.unicodeScalars)
        case .lowercase: return lowercase(s)
        case .prepend(let p): return s.isEmpty ? s : p + s
        case .replace(let pattern, let content): return replace(s, pattern, content)
        case .strip(let left, let right):
            var lo = 0, hi = s.count
            if left { while lo < hi && s[lo].properties.isWhitespace { lo += 1 } }
            if right { while hi > lo && s[hi - 1].properties.isWhitespace { hi -= 1 } }
            return Array(s[lo..<hi])
        case .stripAccents: return s.filter { $0.properties.generalCategory != .nonspacingMark }
        case .bert(let b): return bert(b, s)
        }
    }

    static func string(_ s: [Unicode.Scalar]) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s)
        return String(v)
    }

    private static func nfd(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        Array(string(s).decomposedStringWithCanonicalMapping.unicodeScalars)
    }

    /// Full lowercase mapping of each scalar (as Rust's `char::to_lowercase`).
    private static func lowercase(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for c in s {
            if (0x41...0x5A).contains(c.value) {
                out.append(Unicode.Scalar(UInt8(c.value + 0x20)))
            } else if c.isASCII {
                out.append(c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    static func replace(_ s: [Unicode.Scalar], _ pattern: [Unicode.Scalar], _ content: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard !pattern.isEmpty, s.count >= pattern.count else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + pattern.count <= s.count && s[i] == pattern[0] && s[i..<(i + pattern.count)].elementsEqual(pattern) {
                out.append(contentsOf: content)
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// BertNormalizer: drop control characters and map whitespace to a space, pad CJK ideographs with spaces,
    /// strip accents (NFD without nonspacing marks), lowercase.
    private static func bert(_ b: BertNormalization, _ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for c in s {
            if b.cleanText {
                if c.value == 0 || c.value == 0xFFFD || isBertControl(c) { continue }
                if isBertWhitespace(c) { out.append(" "); continue }
            }
            if b.handleChineseChars && isChineseChar(c.value) {
                out.append(contentsOf: [" ", c, " "])
            } else {
                out.append(c)
            }
        }
        if b.stripAccents { out = nfd(out).filter { $0.properties.generalCategory != .nonspacingMark } }
        if b.lowercase { out = lowercase(out) }
        return out
    }

    private static func isBertWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    /// Rust's `is_other` (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return.
    private static func isBertControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        switch c.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// The CJK ideograph blocks `tokenizers` spaces out (its table, including its 0x2B920 lower bound).
    private static func isChineseChar(_ c: UInt32) -> Bool {
        chineseRanges.contains { $0.contains(c) }
    }

    private static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
        0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F,
    ]
}
