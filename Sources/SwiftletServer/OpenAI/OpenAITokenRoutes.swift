// llama.cpp-server-style /tokenize and /detokenize with the served model's tokenizer.
import Hummingbird
import SwiftletRuntime
import SwiftletTokenizers

enum OpenAITokenRoutes {
    /// The tokenizer of the served model (text generator or embedding model); 503 until loaded.
    static func tokenizer(_ state: ServerState) throws -> any Tokenizer {
        _ = try OpenAIRoutes.modelID(state)
        guard let t = state.queue?.engine.tokenizer ?? state.embedder?.tokenizer else { throw OpenAIError.notReady(state) }
        return t
    }

    /// {"content" (or "prompt"): text, "add_special": false, "parse_special": true, "with_pieces": false}
    /// -> {"tokens": [ids]}, or {"tokens": [{"id", "piece"}]} with pieces.
    static func tokenize(_ body: OpenAIRequestBody, state: ServerState) throws -> Response {
        let tok = try tokenizer(state)
        guard let text = try body.string("content") ?? body.string("prompt") else {
            throw OpenAIError.invalid("'content' (the text to tokenize) is required", param: "content")
        }
        let addSpecial = try body.bool("add_special") ?? false
        let parseSpecial = try body.bool("parse_special") ?? true
        let ids: [Int32] = switch (addSpecial, parseSpecial) {
        case (true, true): tok.encodeWithSpecialTokens(text)  // BOS, or [CLS] ... [SEP] for BERT
        case (true, false): tok.encode(text, addSpecial: true, parseSpecial: false)
        case (false, _): tok.encode(text, parseSpecial: parseSpecial)
        }
        let tokens: [JSONValue] = try body.bool("with_pieces") == true
            ? ids.map { ["id": .int(Int($0)), "piece": .string(String(decoding: tok.bytes(of: $0, renderSpecial: true), as: UTF8.self))] }
            : ids.map { .int(Int($0)) }
        return OpenAIResponse.json(["tokens": .array(tokens)])
    }

    /// {"tokens": [ids]} -> {"content": text}; special tokens are written out.
    static func detokenize(_ body: OpenAIRequestBody, state: ServerState) throws -> Response {
        let tok = try tokenizer(state)
        guard let items = body["tokens"] else { throw OpenAIError.invalid("'tokens' (a list of token ids) is required", param: "tokens") }
        guard let list = items.array else { throw OpenAIError.invalid("'tokens' must be a list of token ids", param: "tokens") }
        let ids: [Int32] = try list.enumerated().map { i, v in
            guard let id = v.int, id >= 0, id < tok.vocabularySize else {
                throw OpenAIError.invalid("tokens[\(i)] must be a token id in 0..<\(tok.vocabularySize)", param: "tokens")
            }
            return Int32(id)
        }
        return OpenAIResponse.json(["content": .string(tok.decode(ids, renderSpecial: true))])
    }
}
