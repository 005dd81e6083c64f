// The tokenizer contract shared by every vocabulary kind (byte-level BPE, SentencePiece, WordPiece), whether
// built from GGUF metadata or from a Hugging Face tokenizer.json.

/// Turns text into token ids and token ids back into bytes, exactly as llama.cpp does for the same GGUF
/// (or as Hugging Face `tokenizers` does for a tokenizer.json).
public protocol Tokenizer: Sendable {
    /// Number of tokens in the vocabulary.
    var vocabularySize: Int { get }
    /// Beginning-of-sequence token, if the vocabulary has one.
    var bos: Int32? { get }
    /// End-of-sequence token, if the vocabulary has one.
    var eos: Int32? { get }
    /// End-of-turn token (`<|im_end|>`, `<end_of_turn>`, ...), if found.
    var eot: Int32? { get }
    /// Whether prompts should start with `bos` (`tokenizer.ggml.add_bos_token`).
    var addBOS: Bool { get }
    /// Every token that ends generation: eos, eot and the end-of-turn-looking tokens llama.cpp recognizes by text.
    var endOfGeneration: Set<Int32> { get }

    /// Token ids of `text` (no BOS is added). With `parseSpecial`, the texts of control tokens
    /// (`<|im_start|>`, `<start_of_turn>`, ...) become those single tokens; user-defined tokens always do.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]

    /// The raw bytes token `id` stands for in output text: byte-level decoding for BPE, `▁` -> space and
    /// `<0xXX>` -> that byte for SentencePiece. Control tokens are empty unless `renderSpecial` is set.
    /// A piece may be an incomplete UTF-8 sequence; see `StreamingDetokenizer`.
    func bytes(of id: Int32, renderSpecial: Bool) -> [UInt8]

    /// The text of a token as stored in the vocabulary (`Ġthe`, `▁the`, `<0x0A>`), for diagnostics.
    func tokenText(_ id: Int32) -> String

    /// Whether the piece of the first token of a sequence loses one leading space when decoded
    /// (SentencePiece vocabularies that add a space prefix when encoding).
    var stripsLeadingSpace: Bool { get }

    /// Whether `id`, coming first, is the token whose leading space `stripsLeadingSpace` removes. The default:
    /// every token (llama.cpp's rule: an unrendered control token first means no space is removed). Hugging
    /// Face tokenizers skip unrendered special tokens, so the token after them comes first.
    func takesFirstPosition(_ id: Int32, renderSpecial: Bool) -> Bool

    /// The concatenated bytes of `ids` (see `bytes(of:renderSpecial:)`). The default drops one leading space
    /// from the first token's piece when `stripsLeadingSpace` is set, as llama.cpp does.
    func decodeBytes(_ ids: [Int32], renderSpecial: Bool) -> [UInt8]

    /// Token ids of `text` with every token the tokenizer adds around a single sequence: Hugging Face's
    /// `tokenizer(text)["input_ids"]` (`[CLS] ... [SEP]` for BERT), or llama.cpp's `add_special` (BOS when
    /// `addBOS`). Special-token texts are parsed.
    func encodeWithSpecialTokens(_ text: String) -> [Int32]
}

extension Tokenizer {
    /// Token ids of `text` with special-token texts parsed as special tokens.
    public func encode(_ text: String) -> [Int32] { encode(text, parseSpecial: true) }

    /// Token ids of a prompt: BOS first when the vocabulary asks for it (`addBOS`) and `addSpecial` is set,
    /// as llama.cpp's `llama_tokenize(add_special:)`.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let ids = encode(text, parseSpecial: parseSpecial)
        guard addSpecial, addBOS, let bos else { return ids }
        return [bos] + ids
    }

    /// Control tokens render as empty.
    public func bytes(of id: Int32) -> [UInt8] { bytes(of: id, renderSpecial: false) }

    /// Whether `id` ends generation.
    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGeneration.contains(id) }

    /// BOS first when `addBOS` is set.
    public func encodeWithSpecialTokens(_ text: String) -> [Int32] {
        encode(text, addSpecial: true, parseSpecial: true)
    }

    /// Every token takes the first position.
    public func takesFirstPosition(_ id: Int32, renderSpecial: Bool) -> Bool { true }

    /// Control tokens render as empty.
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] { decodeBytes(ids, renderSpecial: false) }

    /// The piece of the token taking the first position loses one leading space when `stripsLeadingSpace` is set.
    public func decodeBytes(_ ids: [Int32], renderSpecial: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        var first = true
        for id in ids {
            let piece = bytes(of: id, renderSpecial: renderSpecial)
            if first && stripsLeadingSpace && piece.first == 0x20 {
                out.append(contentsOf: piece.dropFirst())
            } else {
                out.append(contentsOf: piece)
            }
            if takesFirstPosition(id, renderSpecial: renderSpecial) { first = false }
        }
        return out
    }

    /// The text of `ids`; invalid UTF-8 (a sequence cut in the middle of a character) becomes U+FFFD.
    public func decode(_ ids: [Int32], renderSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }
}

/// Why a tokenizer could not be built from a GGUF file or a tokenizer.json.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
