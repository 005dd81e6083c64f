// A tokenizer built from a Hugging Face checkpoint folder's tokenizer.json (with tokenizer_config.json), run
// the way the `tokenizers` library runs it: added tokens are found first (on the raw text, then on the
// normalized text), each remaining piece is normalized, split into words by the pre-tokenizer and encoded
// by the model (BPE or WordPiece); the post-processor's tokens are added only by `encodeWithSpecialTokens`
// (or as BOS by `encode(_:addSpecial:parseSpecial:)`). Truncation and padding settings are ignored.
import Foundation

struct HFTokenizer: Tokenizer {
    let vocab: HFVocabulary
    let normalizer: HFNormalizer
    let preTokenizer: HFPreTokenizer
    let model: any HFModel
    let decoder: HFDecoder
    let postProcessor: HFPostProcessor
    /// Added tokens matched on the raw text, and those matched on normalized text.
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    /// Whether each id is a special added token (skipped when decoding unless rendered).
    let special: [Bool]

    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let addBOS: Bool
    let endOfGeneration: Set<Int32>

    var vocabularySize: Int { vocab.count }
    var stripsLeadingSpace: Bool { decoder.treatsFirstTokenSpecially }

    /// Builds the tokenizer of checkpoint folder `folder`.
    init(folder: String) throws {
        let file = URL(fileURLWithPath: folder).appendingPathComponent("tokenizer.json").path
        guard FileManager.default.fileExists(atPath: file) else {
            throw TokenizerError("\(folder): no tokenizer.json in the folder")
        }
        guard let root = try JSONNode.read(file) else { throw TokenizerError("\(file): cannot read the file") }
        try self.init(json: root, config: HFTokenizerConfig(folder: folder))
    }

    init(json root: JSONNode, config: HFTokenizerConfig) throws {
        let normalizer = try HFNormalizer(root["normalizer"])
        self.normalizer = normalizer
        let declared = try (root["added_tokens"]?.array() ?? []).map(Self.addedToken)
        // A normalized added token is matched, and decoded, as its normalized text (as `tokenizers` does).
        let added = declared.map { t in
            var t = t
            if t.normalized { t.content = HFNormalizer.string(normalizer.apply(Array(t.content.unicodeScalars))) }
            return t
        }
        let (model, vocab) = try HFModels.build(root.required("model"), added: added)
        self.model = model
        self.vocab = vocab
        preTokenizer = try HFPreTokenizer(root["pre_tokenizer"])
        decoder = try HFDecoder(root["decoder"])
        postProcessor = try HFPostProcessor(root["post_processor"])
        for id in postProcessor.prefix + postProcessor.suffix where id < 0 || Int(id) >= vocab.count {
            throw root.error("post_processor: token id \(id) is outside the vocabulary")
        }

        rawAddedTokens = AddedTokenMatcher(added.filter { !$0.normalized })
        normalizedAddedTokens = AddedTokenMatcher(added.filter(\.normalized))
        var special = [Bool](repeating: false, count: vocab.count)
        for t in added where t.special { special[Int(t.id)] = true }
        self.special = special

        // Special ids: the config names them; else the post-processor's single token before / after.
        let specialIDs = Dictionary(declared.map { ($0.content, $0.id) }, uniquingKeysWith: { a, _ in a })
        func id(_ text: String?) -> Int32? { text.flatMap { specialIDs[$0] ?? vocab.find($0) } }
        let prefix = postProcessor.prefix, suffix = postProcessor.suffix
        bos = id(config.bosToken) ?? (prefix.count == 1 ? prefix[0] : nil)
        eos = id(config.eosToken) ?? (suffix.count == 1 ? suffix[0] : nil)
        addBOS = config.addBOS ?? (bos != nil && prefix == [bos!])
        eot = Vocabulary.endOfTurnTexts.lazy.compactMap { specialIDs[$0] }.first
        var eog = Set([eos, eot].compactMap { $0 })
        for t in declared where t.special && Vocabulary.endOfGenerationTexts.contains(t.content) { eog.insert(t.id) }
        endOfGeneration = eog
    }

    private static func addedToken(_ n: JSONNode) throws -> AddedToken {
        let special = try n.bool("special", default: false)
        return AddedToken(id: try n.required("id").tokenID(), content: try n.required("content").string(), special: special,
                          singleWord: try n.bool("single_word", default: false), lstrip: try n.bool("lstrip", default: false),
                          rstrip: try n.bool("rstrip", default: false), normalized: try n.bool("normalized", default: !special))
    }

    // MARK: encoding

    func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var out: [Int32] = []
        out.reserveCapacity(scalars.count / 3)
        var cache: [[Unicode.Scalar]: [Int32]] = [:]
        for segment in rawAddedTokens.split(scalars, parseSpecial: parseSpecial) {
            switch segment {
            case .token(let id): out.append(id)
            case .text(let r):
                let normalized = normalizer.apply(Array(scalars[r]))
                for inner in normalizedAddedTokens.split(normalized, parseSpecial: parseSpecial) {
                    switch inner {
                    case .token(let id): out.append(id)
                    case .text(let r2):
                        let piece = TextPiece(text: Array(normalized[r2]), atStart: r.lowerBound == 0 && r2.lowerBound == 0)
                        for word in preTokenizer.apply([piece]) { encodeWord(word.text, into: &out, cache: &cache) }
                    }
                }
            }
        }
        return out
    }

    private func encodeWord(_ word: [Unicode.Scalar], into out: inout [Int32], cache: inout [[Unicode.Scalar]: [Int32]]) {
        if let ids = cache[word] {
            out.append(contentsOf: ids)
            return
        }
        var ids: [Int32] = []
        model.encode(word, vocab: vocab, into: &ids)
        if cache.count < 1 << 16 { cache[word] = ids }
        out.append(contentsOf: ids)
    }

    /// The post-processor's tokens around the encoding, as `tokenizer(text)["input_ids"]`.
    func encodeWithSpecialTokens(_ text: String) -> [Int32] {
        postProcessor.prefix + encode(text, parseSpecial: true) + postProcessor.suffix
    }

    // MARK: decoding

    private func inRange(_ id: Int32) -> Bool { id >= 0 && Int(id) < vocab.count }

    /// A token later in the text; special tokens are empty unless rendered.
    func bytes(of id: Int32, renderSpecial: Bool) -> [UInt8] {
        guard inRange(id), renderSpecial || !special[Int(id)] else { return [] }
        return decoder.decode(vocab.text(id), first: false)
    }

    /// Unrendered special tokens are skipped before decoding, so the token after them comes first.
    func takesFirstPosition(_ id: Int32, renderSpecial: Bool) -> Bool {
        inRange(id) && (renderSpecial || !special[Int(id)])
    }

    /// As `tokenizers`' `decode(ids, skip_special_tokens: !renderSpecial)`: the first token kept is the one
    /// the decoder treats as first.
    func decodeBytes(_ ids: [Int32], renderSpecial: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        var first = true
        for id in ids where takesFirstPosition(id, renderSpecial: renderSpecial) {
            out.append(contentsOf: decoder.decode(vocab.text(id), first: first))
            first = false
        }
        return out
    }

    func tokenText(_ id: Int32) -> String {
        guard inRange(id) else { return "" }
        return String(decoding: vocab.text(id), as: UTF8.self)
    }
}
