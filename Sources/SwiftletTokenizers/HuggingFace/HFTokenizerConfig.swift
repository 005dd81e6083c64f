// tokenizer_config.json: the special-token names, BOS/EOS flags and chat template that transformers keeps
// beside tokenizer.json. A sibling chat_template.jinja (or chat_template.json) overrides the config's template.
import Foundation

/// What a checkpoint folder's tokenizer_config.json says about prompts (every field nil when not stated).
public struct HFTokenizerConfig: Sendable, Equatable {
    /// `bos_token` (a string or `{"content": ...}`).
    public var bosToken: String?
    /// `eos_token`.
    public var eosToken: String?
    /// `unk_token`.
    public var unkToken: String?
    /// `pad_token`.
    public var padToken: String?
    /// `add_bos_token`: whether transformers puts BOS before a prompt (overrides the post-processor's choice).
    public var addBOS: Bool?
    /// `add_eos_token`.
    public var addEOS: Bool?
    /// The chat template: chat_template.jinja if present, else chat_template.json's, else the config's
    /// `chat_template` (a string, or the entry named "default" of a list of `{name, template}`).
    public var chatTemplate: String?
    /// `model_max_length` (nil when absent or transformers' "very large" placeholder).
    public var modelMaxLength: Int?
    /// `tokenizer_class` (`LlamaTokenizer`, `Qwen2Tokenizer`, `BertTokenizer`, ...).
    public var tokenizerClass: String?

    public init(bosToken: String? = nil, eosToken: String? = nil, unkToken: String? = nil, padToken: String? = nil,
                addBOS: Bool? = nil, addEOS: Bool? = nil, chatTemplate: String? = nil, modelMaxLength: Int? = nil,
                tokenizerClass: String? = nil) {
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.unkToken = unkToken
        self.padToken = padToken
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
        self.modelMaxLength = modelMaxLength
        self.tokenizerClass = tokenizerClass
    }

    /// The config of the checkpoint folder `folder`; an absent tokenizer_config.json gives an empty config.
    init(folder: String) throws {
        self.init()
        let dir = URL(fileURLWithPath: folder)
        if let config = try JSONNode.read(dir.appendingPathComponent("tokenizer_config.json").path, optional: true) {
            bosToken = try Self.tokenName(config["bos_token"])
            eosToken = try Self.tokenName(config["eos_token"])
            unkToken = try Self.tokenName(config["unk_token"])
            padToken = try Self.tokenName(config["pad_token"])
            addBOS = try config["add_bos_token"]?.bool()
            addEOS = try config["add_eos_token"]?.bool()
            if let t = config["chat_template"] { chatTemplate = try Self.template(t) }
            // transformers writes int(1e30) when the model states no limit.
            if let n = config["model_max_length"]?.numberValue, n >= 0, n < 1e15 { modelMaxLength = Int(n) }
            tokenizerClass = try config.string("tokenizer_class")
        }
        if let json = try JSONNode.read(dir.appendingPathComponent("chat_template.json").path, optional: true),
           let t = json["chat_template"] {
            chatTemplate = try Self.template(t)
        }
        let jinja = dir.appendingPathComponent("chat_template.jinja").path
        if FileManager.default.fileExists(atPath: jinja) {
            guard let data = FileManager.default.contents(atPath: jinja), let text = String(data: data, encoding: .utf8) else {
                throw TokenizerError("\(jinja): cannot read the file as UTF-8")
            }
            chatTemplate = text
        }
    }

    /// A special-token field: `"<s>"` or `{"content": "<s>", ...}`.
    private static func tokenName(_ node: JSONNode?) throws -> String? {
        guard let node else { return nil }
        return try node.stringValue ?? node.required("content").string()
    }

    /// A template field: a string, or a list of `{name, template}` of which "default" is taken.
    private static func template(_ node: JSONNode) throws -> String? {
        if let s = node.stringValue { return s }
        for entry in try node.array() where try entry.required("name").string() == "default" {
            return try entry.required("template").string()
        }
        return nil
    }
}
