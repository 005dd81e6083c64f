// Running a chat or text completion on the generation queue and answering in OpenAI's shapes:
// one JSON object, or server-sent events (chunks, then `data: [DONE]`).
import Foundation
import Hummingbird
import SwiftletRuntime

/// Answers one validated completion request.
struct OpenAICompletions {
    let request: OpenAIGenerationRequest
    let model: String
    let id: String
    let created = Int(Date().timeIntervalSince1970)

    init(request: OpenAIGenerationRequest, model: String) {
        self.request = request
        self.model = model
        id = (request.kind == .chat ? "chatcmpl-" : "cmpl-") + Self.randomID()
    }

    var isChat: Bool { request.kind == .chat }

    /// Queues the request (429 when full) and answers with JSON or a stream.
    func respond(queue: GenerationQueue, context: ServerRequestContext) async throws -> Response {
        let events: AsyncThrowingStream<TextEvent, Error>
        do {
            events = try queue.submit(request.text)
        } catch let full as QueueFull {
            throw OpenAIError.queueFull(full)
        } catch {
            throw OpenAIError(status: .serviceUnavailable, message: "\(error)", type: "server_error", param: nil, code: "shutting_down")
        }
        return request.stream ? streamed(events) : try await whole(events, context: context)
    }

    // MARK: one JSON object

    private func whole(_ events: AsyncThrowingStream<TextEvent, Error>, context: ServerRequestContext) async throws -> Response {
        // Collected in a task of its own so a client that disconnects cancels it (and so the generation).
        let collect = Task { () async throws -> TextSummary? in
            var summary: TextSummary?
            for try await event in events { if case .finished(let s) = event { summary = s } }
            return summary
        }
        let summary: TextSummary?
        do {
            summary = try await context.whileConnected(onDisconnect: { collect.cancel() }) { try await collect.value }
        } catch is CancellationError {
            throw Self.cancelled
        } catch {
            throw OpenAIError.internalError(error)
        }
        guard let summary, summary.finishReason != .cancelled else { throw Self.cancelled }
        var choice: [(String, JSONValue)] = [("index", 0)]
        if isChat {
            var splitter = ReasoningSplitter(promptOpensThinking: request.promptOpensThinking)
            let (r1, c1) = splitter.push(summary.text)
            let (r2, c2) = splitter.finish()
            var message: [(String, JSONValue)] = [("role", "assistant"), ("content", .string(c1 + c2))]
            if splitter.hadReasoning {
                message.append(("reasoning_content", .string((r1 + r2).trimmingCharacters(in: .whitespacesAndNewlines))))
            }
            choice.append(("message", .object(message)))
        } else {
            choice.append(("text", .string(summary.text)))
        }
        choice += [("logprobs", .null), ("finish_reason", .string(summary.finishReason.rawValue))]
        return OpenAIResponse.json(.object(header(object: isChat ? "chat.completion" : "text_completion")
            + [("choices", [.object(choice)]), ("usage", usage(summary))]))
    }

    // MARK: server-sent events

    private func streamed(_ events: AsyncThrowingStream<TextEvent, Error>) -> Response {
        let this = self
        let body = ResponseBody { writer in
            // Leaving this closure (a write failed because the client went away) drops `events`,
            // which cancels the generation.
            var iterator = events.makeAsyncIterator()
            var splitter = ReasoningSplitter(promptOpensThinking: this.request.promptOpensThinking)
            if this.isChat { try await writer.write(this.event(this.chunk(delta: ["role": "assistant", "content": ""]))) }
            while true {
                let next: TextEvent?
                do {
                    next = try await iterator.next()
                } catch {
                    let failure = error is CancellationError ? Self.cancelled : OpenAIError.internalError(error)
                    try await writer.write(this.event(failure.json))
                    break
                }
                guard let next else { break }
                switch next {
                case .started: break
                case .text(let piece):
                    for chunk in this.pieces(piece, splitter: &splitter) { try await writer.write(this.event(chunk)) }
                case .finished(let summary):
                    let (r, c) = splitter.finish()
                    for chunk in this.deltas(reasoning: r, content: c) { try await writer.write(this.event(chunk)) }
                    let reason: JSONValue = summary.finishReason == .cancelled ? .null : .string(summary.finishReason.rawValue)
                    try await writer.write(this.event(this.isChat ? this.chunk(delta: [:], finishReason: reason)
                                                                  : this.chunk(text: "", finishReason: reason)))
                    if this.request.includeUsage {
                        try await writer.write(this.event(.object(this.header(object: this.chunkObject)
                            + [("choices", []), ("usage", this.usage(summary))])))
                    }
                }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    private func pieces(_ piece: String, splitter: inout ReasoningSplitter) -> [JSONValue] {
        guard isChat else { return piece.isEmpty ? [] : [chunk(text: piece)] }
        let (r, c) = splitter.push(piece)
        return deltas(reasoning: r, content: c)
    }

    private func deltas(reasoning: String, content: String) -> [JSONValue] {
        guard isChat else { return content.isEmpty ? [] : [chunk(text: content)] }
        var out: [JSONValue] = []
        if !reasoning.isEmpty { out.append(chunk(delta: ["reasoning_content": .string(reasoning)])) }
        if !content.isEmpty { out.append(chunk(delta: ["content": .string(content)])) }
        return out
    }

    private var chunkObject: String { isChat ? "chat.completion.chunk" : "text_completion" }

    private func chunk(delta: JSONValue, finishReason: JSONValue = .null) -> JSONValue {
        .object(header(object: chunkObject) + [("choices", [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finishReason]])]
            + (request.includeUsage ? [("usage", .null)] : []))
    }

    private func chunk(text: String, finishReason: JSONValue = .null) -> JSONValue {
        .object(header(object: chunkObject) + [("choices", [["index": 0, "text": .string(text), "logprobs": nil, "finish_reason": finishReason]])]
            + (request.includeUsage ? [("usage", .null)] : []))
    }

    private func event(_ value: JSONValue) -> ByteBuffer { ByteBuffer(string: "data: \(value.encoded)\n\n") }

    // MARK: shared parts

    private func header(object: String) -> [(String, JSONValue)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model)),
         ("system_fingerprint", "swiftlet")]
    }

    private func usage(_ s: TextSummary) -> JSONValue {
        ["prompt_tokens": .int(s.promptTokens), "completion_tokens": .int(s.completionTokens),
         "total_tokens": .int(s.promptTokens + s.completionTokens)]
    }

    static let cancelled = OpenAIError(status: .serviceUnavailable, message: "the generation was cancelled: the server is shutting down",
                                       type: "server_error", param: nil, code: "shutting_down")

    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<24).map { _ in alphabet.randomElement()! })
    }
}
