// Hugging Face pre-tokenizers (tokenizer.json "pre_tokenizer"): split each normalized piece into words, as
// the `tokenizers` library does. Regex patterns are recognized by their text and run by the hand-written
// splitters of PreTokenizer.swift (no regex engine): GPT-2's, Llama 3's and Qwen 2's. Each JSON type is
// built by one table entry.

/// A piece of text between added tokens, split further by each pre-tokenizer.
struct TextPiece {
    var text: [Unicode.Scalar]
    /// Whether the piece starts at the beginning of the input (Metaspace's prepend_scheme "first").
    var atStart: Bool
}

/// What a split does with the pattern's matches (`SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable, CaseIterable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// What a split looks for.
enum SplitPattern: Sendable {
    case literal([Unicode.Scalar])
    /// A recognized regex, run by a hand-written splitter; those patterns match every character.
    case regex(PreTokenizer.Stage)
    /// Every whitespace character is one match.
    case whitespace
    /// Every BERT punctuation character (ASCII punctuation or Unicode P*) is one match.
    case bertPunctuation
    /// Every numeric character (Nd, Nl, No) is one match.
    case numeric
}

enum MetaspacePrepend: String, Sendable {
    case always, first, never
}

enum PreTokenizerStep: Sendable {
    case split(SplitPattern, SplitBehavior, invert: Bool)
    /// Optional leading space, optional GPT-2 regex split, then every byte becomes its GPT-2 stand-in.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Spaces become the replacement (`▁`), which is prepended per the scheme and optionally split on.
    case metaspace(replacement: Unicode.Scalar, prepend: MetaspacePrepend, split: Bool)
}

struct HFPreTokenizer: Sendable {
    let steps: [PreTokenizerStep]

    /// Regex texts of the Split patterns this file runs, and the splitter for each.
    static let knownRegexes: [String: PreTokenizer.Stage] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            .llama3(maxDigits: 3),
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            .llama3(maxDigits: 1),
    ]

    /// The pre-tokenizer a tokenizer.json `pre_tokenizer` node describes (none when null).
    init(_ node: JSONNode?) throws {
        steps = try node.map(Self.steps) ?? []
    }

    private static func steps(_ node: JSONNode) throws -> [PreTokenizerStep] {
        let type = try node.type()
        guard let build = builders[type] else {
            throw node.error("unsupported pre-tokenizer type \"\(type)\" (supported: \(builders.keys.sorted().joined(separator: ", ")))")
        }
        return try build(node)
    }

    private static let builders: [String: @Sendable (JSONNode) throws -> [PreTokenizerStep]] = [
        "Sequence": { n in try n.required("pretokenizers").array().flatMap(steps) },
        "Split": { n in
            [.split(try pattern(n.required("pattern")), try behavior(n.required("behavior")),
                    invert: try n.bool("invert", default: false))]
        },
        "ByteLevel": { n in
            [.byteLevel(addPrefixSpace: try n.bool("add_prefix_space", default: true), useRegex: try n.bool("use_regex", default: true))]
        },
        "Metaspace": { n in
            let replacement = Array(try n.string("replacement") ?? "▁")
            guard replacement.count == 1, let r = replacement[0].unicodeScalars.first,
                  replacement[0].unicodeScalars.count == 1 else {
                throw n.error("the Metaspace replacement must be one character")
            }
            let prepend: MetaspacePrepend
            if let scheme = try n.string("prepend_scheme") {
                guard let p = MetaspacePrepend(rawValue: scheme) else { throw n.error("unknown prepend_scheme \"\(scheme)\"") }
                prepend = p
            } else {
                prepend = try n.bool("add_prefix_space", default: true) ? .always : .never
            }
            return [.metaspace(replacement: r, prepend: prepend, split: try n.bool("split", default: true))]
        },
        "BertPreTokenizer": { _ in [.split(.whitespace, .removed, invert: false), .split(.bertPunctuation, .isolated, invert: false)] },
        "WhitespaceSplit": { _ in [.split(.whitespace, .removed, invert: false)] },
        "Digits": { n in [.split(.numeric, try n.bool("individual_digits", default: false) ? .isolated : .contiguous, invert: false)] },
    ]

    private static func pattern(_ node: JSONNode) throws -> SplitPattern {
        if let s = try node.string("String") { return .literal(Array(s.unicodeScalars)) }
        if let r = try node.string("Regex") {
            guard let stage = knownRegexes[r] else {
                throw node.error("unsupported Split regex \(r.debugDescription) (supported: the GPT-2, Llama 3 and Qwen 2 patterns)")
            }
            return .regex(stage)
        }
        throw node.error("expected {\"String\": ...} or {\"Regex\": ...}")
    }

    private static func behavior(_ node: JSONNode) throws -> SplitBehavior {
        let name = try node.string()
        // Older files spell them in lower case ("isolated").
        guard let b = SplitBehavior.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            throw node.error("unknown split behavior \"\(name)\"")
        }
        return b
    }

    var isEmpty: Bool { steps.isEmpty }

    /// The words of `pieces`, in order (empty words dropped).
    func apply(_ pieces: [TextPiece]) -> [TextPiece] {
        var current = pieces
        for step in steps {
            var out: [TextPiece] = []
            out.reserveCapacity(current.count * 2)
            for piece in current { Self.apply(step, piece, into: &out) }
            current = out
        }
        return current
    }

    private static func apply(_ step: PreTokenizerStep, _ piece: TextPiece, into out: inout [TextPiece]) {
        switch step {
        case .split(let pattern, let behavior, let invert):
            split(piece, pattern, behavior, invert: invert, into: &out)
        case .byteLevel(let addPrefixSpace, let useRegex):
            var p = piece
            if addPrefixSpace && p.text.first != " " { p.text.insert(" ", at: 0) }
            var words: [TextPiece] = []
            if useRegex { split(p, .regex(.gpt2), .isolated, invert: false, into: &words) } else { words = [p] }
            for var w in words {
                w.text = byteStandIns(w.text)
                out.append(w)
            }
        case .metaspace(let replacement, let prepend, let doSplit):
            var p = piece
            p.text = p.text.map { $0 == " " ? replacement : $0 }
            if p.text.first != replacement && (prepend == .always || (prepend == .first && p.atStart)) {
                p.text.insert(replacement, at: 0)
            }
            if doSplit { split(p, .literal([replacement]), .mergedWithNext, invert: false, into: &out) } else { out.append(p) }
        }
    }

    /// GPT-2's bytes_to_unicode stand-ins of the UTF-8 bytes of `text`.
    static func byteStandIns(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            for b in String(c).utf8 { out.append(standIn[Int(b)]) }
        }
        return out
    }

    static let standIn: [Unicode.Scalar] = ByteLevelBPETokenizer.byteStandIns().toStandIn.map { Unicode.Scalar($0)! }

    // MARK: splitting

    /// `NormalizedString::split`: the pattern's matches and the gaps between them, combined per `behavior`.
    private static func split(_ piece: TextPiece, _ pattern: SplitPattern, _ behavior: SplitBehavior, invert: Bool,
                              into out: inout [TextPiece]) {
        var entries = matches(piece.text, pattern)
        if invert { entries = entries.map { ($0.range, !$0.isMatch) } }
        var ranges: [Range<Int>] = []
        switch behavior {
        case .removed:
            ranges = entries.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            ranges = entries.map(\.range)
        case .mergedWithPrevious:
            var previousMatch = false
            for e in entries {
                if e.isMatch && !previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1] = last.lowerBound..<e.range.upperBound
                } else {
                    ranges.append(e.range)
                }
                previousMatch = e.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for e in entries.reversed() {
                if e.isMatch && !previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1] = e.range.lowerBound..<last.upperBound
                } else {
                    ranges.append(e.range)
                }
                previousMatch = e.isMatch
            }
            ranges.reverse()
        case .contiguous:
            var previousMatch = false
            for e in entries {
                if e.isMatch == previousMatch, let last = ranges.last {
                    ranges[ranges.count - 1] = last.lowerBound..<e.range.upperBound
                } else {
                    ranges.append(e.range)
                }
                previousMatch = e.isMatch
            }
        }
        for r in ranges where !r.isEmpty {
            out.append(TextPiece(text: Array(piece.text[r]), atStart: piece.atStart && r.lowerBound == 0))
        }
    }

    /// The matches of `pattern` in `text` and the gaps between them, in order, covering all of it.
    private static func matches(_ text: [Unicode.Scalar], _ pattern: SplitPattern) -> [(range: Range<Int>, isMatch: Bool)] {
        var entries: [(range: Range<Int>, isMatch: Bool)] = []
        var gap = 0
        func match(_ r: Range<Int>) {
            if gap < r.lowerBound { entries.append((gap..<r.lowerBound, false)) }
            entries.append((r, true))
            gap = r.upperBound
        }
        switch pattern {
        case .literal(let p):
            guard !p.isEmpty else { break }
            var i = 0
            while i + p.count <= text.count {
                if text[i] == p[0] && text[i..<(i + p.count)].elementsEqual(p) {
                    match(i..<(i + p.count))
                    i += p.count
                } else {
                    i += 1
                }
            }
        case .regex(let stage):
            for r in PreTokenizer(stages: [stage], ignoreMerges: false).split(text.map(\.value)) { match(r) }
        case .whitespace:
            for i in text.indices where text[i].properties.isWhitespace { match(i..<(i + 1)) }
        case .bertPunctuation:
            for i in text.indices where isBertPunctuation(text[i]) { match(i..<(i + 1)) }
        case .numeric:
            for i in text.indices where CodepointClass.of(text[i].value).contains(.number) { match(i..<(i + 1)) }
        }
        if gap < text.count { entries.append((gap..<text.count, false)) }
        return entries
    }

    private static func isBertPunctuation(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return (0x21...0x2F).contains(c.value) || (0x3A...0x40).contains(c.value)
            || (0x5B...0x60).contains(c.value) || (0x7B...0x7E).contains(c.value) }
        return CodepointClass.of(c.value).contains(.punctuation)
    }
}
