// Hugging Face tokenizer models (tokenizer.json "model"): BPE over characters (byte-level when the
// ByteLevel pre-tokenizer has turned bytes into stand-in characters; SentencePiece-style with <0xXX> byte
// fallback and fused unknowns otherwise) and WordPiece (greedy longest-match with a "##" prefix).

/// Every token text by id (added tokens included), and the model's own vocabulary for lookups.
struct HFVocabulary: Sendable {
    /// Texts by id; only model-vocabulary texts can be found (added tokens are matched before the model).
    let table: ByteStringTable
    var count: Int { table.count }

    /// The largest token id accepted (ids index arrays as long as the vocabulary).
    static let maxTokenID = 1 << 24

    /// Builds the id -> text table from the model's `vocab` and the added tokens (ids already range-checked).
    init(model: [(text: String, id: Int32)], added: [AddedToken]) {
        var maxID = -1
        for (_, id) in model { maxID = max(maxID, Int(id)) }
        for t in added { maxID = max(maxID, Int(t.id)) }
        var texts = [String?](repeating: nil, count: maxID + 1)
        var inModel = [Bool](repeating: false, count: maxID + 1)
        for (text, id) in model {
            texts[Int(id)] = text
            inModel[Int(id)] = true
        }
        for t in added where texts[Int(t.id)] == nil { texts[Int(t.id)] = t.content }
        var table = ByteStringTable(expectedCount: texts.count, expectedBytes: texts.count * 8)
        for (id, text) in texts.enumerated() {
            var s = text ?? ""
            if inModel[id] { s.withUTF8 { _ = table.append($0) } } else { table.appendUnfindable(Array(s.utf8)) }
        }
        self.table = table
    }

    func find(_ text: String) -> Int32? { table.find(text) }

    func find(_ bytes: [UInt8]) -> Int32? { table.find(bytes) }

    func text(_ id: Int32) -> ArraySlice<UInt8> { table.bytes(id) }
}

/// A tokenizer.json model: turns one pre-tokenized word into ids.
protocol HFModel: Sendable {
    func encode(_ word: [Unicode.Scalar], vocab: HFVocabulary, into out: inout [Int32])
}

enum HFModels {
    /// Builds the model a tokenizer.json `model` node describes, with its vocabulary.
    static func build(_ node: JSONNode, added: [AddedToken]) throws -> (any HFModel, HFVocabulary) {
        // Files written before "type" existed are BPE when they have merges.
        let type = try node.string("type") ?? (node["merges"] != nil ? "BPE" : "")
        guard let build = builders[type] else {
            throw node.error("unsupported model type \"\(type)\" (supported: \(builders.keys.sorted().joined(separator: ", ")))")
        }
        let entries = try node.required("vocab").members().map { (text: $0.key, id: try $0.value.tokenID()) }
        var seen = Set<Int32>()
        for e in entries where !seen.insert(e.id).inserted {
            throw node.error("vocab: token id \(e.id) is used twice (again by \(e.text.debugDescription))")
        }
        let vocab = HFVocabulary(model: entries, added: added)
        return (try build(node, vocab), vocab)
    }

    private static let builders: [String: @Sendable (JSONNode, HFVocabulary) throws -> any HFModel] = [
        "BPE": { try HFBPEModel($0, vocab: $1) },
        "WordPiece": { try HFWordPieceModel($0, vocab: $1) },
    ]

    static func utf8(_ scalars: some Collection<Unicode.Scalar>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(scalars.count)
        for c in scalars { out.append(contentsOf: String(c).utf8) }
        return out
    }
}

struct HFBPEModel: HFModel {
    let merges: BPEMerges
    let unk: Int32?
    let byteFallback: Bool
    let fuseUnk: Bool
    /// Whether a word found whole in the vocabulary skips the merges.
    let ignoreMerges: Bool
    /// The <0xXX> token of each byte, or -1.
    let byteTokens: [Int32]

    init(_ node: JSONNode, vocab: HFVocabulary) throws {
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = try node.string(key), !v.isEmpty { throw node.error("unsupported BPE \(key) \(v.debugDescription)") }
        }
        if let p = node["dropout"]?.numberValue, p > 0 { throw node.error("unsupported BPE dropout \(p)") }
        byteFallback = try node.bool("byte_fallback", default: false)
        fuseUnk = try node.bool("fuse_unk", default: false)
        ignoreMerges = try node.bool("ignore_merges", default: false)
        if let name = try node.string("unk_token") {
            guard let id = vocab.find(name) else { throw node.error("unk_token \(name.debugDescription) is not in the vocabulary") }
            unk = id
        } else {
            unk = nil
        }
        byteTokens = (0..<256).map { vocab.find("<0x\(String(format2X: UInt8($0)))>") ?? -1 }

        let list = try node["merges"]?.array() ?? []
        var merges = BPEMerges(capacity: list.count)
        for (rank, m) in list.enumerated() {
            let left: String, right: String
            if let s = m.stringValue {
                // "left right": tokens of this form cannot contain a space.
                guard let sp = s.dropFirst().firstIndex(of: " ") else { throw m.error("expected \"left right\"") }
                left = String(s[..<sp])
                right = String(s[s.index(after: sp)...])
            } else {
                let pair = try m.array()
                guard pair.count == 2 else { throw m.error("expected [left, right]") }
                left = try pair[0].string()
                right = try pair[1].string()
            }
            guard let l = vocab.find(left), let r = vocab.find(right) else {
                throw m.error("merge token \(vocab.find(left) == nil ? left.debugDescription : right.debugDescription) is not in the vocabulary")
            }
            guard let merged = vocab.find(left + right) else {
                throw m.error("merged token \((left + right).debugDescription) is not in the vocabulary")
            }
            merges.add(left: l, right: r, merged: merged, rank: rank)
        }
        self.merges = merges
    }

    func encode(_ word: [Unicode.Scalar], vocab: HFVocabulary, into out: inout [Int32]) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = vocab.find(HFModels.utf8(word)) {
            out.append(id)
            return
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnk = false
        for c in word {
            let bytes = Array(String(c).utf8)
            if let id = vocab.find(bytes) {
                symbols.append(id)
                pendingUnk = false
                continue
            }
            if byteFallback {
                let ids = bytes.map { byteTokens[Int($0)] }
                if ids.allSatisfy({ $0 >= 0 }) {
                    symbols.append(contentsOf: ids)
                    continue
                }
            }
            guard let unk else { continue }  // no unk token: the character is dropped, as `tokenizers` does
            if !(fuseUnk && pendingUnk) { symbols.append(unk) }
            pendingUnk = true
        }
        out.append(contentsOf: merges.apply(symbols))
    }
}

struct HFWordPieceModel: HFModel {
    let unk: Int32
    let prefix: [UInt8]
    let maxInputChars: Int

    init(_ node: JSONNode, vocab: HFVocabulary) throws {
        let name = try node.string("unk_token") ?? "[UNK]"
        guard let id = vocab.find(name) else { throw node.error("unk_token \(name.debugDescription) is not in the vocabulary") }
        unk = id
        prefix = Array((try node.string("continuing_subword_prefix") ?? "##").utf8)
        maxInputChars = try node.int("max_input_chars_per_word") ?? 100
    }

    /// Greedy longest match from the left; a word with any unmatched rest is one unknown token.
    func encode(_ word: [Unicode.Scalar], vocab: HFVocabulary, into out: inout [Int32]) {
        guard !word.isEmpty else { return }
        guard word.count <= maxInputChars else { out.append(unk); return }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                let text = (start > 0 ? prefix : []) + HFModels.utf8(word[start..<end])
                if let id = vocab.find(text) { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unk); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }
}
