// The OpenAI-compatible routes through Hummingbird's router test client: shapes, streaming,
// reasoning, tokenization, embeddings, and every error answer.
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SwiftletRuntime
import SwiftletTestSupport
import Testing
@testable import SwiftletServer

private typealias T = OpenAITest

@Suite struct OpenAIRouterTests {
    @Test func healthFollowsSetup() async throws {
        let loading = ServerState(queueCapacity: 1, logger: Logger(label: "t"))
        try await T.app(loading).test(.router) { c in
            let r = try await T.send(c, "/health", method: .get)
            #expect(r.status == .serviceUnavailable && r.json["status"] == "loading")
            let chat = try await T.post(c, "/v1/chat/completions", ["messages": [["role": "user", "content": "hi"]]])
            #expect(chat.status == .serviceUnavailable && chat.error?.code == "model_not_ready")
            #expect(try await T.send(c, "/v1/models", method: .get).error?.code == "model_not_ready")
            #expect(try await T.post(c, "/tokenize", ["content": "hi"]).status == .serviceUnavailable)
        }
        let failed = ServerState(queueCapacity: 1, logger: Logger(label: "t"))
        failed.setUp(modelPath: "/nonexistent/model.gguf", threads: 1)
        try await T.app(failed).test(.router) { c in
            let r = try await T.send(c, "/health", method: .get)
            #expect(r.status == .serviceUnavailable && r.json["status"] == "error")
            #expect(r.json["message"]?.string?.contains("/nonexistent/model.gguf") == true)
            let chat = try await T.post(c, "/v1/chat/completions", ["messages": [["role": "user", "content": "hi"]]])
            #expect(chat.status == .serviceUnavailable && chat.error?.message.contains("failed to load") == true)
        }
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let r = try await T.send(c, "/health", method: .get)
            #expect(r.status == .ok && r.json == ["status": "ok"])
        }
    }

    @Test func modelsListsTheLoadedModel() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let r = try await T.send(c, "/v1/models", method: .get)
            #expect(r.status == .ok && r.json["object"] == "list")
            let m = try #require(r.json["data"]?.array?.first)
            #expect(r.json["data"]?.array?.count == 1)
            #expect(m["id"] == "qwen2-chat" && m["object"] == "model" && m["owned_by"] == "swiftlet" && m["created"]?.int != nil)
            #expect(try await T.send(c, "/v1/models/qwen2-chat", method: .get).json == m)
            let missing = try await T.send(c, "/v1/models/gpt-4o", method: .get)
            #expect(missing.status == .notFound && missing.error?.code == "model_not_found")
        }
    }

    @Test func chatCompletionHasOpenAIShape() async throws {
        let state = try T.state(T.qwen2Chat)
        let engine = try #require(state.queue?.engine)
        let expectedPromptTokens = engine.tokenize(try engine.chatPrompt([("system", "Be brief."), ("user", "Hello there")])).count
        try await T.app(state).test(.router) { c in
            let r = try await T.post(c, "/v1/chat/completions", [
                "model": "anything", "max_tokens": 5, "temperature": 0, "user": "ignored", "metadata": ["x": 1],
                "messages": [["role": "developer", "content": "Be brief."],
                             ["role": "user", "content": [["type": "text", "text": "Hello there"]]]]])
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/json")
            let j = r.json
            #expect(j.members?.map(\.0) == ["id", "object", "created", "model", "system_fingerprint", "choices", "usage"])
            #expect(j["id"]?.string?.hasPrefix("chatcmpl-") == true && j["object"] == "chat.completion")
            #expect(j["model"] == "qwen2-chat" && j["created"]?.int != nil)
            let choice = try #require(j["choices"]?.array?.first)
            #expect(choice["index"] == 0 && choice["message"]?["role"] == "assistant" && choice["message"]?["content"]?.string != nil)
            #expect(choice["message"]?["reasoning_content"] == nil)
            #expect(choice["finish_reason"] == "length" || choice["finish_reason"] == "stop")
            let usage = try #require(j["usage"])
            #expect(usage["prompt_tokens"]?.int == expectedPromptTokens)
            #expect((1...5).contains(usage["completion_tokens"]?.int ?? 0) || choice["finish_reason"] == "stop")
            #expect(usage["total_tokens"]?.int == (usage["prompt_tokens"]?.int ?? 0) + (usage["completion_tokens"]?.int ?? 0))
        }
    }

    @Test func seededSamplingRepeatsAndStopCutsTheText() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let base: JSONValue = ["messages": [["role": "user", "content": "Tell me a story"]], "temperature": 1.0,
                                   "top_k": -1, "top_p": 1, "min_p": 0, "seed": 1234, "max_tokens": 40]
            let a = try await T.post(c, "/v1/chat/completions", base).json
            let b = try await T.post(c, "/v1/chat/completions", base).json
            let text = try #require(a["choices"]?.array?.first?["message"]?["content"]?.string)
            #expect(b["choices"]?.array?.first?["message"]?["content"]?.string == text)
            // Cut at a piece of the text's middle: the same seed stops before its first occurrence.
            let chars = Array(text)
            try #require(chars.count >= 8, "the fixture produced too little text: \(text)")
            let stop = String(chars[chars.count / 2..<(chars.count / 2 + 3)])
            let cut = try await T.post(c, "/v1/chat/completions", base.setting("stop", [.string(stop), "never-appears"])).json
            let choice = try #require(cut["choices"]?.array?.first)
            #expect(choice["message"]?["content"]?.string == String(text[..<text.range(of: stop)!.lowerBound]))
            #expect(choice["finish_reason"] == "stop")
        }
    }

    @Test func streamedChatIsChunksThenDone() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let body: JSONValue = ["messages": [["role": "user", "content": "Hi"]], "seed": 7, "max_tokens": 12]
            let whole = try await T.post(c, "/v1/chat/completions", body).json
            let r = try await T.post(c, "/v1/chat/completions", body.setting("stream", true).setting("stream_options", ["include_usage": true]))
            #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
            let events = T.events(r.text)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONValue.parse($0) }
            try #require(chunks.count >= 3)
            #expect(Set(chunks.compactMap { $0["id"]?.string }).count == 1)
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["id"]?.string?.hasPrefix("chatcmpl-") == true })
            #expect(chunks[0]["choices"]?.array?.first?["delta"] == ["role": "assistant", "content": ""])
            // Choices chunks carry usage: null; the last chunk has usage and no choices.
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == [] && usage["usage"] == whole["usage"])
            let withChoices = chunks.dropLast()
            #expect(withChoices.allSatisfy { $0["usage"] == .null })
            let finish = try #require(withChoices.last?["choices"]?.array?.first)
            #expect(finish["delta"] == [:] && finish["finish_reason"] == whole["choices"]?.array?.first?["finish_reason"])
            #expect(withChoices.dropLast().allSatisfy { $0["choices"]?.array?.first?["finish_reason"] == .null })
            let streamed = withChoices.compactMap { $0["choices"]?.array?.first?["delta"]?["content"]?.string }.joined()
            #expect(streamed == whole["choices"]?.array?.first?["message"]?["content"]?.string)
            // Without include_usage: no usage anywhere.
            let plain = try await T.post(c, "/v1/chat/completions", body.setting("stream", true))
            #expect(T.events(plain.text).dropLast().allSatisfy { (try? JSONValue.parse($0))?["usage"] == nil })
        }
    }

    @Test func completionHasOpenAIShapeAndStreams() async throws {
        let state = try T.state(T.qwen2Chat)
        let engine = try #require(state.queue?.engine)
        try await T.app(state).test(.router) { c in
            let r = try await T.post(c, "/v1/completions", ["model": "qwen2-chat", "prompt": ["Once upon a time"], "seed": 3])
            #expect(r.status == .ok)
            let j = r.json
            #expect(j["id"]?.string?.hasPrefix("cmpl-") == true && j["object"] == "text_completion" && j["model"] == "qwen2-chat")
            let choice = try #require(j["choices"]?.array?.first)
            let text = try #require(choice["text"]?.string)
            #expect(choice["index"] == 0 && choice["logprobs"] == .null)
            // Without max_tokens a completion gets 16 tokens, as OpenAI's.
            #expect(j["usage"]?["completion_tokens"]?.int ?? 99 <= 16)
            #expect(j["usage"]?["prompt_tokens"]?.int == engine.tokenize("Once upon a time", bos: engine.tokenizer.addBOS).count)

            let s = try await T.post(c, "/v1/completions", ["prompt": "Once upon a time", "seed": 3, "stream": true])
            let events = T.events(s.text)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try JSONValue.parse($0) }
            #expect(chunks.allSatisfy { $0["object"] == "text_completion" })
            #expect(chunks.compactMap { $0["choices"]?.array?.first?["text"]?.string }.joined() == text)
            #expect(chunks.last?["choices"]?.array?.first?["finish_reason"] == choice["finish_reason"])
        }
    }

    @Test func reasoningGoesToReasoningContent() async throws {
        // The fixture with a template that opens a think block unless enable_thinking is false.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-think-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: T.qwen2Chat, toPath: folder.path)
        defer { try? FileManager.default.removeItem(at: folder) }
        let template = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
            + "<|im_start|>assistant\n{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}"
        var config = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("tokenizer_config.json")))
        config = config.setting("chat_template", .string(template))
        try config.encoded.write(to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)

        try await T.app(try T.state(folder.path)).test(.router) { c in
            let body: JSONValue = ["messages": [["role": "user", "content": "Think"]], "seed": 5, "max_tokens": 8]
            // The prompt ends inside <think> and the random model never closes it: all reasoning.
            let thinking = try await T.post(c, "/v1/chat/completions", body).json
            let message = try #require(thinking["choices"]?.array?.first?["message"])
            #expect(message["content"] == "" && message["reasoning_content"]?.string?.isEmpty == false)
            let s = try await T.post(c, "/v1/chat/completions", body.setting("stream", true))
            let deltas = try T.events(s.text).dropLast().map { try JSONValue.parse($0)["choices"]?.array?.first?["delta"] }
            let streamed = deltas.compactMap { $0?["reasoning_content"]?.string }.joined()
            #expect(!streamed.isEmpty && deltas.allSatisfy { $0?["content"] == nil || $0?["content"] == "" })
            #expect(streamed.trimmingCharacters(in: .whitespacesAndNewlines) == message["reasoning_content"]?.string)
            // chat_template_kwargs reach the template: thinking off, the answer is content.
            let off = try await T.post(c, "/v1/chat/completions", body.setting("chat_template_kwargs", ["enable_thinking": false])).json
            let offMessage = try #require(off["choices"]?.array?.first?["message"])
            #expect(offMessage["reasoning_content"] == nil && offMessage["content"]?.string != nil)
            #expect(off["usage"]?["prompt_tokens"]?.int != thinking["usage"]?["prompt_tokens"]?.int)
        }
    }

    @Test func reasoningSplitterHandlesTagsAcrossPieces() {
        var s = ReasoningSplitter(promptOpensThinking: false)
        var reasoning = "", content = ""
        for piece in ["\n<th", "ink>\nI should", " greet.</", "think", ">\n\nHel", "lo <b>"] {
            let (r, c) = s.push(piece)
            reasoning += r
            content += c
        }
        let (r, c) = s.finish()
        #expect(reasoning + r == "I should greet." && content + c == "Hello <b>" && s.hadReasoning)
        var plain = ReasoningSplitter(promptOpensThinking: false)
        #expect(plain.push("<tab>x") == ("", "<tab>x") && !plain.hadReasoning)
        var midText = ReasoningSplitter(promptOpensThinking: false)
        #expect(midText.push("Hi <think>x</think>") == ("", "Hi <think>x</think>"))
        #expect(ReasoningSplitter.promptOpensThinking("<|im_start|>assistant\n<think>\n"))
    }

    @Test func tokenizeAndDetokenize() async throws {
        let state = try T.state(T.qwen2Chat)
        let tok = try #require(state.queue?.engine.tokenizer)
        try await T.app(state).test(.router) { c in
            let text = "Hello world<|im_end|>"
            let r = try await T.post(c, "/tokenize", ["content": .string(text)])
            let ids = try #require(r.json["tokens"]?.array?.compactMap { $0.int })
            #expect(ids == tok.encode(text, parseSpecial: true).map(Int.init) && ids.last == Int(tok.eos!))
            let raw = try await T.post(c, "/tokenize", ["prompt": .string(text), "parse_special": false]).json["tokens"]?.array?.compactMap { $0.int }
            #expect(raw == tok.encode(text, parseSpecial: false).map(Int.init) && raw != ids)
            let pieces = try await T.post(c, "/tokenize", ["content": .string(text), "with_pieces": true]).json["tokens"]?.array
            #expect(pieces?.compactMap { $0["id"]?.int } == ids && pieces?.compactMap { $0["piece"]?.string }.joined() == text)
            let back = try await T.post(c, "/detokenize", ["tokens": .array(ids.map { .int($0) })])
            #expect(back.json == ["content": .string(text)])
            let bad = try await T.post(c, "/detokenize", ["tokens": [1, 100000]])
            #expect(bad.status == .badRequest && bad.error?.param == "tokens" && bad.error?.message.contains("tokens[1]") == true)
            #expect(try await T.post(c, "/tokenize", ["text": "x"]).error?.param == "content")
        }
    }

    @Test func embeddingsRouteOnATextModelSaysSo() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let r = try await T.post(c, "/v1/embeddings", ["input": "hello"])
            #expect(r.status == .badRequest && r.error?.code == "model_not_supported")
            #expect(r.error?.message.contains("not an embedding model") == true)
        }
    }

    @Test func embeddingsFromMiniLM() async throws {
        guard let path = try TestModels.require(TestModels.minilm) else { return }
        let state = try T.state(path)
        let embedder = try #require(state.embedder)
        let texts = ["The cat sits outside", "A man is playing guitar"]
        let expected = try embedder.embed(texts)
        try await T.app(state).test(.router) { c in
            let r = try await T.post(c, "/v1/embeddings", ["model": "all-MiniLM-L6-v2", "input": .array(texts.map { .string($0) })])
            #expect(r.status == .ok && r.json["object"] == "list" && r.json["model"] == "all-MiniLM-L6-v2")
            let data = try #require(r.json["data"]?.array)
            #expect(data.count == 2 && data.map { $0["index"]?.int } == [0, 1] && data.allSatisfy { $0["object"] == "embedding" })
            let vectors = data.map { $0["embedding"]?.array?.compactMap { $0.double.map(Float.init) } ?? [] }
            #expect(vectors == expected && vectors[0].count == 384)
            let tokens = texts.reduce(0) { $0 + embedder.tokens($1).count }
            #expect(r.json["usage"] == ["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)])
            // base64: little-endian float32, what the openai client asks for by default.
            let b = try await T.post(c, "/v1/embeddings", ["input": "The cat sits outside", "encoding_format": "base64"])
            let bytes = try #require(Data(base64Encoded: b.json["data"]?.array?.first?["embedding"]?.string ?? ""))
            let floats = stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: bytes[i..<i + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
            }
            #expect(floats == expected[0])
            #expect(try await T.post(c, "/v1/embeddings", ["input": []]).error?.param == "input")
            #expect(try await T.post(c, "/v1/embeddings", ["input": [1, 2]]).error?.param == "input")
            #expect(try await T.post(c, "/v1/embeddings", ["input": "x", "dimensions": 128]).error?.param == "dimensions")
            #expect(try await T.post(c, "/v1/chat/completions", ["messages": [["role": "user", "content": "hi"]]]).error?.code
                    == "model_not_supported")
        }
    }

    @Test func smolLM2AnswersAChat() async throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        try await T.app(try T.state(path)).test(.router) { c in
            let r = try await T.post(c, "/v1/chat/completions", [
                "model": "SmolLM2-135M-Instruct.Q4_1.gguf", "temperature": 0, "max_tokens": 24,
                "messages": [["role": "system", "content": "You are a helpful assistant."],
                             ["role": "user", "content": "What is the capital of France?"]]])
            #expect(r.status == .ok)
            let message = try #require(r.json["choices"]?.array?.first?["message"])
            #expect(message["content"]?.string?.contains("Paris") == true, "\(r.text)")
        }
    }

    @Test func fullQueueIsA429() async throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let state = try T.state(path, capacity: 1)
        let queue = try #require(state.queue)
        // Occupy the only slot with a long generation (a count that goes on), then ask for more.
        // 4000 tokens cannot finish while the request below runs, even on a loaded machine; waiting
        // for the first event makes sure the slot is taken before asking.
        let busy = try queue.submit(TextRequest(prompt: .text("1, 2, 3, 4, 5, 6, 7,", addBOS: false), maxNewTokens: 4000,
                                                sampling: .greedy))
        var events = busy.makeAsyncIterator()
        _ = try await events.next()
        try await T.app(state).test(.router) { c in
            let r = try await T.post(c, "/v1/completions", ["prompt": "Hello", "max_tokens": 1])
            #expect(r.status == .tooManyRequests && r.error?.type == "rate_limit_error" && r.error?.code == "queue_full")
        }
        // Dropping the stream cancels the generation; the queue must outlive its worker's job.
        _ = consume events
        _ = consume busy
        try await T.drain(queue)
    }

    @Test func malformedRequestsGetTheErrorEnvelope() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.router) { c in
            let chat = "/v1/chat/completions"
            let hi: JSONValue = ["messages": [["role": "user", "content": "hi"]]]
            func expect(_ r: T.Reply, _ status: HTTPResponse.Status, param: String? = nil, code: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
                let e = r.error
                #expect(e != nil && e?.type == "invalid_request_error" && !(e?.message.isEmpty ?? true), "\(r.text)",
                        sourceLocation: sourceLocation)
                if let param { #expect(e?.param == param, "\(r.text)", sourceLocation: sourceLocation) }
                if let code { #expect(e?.code == code, "\(r.text)", sourceLocation: sourceLocation) }
            }
            expect(try await T.send(c, chat, method: .post, body: "{\"messages\": ["), .badRequest, code: "invalid_json")
            expect(try await T.send(c, chat, method: .post, body: "[1]"), .badRequest, code: "invalid_json")
            expect(try await T.send(c, chat, method: .post, body: hi.encoded, headers: [.contentType: "text/plain"]),
                   .unsupportedMediaType)
            expect(try await T.post(c, chat, [:]), .badRequest, param: "messages")
            expect(try await T.post(c, chat, ["messages": []]), .badRequest, param: "messages")
            expect(try await T.post(c, chat, ["messages": [["role": "wizard", "content": "hi"]]]), .badRequest, param: "messages[0].role")
            expect(try await T.post(c, chat, ["messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": "x"]]]]]]),
                   .badRequest, param: "messages[0].content[0]")
            expect(try await T.post(c, chat, hi.setting("temperature", 3)), .badRequest, param: "temperature")
            expect(try await T.post(c, chat, hi.setting("temperature", "hot")), .badRequest, param: "temperature")
            expect(try await T.post(c, chat, hi.setting("max_tokens", 0)), .badRequest, param: "max_tokens")
            expect(try await T.post(c, chat, hi.setting("max_completion_tokens", 2.5)), .badRequest, param: "max_completion_tokens")
            expect(try await T.post(c, chat, hi.setting("top_p", 0)), .badRequest, param: "top_p")
            expect(try await T.post(c, chat, hi.setting("n", 2)), .badRequest, param: "n")
            expect(try await T.post(c, chat, hi.setting("stop", 5)), .badRequest, param: "stop")
            expect(try await T.post(c, chat, hi.setting("stream", "yes")), .badRequest, param: "stream")
            expect(try await T.post(c, chat, hi.setting("presence_penalty", 0.5)), .badRequest, param: "presence_penalty")
            expect(try await T.post(c, chat, hi.setting("logprobs", true)), .badRequest, param: "logprobs")
            expect(try await T.post(c, chat, hi.setting("chat_template_kwargs", "x")), .badRequest, param: "chat_template_kwargs")
            expect(try await T.post(c, "/v1/completions", [:]), .badRequest, param: "prompt")
            expect(try await T.post(c, "/v1/completions", ["prompt": ["a", "b"]]), .badRequest, param: "prompt")
            expect(try await T.post(c, "/v1/completions", ["prompt": [1, 2, 3]]), .badRequest, param: "prompt")
            expect(try await T.post(c, "/v1/completions", ["prompt": "x", "echo": true]), .badRequest, param: "echo")
            // The fixture's context is 256 tokens.
            let long = String(repeating: "word ", count: 400)
            let tooLong = try await T.post(c, chat, ["messages": [["role": "user", "content": .string(long)]]])
            expect(tooLong, .badRequest, param: "messages", code: "context_length_exceeded")
            #expect(tooLong.error?.message.contains("context is 256 tokens") == true)
            expect(try await T.post(c, "/v1/completions", ["prompt": .string(long)]), .badRequest, param: "prompt",
                   code: "context_length_exceeded")
            // Accepted: nulls, zero penalties, n = 1, empty tools, unknown fields.
            let ok = try await T.post(c, chat, hi.setting("max_tokens", 2).setting("temperature", .null).setting("n", 1)
                .setting("presence_penalty", 0).setting("tools", []).setting("some_future_field", ["a": 1]))
            #expect(ok.status == .ok, "\(ok.text)")
        }
    }

    @Test func oversizedBodyIsA413() async throws {
        var options = OpenAIOptions()
        options.maxBodyBytes = 1000
        try await T.app(try T.state(T.qwen2Chat), options: options).test(.router) { c in
            let big: JSONValue = ["messages": [["role": "user", "content": .string(String(repeating: "a", count: 2000))]]]
            let r = try await T.post(c, "/v1/chat/completions", big)
            #expect(r.status == .contentTooLarge && r.error?.code == "request_too_large")
        }
    }

    @Test func apiKeyGuardsEveryRouteButHealth() async throws {
        try await T.app(try T.state(T.qwen2Chat), options: OpenAIOptions(apiKey: "sekrit")).test(.router) { c in
            #expect(try await T.send(c, "/health", method: .get).status == .ok)
            let none = try await T.send(c, "/v1/models", method: .get)
            #expect(none.status == .unauthorized && none.error?.type == "authentication_error")
            let wrong = try await T.send(c, "/v1/models", method: .get, headers: [.authorization: "Bearer sekrit2"])
            #expect(wrong.status == .unauthorized && wrong.error?.code == "invalid_api_key")
            #expect(try await T.post(c, "/tokenize", ["content": "x"]).status == .unauthorized)
            #expect(try await T.post(c, "/v1/chat/completions", [:]).status == .unauthorized)
            let right = try await T.send(c, "/v1/models", method: .get, headers: [.authorization: "Bearer sekrit"])
            #expect(right.status == .ok)
            let chat = try await T.post(c, "/v1/completions", ["prompt": "x", "max_tokens": 1],
                                        headers: [.authorization: "Bearer sekrit", .contentType: "application/json"])
            #expect(chat.status == .ok)
        }
    }
}
