// The fields of /v1/chat/completions and /v1/completions turned into a queue request, validated
// up front (prompt rendered and measured) so a bad request is a 400 before any generation starts.
import Foundation
import SwiftletRuntime
import SwiftletTokenizers

/// A validated chat or text completion request.
struct OpenAIGenerationRequest {
    enum Kind { case chat, completion }
    let kind: Kind
    let text: TextRequest
    let stream: Bool
    /// stream_options.include_usage: a last chunk with usage and no choices.
    let includeUsage: Bool
    /// The chat template left the prompt inside a think block, so the output starts with reasoning.
    let promptOpensThinking: Bool

    /// Completions without max_tokens get 16 tokens, as OpenAI's legacy endpoint does; chats run
    /// until the model stops or the context is full.
    static let defaultCompletionTokens = 16

    static func parse(_ body: OpenAIRequestBody, kind: Kind, engine: Engine) throws -> OpenAIGenerationRequest {
        try rejectUnsupported(body, kind: kind)
        let rendered: String, promptParam: String
        let addBOS: Bool
        switch kind {
        case .chat:
            let turns = try messages(body)
            let options = try templateOptions(body)
            promptParam = "messages"
            do {
                rendered = try engine.chatPrompt(turns.map { ($0.role, $0.content) }, options: options)
            } catch {
                throw OpenAIError.invalid("the model's chat template could not render these messages: \(error)", param: "messages")
            }
            addBOS = false  // a rendered template carries its own BOS text (as the queue does for .chat)
        case .completion:
            rendered = try prompt(body)
            promptParam = "prompt"
            addBOS = engine.tokenizer.addBOS
        }
        let promptTokens = engine.tokenize(rendered, bos: addBOS).count
        let context = engine.config.contextLength
        if promptTokens + 1 > context {
            throw OpenAIError.contextLength(promptTokens: promptTokens, context: context, param: promptParam)
        }

        let maxTokens: Int? = switch kind {
        case .chat: try body.int("max_completion_tokens", in: 1...Int(Int32.max)) ?? body.int("max_tokens", in: 1...Int(Int32.max))
        case .completion: try body.int("max_tokens", in: 1...Int(Int32.max)) ?? defaultCompletionTokens
        }
        let stop = try body.strings("stop") ?? []
        if stop.count > 16 { throw OpenAIError.invalid("'stop' has \(stop.count) strings; at most 16 are supported", param: "stop") }

        let stream = try body.bool("stream") ?? false
        var includeUsage = false
        if let options = body["stream_options"] {
            guard case .object = options else { throw OpenAIError.invalid("'stream_options' must be an object", param: "stream_options") }
            includeUsage = try OpenAIRequestBody(json: options).bool("include_usage") ?? false
        }
        let request = TextRequest(prompt: .text(rendered, addBOS: addBOS),
                                  maxNewTokens: maxTokens ?? context, sampling: try sampling(body), stop: stop)
        return OpenAIGenerationRequest(kind: kind, text: request, stream: stream, includeUsage: includeUsage,
                                       promptOpensThinking: kind == .chat && ReasoningSplitter.promptOpensThinking(rendered))
    }

    /// Sampling fields; absent ones keep the engine's defaults (temperature 0.8, top_k 40, top_p 0.95,
    /// min_p 0.05) and an absent seed is random.
    static func sampling(_ body: OpenAIRequestBody) throws -> SamplingParameters {
        var p = SamplingParameters()
        if let t = try body.number("temperature", in: 0...2) { p.temperature = Float(t) }
        if let t = try body.number("top_p", in: 0...1) {
            guard t > 0 else { throw OpenAIError.invalid("'top_p' must be greater than 0", param: "top_p") }
            p.topP = Float(t)
        }
        if let k = try body.int("top_k", in: -1...Int(Int32.max)) { p.topK = max(0, k) }  // -1 or 0: no top-k
        if let m = try body.number("min_p", in: 0...1) { p.minP = Float(m) }
        if let r = try body.number("repetition_penalty", in: 0...10) {
            guard r > 0 else { throw OpenAIError.invalid("'repetition_penalty' must be greater than 0", param: "repetition_penalty") }
            p.repetitionPenalty = Float(r)
        }
        p.seed = try body.int("seed", in: Int.min...Int.max).map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        return p
    }

    /// Fields OpenAI defines that this server cannot honour: refused rather than silently ignored.
    static func rejectUnsupported(_ body: OpenAIRequestBody, kind: Kind) throws {
        if let n = try body.int("n", in: 1...128), n != 1 {
            throw OpenAIError.invalid("'n' must be 1: one choice per request is supported", param: "n")
        }
        for key in ["presence_penalty", "frequency_penalty"] {
            if let v = try body.number(key, in: -2...2), v != 0 {
                throw OpenAIError.invalid("'\(key)' is not supported (only 0); use 'repetition_penalty' instead", param: key)
            }
        }
        switch kind {
        case .chat:
            if try body.bool("logprobs") == true { throw OpenAIError.invalid("'logprobs' is not supported", param: "logprobs") }
            if let tools = body["tools"], tools.array?.isEmpty != true {
                throw OpenAIError.invalid("'tools' (function calling) is not supported", param: "tools")
            }
            if let format = body["response_format"], format["type"]?.string != "text" {
                throw OpenAIError.invalid("'response_format' other than {\"type\": \"text\"} is not supported", param: "response_format")
            }
        case .completion:
            if body["logprobs"] != nil { throw OpenAIError.invalid("'logprobs' is not supported", param: "logprobs") }
            if try body.bool("echo") == true { throw OpenAIError.invalid("'echo' is not supported", param: "echo") }
            if let s = try body.string("suffix"), !s.isEmpty { throw OpenAIError.invalid("'suffix' is not supported", param: "suffix") }
            if let b = try body.int("best_of", in: 1...128), b != 1 { throw OpenAIError.invalid("'best_of' must be 1", param: "best_of") }
        }
    }

    /// `messages`: role and content, content a string or a list of text parts.
    static func messages(_ body: OpenAIRequestBody) throws -> [ChatTurn] {
        guard let items = body["messages"] else { throw OpenAIError.invalid("'messages' is required", param: "messages") }
        guard let list = items.array, !list.isEmpty else {
            throw OpenAIError.invalid("'messages' must be a non-empty list of {\"role\", \"content\"} objects", param: "messages")
        }
        return try list.enumerated().map { i, m in
            let param = "messages[\(i)]"
            guard case .object = m else { throw OpenAIError.invalid("\(param) must be an object", param: param) }
            guard let role = m["role"]?.string else { throw OpenAIError.invalid("\(param).role must be a string", param: "\(param).role") }
            guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                throw OpenAIError.invalid("\(param).role '\(role)' must be system, developer, user, assistant or tool", param: "\(param).role")
            }
            // Templates know "system"; OpenAI's "developer" is its newer name.
            return ChatTurn(role: role == "developer" ? "system" : role, content: try content(m["content"], param: "\(param).content"))
        }
    }

    static func content(_ value: JSONValue?, param: String) throws -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .array(let parts)?:
            return try parts.enumerated().map { j, part in
                guard part["type"]?.string == "text", let text = part["text"]?.string else {
                    throw OpenAIError.invalid("\(param)[\(j)] must be {\"type\": \"text\", \"text\": ...}: only text content is supported",
                                              param: "\(param)[\(j)]")
                }
                return text
            }.joined(separator: "\n")
        default: throw OpenAIError.invalid("\(param) must be a string or a list of text parts", param: param)
        }
    }

    /// `prompt`: a string, or a list holding one string.
    static func prompt(_ body: OpenAIRequestBody) throws -> String {
        switch body["prompt"] {
        case nil: throw OpenAIError.invalid("'prompt' is required", param: "prompt")
        case .string(let s)?: return s
        case .array(let items)? where items.count == 1 && items[0].string != nil: return items[0].string!
        case .array(let items)? where items.count > 1 && items.allSatisfy({ $0.string != nil }):
            throw OpenAIError.invalid("'prompt' has \(items.count) strings; one prompt per request is supported", param: "prompt")
        default: throw OpenAIError.invalid("'prompt' must be a string or a list of one string (token-id prompts are not supported)", param: "prompt")
        }
    }

    /// `chat_template_kwargs`: variables for the chat template (e.g. {"enable_thinking": false}).
    static func templateOptions(_ body: OpenAIRequestBody) throws -> [String: JinjaValue] {
        guard let kwargs = body["chat_template_kwargs"] else { return [:] }
        guard let members = kwargs.members else {
            throw OpenAIError.invalid("'chat_template_kwargs' must be an object", param: "chat_template_kwargs")
        }
        var options: [String: JinjaValue] = [:]
        for (k, v) in members { options[k] = JinjaValue(json: v) }
        return options
    }
}
