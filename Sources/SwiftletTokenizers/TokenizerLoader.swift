// Builds the tokenizer a GGUF file describes (tokenizer.ggml.model and tokenizer.ggml.pre), or the one a
// Hugging Face checkpoint folder's tokenizer.json describes.
import SwiftletFormats

/// Picks and builds the tokenizer named by a GGUF file's metadata or a checkpoint folder's tokenizer.json.
public enum TokenizerLoader {
    /// Supported `tokenizer.ggml.model` values.
    public static let supportedModels = ["gpt2 (byte-level BPE)", "llama (SentencePiece)"]

    /// The tokenizer of `gguf`. Throws a `TokenizerError` naming the supported kinds for an unknown
    /// `tokenizer.ggml.model` or `tokenizer.ggml.pre`.
    public static func load(gguf: GGUFFile) throws -> any Tokenizer {
        try load(gguf: gguf, preTokenizer: nil)
    }

    /// The tokenizer of `gguf`, with `preTokenizer` (a `tokenizer.ggml.pre` name) replacing the file's
    /// own for byte-level BPE vocabularies: lets one vocabulary exercise every pre-tokenizer.
    public static func load(gguf: GGUFFile, preTokenizer: String?) throws -> any Tokenizer {
        guard let model = gguf.metadata[Vocabulary.key("model")]?.string else {
            throw TokenizerError("\(gguf.path): no tokenizer.ggml.model in the metadata")
        }
        switch model {
        case "gpt2":
            let pre = preTokenizer ?? gguf.metadata[Vocabulary.key("pre")]?.string ?? "default"
            return try ByteLevelBPETokenizer(gguf: gguf, preName: pre)
        case "llama":
            return try SentencePieceTokenizer(gguf: gguf)
        default:
            throw TokenizerError("\(gguf.path): unsupported tokenizer.ggml.model \"\(model)\" "
                + "(supported: \(supportedModels.joined(separator: ", ")))")
        }
    }

    /// The tokenizer of the GGUF file at `path`.
    public static func load(path: String) throws -> any Tokenizer {
        try load(gguf: GGUFFile(path: path))
    }

    /// The tokenizer of a Hugging Face checkpoint folder: its tokenizer.json (byte-level BPE, SentencePiece-style
    /// BPE with byte fallback, or WordPiece, with their normalizers, pre-tokenizers, decoders, post-processor and
    /// added tokens), with bos/eos/addBOS from tokenizer_config.json when it names them. Ids and decoded text
    /// are those of the `tokenizers` library; `encodeWithSpecialTokens` adds the post-processor's tokens.
    /// Throws a `TokenizerError` naming the file and field of anything missing, malformed or unsupported.
    public static func load(folder: String) throws -> any Tokenizer {
        try HFTokenizer(folder: folder)
    }

    /// What a checkpoint folder's tokenizer_config.json says about prompts (special-token names, BOS/EOS
    /// flags, the chat template, with chat_template.jinja taking precedence). An absent config file gives an
    /// empty config; a malformed one throws a `TokenizerError`.
    public static func config(folder: String) throws -> HFTokenizerConfig {
        try HFTokenizerConfig(folder: folder)
    }
}
