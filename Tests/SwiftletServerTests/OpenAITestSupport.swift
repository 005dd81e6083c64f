// Shared pieces of the OpenAI API tests: a loaded server state, JSON requests, SSE parsing.
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import SwiftletServer

enum OpenAITest {
    /// A 2-layer random Qwen2 checkpoint with a tokenizer and a ChatML template (context 256): loads in milliseconds.
    static let qwen2Chat = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SwiftletModelsTests/Fixtures/hf/qwen2-chat").path

    /// A server state with `path` loaded (synchronously).
    static func state(_ path: String, capacity: Int = 4) throws -> ServerState {
        let state = ServerState(queueCapacity: capacity, logger: Logger(label: "openai-test"))
        state.setUp(modelPath: path, threads: 1)
        guard state.status == .ready else { throw TestFailure("\(path) did not load: \(state.setupError ?? "?")") }
        return state
    }

    /// The server's full router (what `swiftlet serve` runs), or only the OpenAI routes with `options`.
    static func app(_ state: ServerState, options: OpenAIOptions? = nil) -> some ApplicationProtocol {
        let router: Router<ServerRequestContext>
        if let options {
            router = Router(context: ServerRequestContext.self)
            OpenAIRoutes.register(on: router, state: state, options: options)
        } else {
            router = ServerApplication.router(state: state)
        }
        return Application(router: router, server: ServerApplication.http1, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Waits until `queue` has nothing waiting or running (10 s at most).
    static func drain(_ queue: GenerationQueue) async throws {
        if try await !drained(queue) { throw TestFailure("the generation queue still has \(queue.load) requests after 10 s") }
    }

    /// Whether `queue` empties (nothing waiting or running) within 10 s.
    static func drained(_ queue: GenerationQueue) async throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while queue.load > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return queue.load == 0
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        var json: JSONValue { (try? JSONValue.parse(text)) ?? .null }
        /// The error envelope's fields, checked to be all present.
        var error: (message: String, type: String, param: String?, code: String?)? {
            guard let e = json["error"], let m = e["message"]?.string, let t = e["type"]?.string,
                  let p = e["param"], let c = e["code"] else { return nil }
            return (m, t, p.string, c.string)
        }
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ body: JSONValue,
                     headers: HTTPFields = [.contentType: "application/json"]) async throws -> Reply {
        try await send(client, uri, method: .post, body: body.encoded, headers: headers)
    }

    static func send(_ client: some TestClientProtocol, _ uri: String, method: HTTPRequest.Method, body: String? = nil,
                     headers: HTTPFields = [.contentType: "application/json"]) async throws -> Reply {
        try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            Reply(status: r.status, headers: r.headers, text: String(buffer: r.body))
        }
    }

    /// The `data:` payloads of a server-sent-event stream, in order (`[DONE]` included as text).
    static func events(_ text: String) -> [String] {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "not an SSE data event: \(event)"
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
