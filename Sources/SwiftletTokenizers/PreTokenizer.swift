// Splits text into words before byte-level BPE, as the regex named by `tokenizer.ggml.pre` does in
// llama.cpp. Each pattern is hand-written over code points (no regex engine), mirroring llama.cpp's
// own hand-written splitters, including their reading of `\s+(?!\S)` and the optional-prefix rules.
// A pre-tokenizer is a list of stages; each stage splits every piece the previous one produced.

struct PreTokenizer: Sendable {
    enum Stage: Sendable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (GPT-2)
        case gpt2
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        /// (Llama 3); with `maxDigits` 1 it is Qwen 2's `\p{N}` variant.
        case llama3(maxDigits: Int)
        /// `\p{N}`: every number code point on its own.
        case eachNumber
        /// `\p{N}+`
        case numberRuns
        /// `[0-9][0-9][0-9]`
        case digitTriples
        /// `[\p{P}\$\+<=>\^~\|]+`
        case punctuationRuns
    }

    let stages: [Stage]
    /// Whether a whole word found in the vocabulary skips the merges (llama.cpp's `ignore_merges`).
    let ignoreMerges: Bool
    /// Whether prompts start with BOS when the file does not say (llama.cpp sets it for the Llama 3 family).
    var defaultAddBOS = false

    /// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` name, or nil if unsupported here.
    static func named(_ name: String) -> PreTokenizer? {
        families.first { $0.names.contains(name) }?.preTokenizer
    }

    /// Every supported `tokenizer.ggml.pre` name.
    static var supportedNames: [String] { families.flatMap(\.names) }

    /// llama.cpp's pre-tokenizer types this file implements, with the names that select them.
    private static let families: [(names: [String], preTokenizer: PreTokenizer)] = [
        // LLAMA_VOCAB_PRE_TYPE_DEFAULT
        (["default"], PreTokenizer(stages: [.punctuationRuns, .gpt2, .numberRuns, .digitTriples], ignoreMerges: false)),
        // GPT2, MPT, OLMO, JAIS, TRILLION, GRANITE_DOCLING
        (["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
          "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4", "trillion",
          "granite-docling"],
         PreTokenizer(stages: [.gpt2], ignoreMerges: false)),
        // STARCODER, REFACT, COMMAND_R, SMOLLM, CODESHELL, EXAONE, MINERVA, MELLUM2: digits one by one, then GPT-2
        (["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2"],
         PreTokenizer(stages: [.eachNumber, .gpt2], ignoreMerges: false)),
        // LLAMA3 (whole words found in the vocabulary skip the merges)
        (["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"],
         PreTokenizer(stages: [.llama3(maxDigits: 3)], ignoreMerges: true, defaultAddBOS: true)),
        // DBRX, SMAUG, CHATGLM4 (chatglm-bpe): the Llama 3 pattern with merges
        (["dbrx", "smaug-bpe", "chatglm-bpe"], PreTokenizer(stages: [.llama3(maxDigits: 3)], ignoreMerges: false)),
        // QWEN2, STABLELM2, HUNYUAN, SOLAR_OPEN, GROK_2: the Llama 3 pattern with single digits
        (["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2"],
         PreTokenizer(stages: [.llama3(maxDigits: 1)], ignoreMerges: false)),
    ]

    /// Word boundaries of `cps` as ranges of code point indices, in order, covering all of it.
    func split(_ cps: [UInt32]) -> [Range<Int>] {
        var pieces = [0..<cps.count]
        if cps.isEmpty { return [] }
        cps.withUnsafeBufferPointer { p in
            let classes = p.map { CodepointClass.of($0) }
            classes.withUnsafeBufferPointer { cl in
                for stage in stages {
                    var out: [Range<Int>] = []
                    out.reserveCapacity(pieces.count * 2)
                    var splitter = Splitter(cps: p, classes: cl, out: out)
                    for r in pieces { splitter.run(stage, r) }
                    pieces = splitter.out
                }
            }
        }
        return pieces
    }
}

private struct Splitter {
    let cps: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<CodepointClass>
    var out: [Range<Int>]

    static let outOfRange: UInt32 = 0xFFFF_FFFF

    mutating func run(_ stage: PreTokenizer.Stage, _ r: Range<Int>) {
        switch stage {
        case .gpt2: gpt2(r)
        case .llama3(let maxDigits): llama3(r, maxDigits: maxDigits)
        case .eachNumber: isolate(r) { c, _ in c.contains(.number) ? 1 : 0 }
        case .numberRuns: isolate(r) { [classes] c, i in
            var n = 0
            while i + n < r.upperBound && classes[i + n].contains(.number) { n += 1 }
            return n
        }
        case .digitTriples: isolate(r) { [cps] _, i in
            guard i + 3 <= r.upperBound else { return 0 }
            for k in 0..<3 where !(0x30...0x39).contains(cps[i + k]) { return 0 }
            return 3
        }
        case .punctuationRuns: isolate(r) { [cps, classes] _, i in
            var n = 0
            while i + n < r.upperBound && Self.isPunctuationRunMember(cps[i + n], classes[i + n]) { n += 1 }
            return n
        }
        }
    }

    static func isPunctuationRunMember(_ c: UInt32, _ cl: CodepointClass) -> Bool {
        if cl.contains(.punctuation) { return true }
        switch c {
        case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true  // $ + < = > ^ ~ |
        default: return false
        }
    }

    /// A regex search loop (as std::regex_iterator): at each position try a match (its length, 0 = none);
    /// matches and the gaps between them become pieces.
    private mutating func isolate(_ r: Range<Int>, _ match: (CodepointClass, Int) -> Int) {
        var gap = r.lowerBound
        var i = r.lowerBound
        while i < r.upperBound {
            let n = match(classes[i], i)
            if n > 0 {
                if gap < i { out.append(gap..<i) }
                out.append(i..<(i + n))
                i += n
                gap = i
            } else {
                i += 1
            }
        }
        if gap < r.upperBound { out.append(gap..<r.upperBound) }
    }

    // MARK: hand-written patterns (positions outside the piece read as "no class")

    @inline(__always) private func cpt(_ i: Int, _ r: Range<Int>) -> UInt32 {
        r.contains(i) ? cps[i] : Self.outOfRange
    }

    @inline(__always) private func cls(_ i: Int, _ r: Range<Int>) -> CodepointClass? {
        r.contains(i) ? classes[i] : nil
    }

    @inline(__always) private static func isLetter(_ c: CodepointClass?) -> Bool { c?.contains(.letter) ?? false }
    @inline(__always) private static func isNumber(_ c: CodepointClass?) -> Bool { c?.contains(.number) ?? false }
    @inline(__always) private static func isSpace(_ c: CodepointClass?) -> Bool { c?.contains(.whitespace) ?? false }
    /// `[^\s\p{L}\p{N}]` at a position inside the piece.
    @inline(__always) private static func isOther(_ c: CodepointClass?) -> Bool {
        guard let c else { return false }
        return c.isDisjoint(with: [.whitespace, .letter, .number])
    }

    /// Length of a contraction (`'s`, `'re`, ...) at `pos`, or 0.
    private func contraction(_ pos: Int, _ r: Range<Int>, caseInsensitive: Bool) -> Int {
        guard cps[pos] == 0x27, pos + 1 < r.upperBound else { return 0 }
        func lower(_ c: UInt32) -> UInt32 { caseInsensitive && (0x41...0x5A).contains(c) ? c + 32 : c }
        let n1 = lower(cpt(pos + 1, r))
        if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 { return 2 }  // s t m d
        if pos + 2 < r.upperBound {
            let n2 = lower(cpt(pos + 2, r))
            if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) { return 3 }  // re ve ll
        }
        return 0
    }

    private mutating func gpt2(_ r: Range<Int>) {
        var pos = r.lowerBound
        var prevEnd = pos
        func add(_ end: Int, _ out: inout [Range<Int>]) {
            if end > prevEnd { out.append(prevEnd..<end) }
            prevEnd = end
        }
        while pos < r.upperBound {
            let c = cps[pos]
            let n = contraction(pos, r, caseInsensitive: false)
            if n > 0 { pos += n; add(pos, &out); continue }

            var f2 = c == 0x20 ? cls(pos + 1, r) : classes[pos]
            if Self.isLetter(f2) {  // ' ?\p{L}+'
                if c == 0x20 { pos += 1 }
                while Self.isLetter(f2) { pos += 1; f2 = cls(pos, r) }
                add(pos, &out); continue
            }
            if Self.isNumber(f2) {  // ' ?\p{N}+'
                if c == 0x20 { pos += 1 }
                while Self.isNumber(f2) { pos += 1; f2 = cls(pos, r) }
                add(pos, &out); continue
            }
            if Self.isOther(f2) {  // ' ?[^\s\p{L}\p{N}]+'
                if c == 0x20 { pos += 1 }
                while Self.isOther(f2) { pos += 1; f2 = cls(pos, r) }
                add(pos, &out); continue
            }
            var spaces = 0
            while Self.isSpace(cls(pos + spaces, r)) { spaces += 1 }
            if spaces > 1 && cpt(pos + spaces, r) != Self.outOfRange {  // '\s+(?!\S)': leave one for the next word
                pos += spaces - 1; add(pos, &out); continue
            }
            if spaces > 0 { pos += spaces; add(pos, &out); continue }  // '\s+'
            pos += 1; add(pos, &out)
        }
    }

    private mutating func llama3(_ r: Range<Int>, maxDigits: Int) {
        var pos = r.lowerBound
        var prevEnd = pos
        func add(_ end: Int, _ out: inout [Range<Int>]) {
            if end > prevEnd { out.append(prevEnd..<end) }
            prevEnd = end
        }
        while pos < r.upperBound {
            let c = cps[pos]
            let f = classes[pos]
            let n = contraction(pos, r, caseInsensitive: true)
            if n > 0 { pos += n; add(pos, &out); continue }

            // '[^\r\n\p{L}\p{N}]?\p{L}+'
            if !(c == 0x0D || c == 0x0A || f.contains(.number)) {
                if f.contains(.letter) || Self.isLetter(cls(pos + 1, r)) {
                    pos += 1
                    while Self.isLetter(cls(pos, r)) { pos += 1 }
                    add(pos, &out); continue
                }
            }
            // '\p{N}{1,maxDigits}'
            if f.contains(.number) {
                var start = pos
                while Self.isNumber(cls(pos, r)) {
                    pos += 1
                    if pos - start >= maxDigits { add(pos, &out); start = pos }
                }
                add(pos, &out); continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            var f2 = c == 0x20 ? cls(pos + 1, r) : f
            if f2.map({ $0.isDisjoint(with: [.whitespace, .letter, .number]) }) ?? true {
                if c == 0x20 { pos += 1 }
                while Self.isOther(f2) { pos += 1; f2 = cls(pos, r) }
                var c2 = cpt(pos, r)
                while c2 == 0x0D || c2 == 0x0A { pos += 1; c2 = cpt(pos, r) }
                add(pos, &out); continue
            }
            var spaces = 0
            var lastNewlineEnd = 0
            while Self.isSpace(cls(pos + spaces, r)) {
                let c2 = cps[pos + spaces]
                if c2 == 0x0D || c2 == 0x0A { lastNewlineEnd = pos + spaces + 1 }
                spaces += 1
            }
            if lastNewlineEnd > 0 { pos = lastNewlineEnd; add(pos, &out); continue }  // '\s*[\r\n]+'
            if spaces > 1 && cpt(pos + spaces, r) != Self.outOfRange {  // '\s+(?!\S)'
                pos += spaces - 1; add(pos, &out); continue
            }
            if spaces > 0 { pos += spaces; add(pos, &out); continue }  // '\s+'
            pos += 1; add(pos, &out)
        }
    }
}
