// The token list of a GGUF file and what llama.cpp derives from it: attributes from token types,
// special ids, the end-of-generation set, and which tokens are matched as whole strings before
// tokenizing (control and user-defined tokens).
import SwiftletFormats

/// Token attributes as llama.cpp keeps them (`llama_token_attr`), derived from `tokenizer.ggml.token_type`.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let undefined = TokenAttributes(rawValue: 1 << 6)

    /// GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = .undefined
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

struct Vocabulary: Sendable {
    enum Kind: Sendable { case sentencePiece, bytePairEncoding }

    /// Token texts by id, and text -> id.
    let table: ByteStringTable
    var count: Int { table.count }
    let attributes: [TokenAttributes]
    let scores: [Float]
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let unk: Int32?
    let endOfGeneration: Set<Int32>
    let addBOS: Bool
    let addSpacePrefix: Bool
    let specials: SpecialTokenMatcher

    static func key(_ name: String) -> String { "tokenizer.ggml." + name }

    /// Texts of end-of-turn tokens, in the order llama.cpp tries them.
    static let endOfTurnTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                                 "<end_of_utterance>"]

    /// Texts of the tokens llama.cpp treats as ending generation.
    static let endOfGenerationTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                                       "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
                                       "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
                                       "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["]

    init(gguf: GGUFFile, kind: Kind, defaultAddBOS: Bool) throws {
        let md = gguf.metadata
        guard let tokenValues = md[Self.key("tokens")]?.array else {
            throw TokenizerError("\(gguf.path): no tokenizer.ggml.tokens in the metadata")
        }
        let n = tokenValues.count
        var table = ByteStringTable(expectedCount: n, expectedBytes: n * 8)
        for (i, v) in tokenValues.enumerated() {
            guard case .string(var s) = v else { throw TokenizerError("\(gguf.path): token \(i) is not a string") }
            if s.isEmpty { s = "[EMPTY_\(i)]" }  // as llama.cpp does
            s.withUTF8 { _ = table.append($0) }
        }
        self.table = table

        var attrs = [TokenAttributes](repeating: .normal, count: n)
        if let types = md[Self.key("token_type")]?.array {
            guard types.count >= n else { throw TokenizerError("\(gguf.path): fewer token types than tokens") }
            for i in 0..<n { attrs[i] = TokenAttributes(tokenType: types[i].int ?? 0) }
        }
        if let s = md[Self.key("scores")]?.floats {
            guard s.count >= n else { throw TokenizerError("\(gguf.path): fewer token scores than tokens") }
            scores = s
        } else {
            scores = [Float](repeating: 0, count: n)
        }

        func id(_ name: String, default d: Int32?) -> Int32? {
            var v = d
            if let x = v, x >= n { v = nil }
            if let x = md[Self.key(name)]?.int, x >= 0, x < n { v = Int32(x) }
            return v
        }
        switch kind {
        case .sentencePiece:
            bos = id("bos_token_id", default: 1)
            eos = id("eos_token_id", default: 2)
            unk = id("unknown_token_id", default: 0)
        case .bytePairEncoding:
            bos = id("bos_token_id", default: 11)
            eos = id("eos_token_id", default: 11)
            unk = id("unknown_token_id", default: nil)
        }
        var eot = id("eot_token_id", default: nil)
        var eom = id("eom_token_id", default: nil)
        var fimPad = id("fim_pad_token_id", default: nil)
        var fimRep = id("fim_rep_token_id", default: nil)
        var fimSep = id("fim_sep_token_id", default: nil)
        var fimPre = id("fim_pre_token_id", default: nil) ?? id("prefix_token_id", default: nil)
        var fimSuf = id("fim_suf_token_id", default: nil) ?? id("suffix_token_id", default: nil)
        var fimMid = id("fim_mid_token_id", default: nil) ?? id("middle_token_id", default: nil)

        addBOS = md[Self.key("add_bos_token")]?.bool ?? defaultAddBOS
        addSpacePrefix = md[Self.key("add_space_prefix")]?.bool ?? (kind == .sentencePiece)

        // Special tokens llama.cpp recognizes by their text; each found one is forced to be a control token.
        func find(_ texts: [String]) -> Int32? {
            for t in texts { if let i = table.find(t) { return i } }
            return nil
        }
        func detect(_ slot: inout Int32?, _ texts: [String]) {
            guard slot == nil, let i = find(texts) else { return }
            slot = i
            attrs[Int(i)].insert(.control)
        }
        detect(&eot, Self.endOfTurnTexts)
        detect(&eom, ["<|eom_id|>"])
        detect(&fimPre, ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                         "<|code_prefix|>", "<|prefix|>"])
        detect(&fimSuf, ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                         "<|code_suffix|>", "<|suffix|>"])
        detect(&fimMid, ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                         "<|code_middle|>", "<|middle|>"])
        detect(&fimPad, ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"])
        detect(&fimRep, ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"])
        detect(&fimSep, ["<|file_sep|>"])

        for i in 0..<n where attrs[i].contains(.control) {
            if table.bytes(Int32(i)).containsSubsequence(Array("unused".utf8)) { attrs[i].insert(.unused) }
        }

        var eog = Set<Int32>([fimPad, fimRep, fimSep].compactMap { $0 })
        for t in Self.endOfGenerationTexts {
            if let i = table.find(t) {
                eog.insert(i)
                attrs[Int(i)].insert(.control)
            }
        }
        // gpt-oss: these always render.
        for t in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let i = table.find(t) { attrs[Int(i)] = .userDefined }
        }
        for x in [eos, eot, eom] { if let x { eog.insert(x) } }
        // o200k_harmony / solar-open: "<|end|>" is not an end of generation there.
        let texts = Set(eog.map { Array(table.bytes($0)) })
        let has = { (s: String) in texts.contains(Array(s.utf8)) }
        if (has("<|return|>") && has("<|call|>") && has("<|end|>")) || (has("<|calls|>") && has("<|flush|>") && has("<|end|>")),
           let end = table.find("<|end|>") {
            eog.remove(end)
            attrs[Int(end)] = .userDefined
        }
        if (has("<|tool_response>") || has("<|plamo:eos|>")) && has("</s>"), let s = table.find("</s>") {
            eog.remove(s)
            attrs[Int(s)] = .normal
        }

        self.eot = eot
        self.endOfGeneration = eog
        self.attributes = attrs
        self.specials = SpecialTokenMatcher(table: table, attributes: attrs)
    }

    func isControl(_ id: Int32) -> Bool { attributes[Int(id)].contains(.control) }
}

extension ArraySlice where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        var i = startIndex
        while i + needle.count <= endIndex {
            if self[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
