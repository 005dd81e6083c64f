// Hugging Face post-processors (tokenizer.json "post_processor"): the tokens put around a single encoded
// sequence when special tokens are added (`[CLS] $A [SEP]`, `<|begin_of_text|> $A`). Pair templates are
// not used here.

struct HFPostProcessor: Sendable {
    /// Token ids before and after the sequence.
    var prefix: [Int32] = []
    var suffix: [Int32] = []

    init(_ node: JSONNode?) throws {
        guard let node else { return }
        let type = try node.type()
        guard let build = Self.builders[type] else {
            throw node.error("unsupported post-processor type \"\(type)\" (supported: \(Self.builders.keys.sorted().joined(separator: ", ")))")
        }
        self = try build(node)
    }

    private init(prefix: [Int32], suffix: [Int32]) {
        self.prefix = prefix
        self.suffix = suffix
    }

    private static let builders: [String: @Sendable (JSONNode) throws -> HFPostProcessor] = [
        "TemplateProcessing": template,
        "BertProcessing": { n in try around(n, first: "cls", last: "sep") },
        "RobertaProcessing": { n in try around(n, first: "cls", last: "sep") },
        // Offsets only.
        "ByteLevel": { _ in HFPostProcessor(prefix: [], suffix: []) },
        // Each processor wraps what the previous ones produced.
        "Sequence": { n in
            var out = HFPostProcessor(prefix: [], suffix: [])
            for p in try n.required("processors").array() {
                let inner = try HFPostProcessor(p)
                out = HFPostProcessor(prefix: inner.prefix + out.prefix, suffix: out.suffix + inner.suffix)
            }
            return out
        },
    ]

    /// `{"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]}`: the first token before, the last after.
    private static func around(_ n: JSONNode, first: String, last: String) throws -> HFPostProcessor {
        func id(_ key: String) throws -> Int32 {
            let pair = try n.required(key).array()
            guard pair.count == 2 else { throw n.error("\(key): expected [token, id]") }
            return try pair[1].tokenID()
        }
        return HFPostProcessor(prefix: [try id(first)], suffix: [try id(last)])
    }

    /// `single`: `{"SpecialToken": {"id": "<s>"}}` items around one `{"Sequence": {"id": "A"}}`, with the
    /// ids of each special token in `special_tokens`.
    private static func template(_ n: JSONNode) throws -> HFPostProcessor {
        let specials = n["special_tokens"]
        var out = HFPostProcessor(prefix: [], suffix: [])
        var seenSequence = false
        for item in try n.required("single").array() {
            if item["Sequence"] != nil {
                guard !seenSequence else { throw item.error("the single template has two sequences") }
                seenSequence = true
            } else if let special = item["SpecialToken"] {
                let name = try special.required("id").string()
                guard let entry = specials?[name] else { throw special.error("\(name.debugDescription) is not in special_tokens") }
                let ids = try entry.required("ids").array().map { try $0.tokenID() }
                if seenSequence { out.suffix += ids } else { out.prefix += ids }
            } else {
                throw item.error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}")
            }
        }
        guard seenSequence else { throw n.error("the single template has no $A sequence") }
        return out
    }
}
