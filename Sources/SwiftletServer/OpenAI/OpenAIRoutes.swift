// The OpenAI-compatible API (plus llama.cpp-style /tokenize, /detokenize and /health), registered
// on the server's router by one call.
import Foundation
import Hummingbird
import SwiftletRuntime

/// Settings of the OpenAI-compatible routes.
public struct OpenAIOptions: Sendable {
    /// When set, every route but /health needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Larger request bodies are refused with 413.
    public var maxBodyBytes = 8 << 20

    public init(apiKey: String? = nil) { self.apiKey = apiKey }

    /// The API key from SWIFTLET_API_KEY (unset or empty: no key required).
    public static func fromEnvironment() -> OpenAIOptions {
        let key = ProcessInfo.processInfo.environment["SWIFTLET_API_KEY"]
        return OpenAIOptions(apiKey: key?.isEmpty == false ? key : nil)
    }
}

public enum OpenAIRoutes {
    /// Registers GET /health (open to all), and, behind the API key when one is set: GET /v1/models,
    /// POST /v1/chat/completions, /v1/completions, /v1/embeddings, /tokenize and /detokenize.
    public static func register(on router: Router<ServerRequestContext>, state: ServerState,
                                options: OpenAIOptions = .fromEnvironment()) {
        router.get("/health") { _, _ in health(state) }

        let api = router.group()
        if let key = options.apiKey { api.add(middleware: APIKeyMiddleware(key: key)) }
        let limit = options.maxBodyBytes

        api.get("/v1/models") { _, _ in
            answer { OpenAIResponse.json(try modelList(state)) }
        }
        api.get("/v1/models/:id") { _, context in
            answer {
                let list = try modelList(state)
                guard let model = list["data"]?.array?.first, model["id"]?.string == context.parameters.get("id") else {
                    throw OpenAIError.notFound("the model '\(context.parameters.get("id") ?? "")' does not exist; GET /v1/models lists the one served",
                                               code: "model_not_found")
                }
                return OpenAIResponse.json(model)
            }
        }
        api.post("/v1/chat/completions") { request, context in
            await answer { try await complete(request, kind: .chat, state: state, limit: limit, context: context) }
        }
        api.post("/v1/completions") { request, context in
            await answer { try await complete(request, kind: .completion, state: state, limit: limit, context: context) }
        }
        api.post("/v1/embeddings") { request, _ in
            await answer { try await OpenAIEmbeddings.respond(try await OpenAIRequestBody.read(request, maxBytes: limit), state: state) }
        }
        api.post("/tokenize") { request, _ in
            await answer { try OpenAITokenRoutes.tokenize(try await OpenAIRequestBody.read(request, maxBytes: limit), state: state) }
        }
        api.post("/detokenize") { request, _ in
            await answer { try OpenAITokenRoutes.detokenize(try await OpenAIRequestBody.read(request, maxBytes: limit), state: state) }
        }
    }

    /// 200 {"status": "ok"} once the model is loaded; 503 {"status": "loading"} before, and
    /// 503 {"status": "error", "message": ...} when loading failed.
    static func health(_ state: ServerState) -> Response {
        switch state.status {
        case .ready: return OpenAIResponse.json(["status": "ok"])
        case .starting: return OpenAIResponse.json(["status": "loading"], status: .serviceUnavailable)
        case .failed:
            return OpenAIResponse.json(["status": "error", "message": .string(state.setupError ?? "setup failed")],
                                       status: .serviceUnavailable)
        }
    }

    /// The served model's id: its file or folder name.
    static func modelID(_ state: ServerState) throws -> String {
        guard state.status == .ready else { throw OpenAIError.notReady(state) }
        guard let path = state.queue?.engine.path ?? state.embedder?.path else {
            throw OpenAIError.notFound("this server runs no text or embedding model, so the OpenAI-compatible API has nothing to serve",
                                       code: "model_not_found")
        }
        return URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
    }

    static func modelList(_ state: ServerState) throws -> JSONValue {
        let created = Int((state.setupCompleted ?? state.setupStarted).timeIntervalSince1970)
        let model: JSONValue = ["id": .string(try modelID(state)), "object": "model", "created": .int(created), "owned_by": "swiftlet"]
        return ["object": "list", "data": [model]]
    }

    static func complete(_ request: Request, kind: OpenAIGenerationRequest.Kind, state: ServerState, limit: Int,
                         context: ServerRequestContext) async throws -> Response {
        let body = try await OpenAIRequestBody.read(request, maxBytes: limit)
        let model = try modelID(state)
        guard let queue = state.queue else {
            throw OpenAIError.invalid("'\(model)' is an embedding model: it serves /v1/embeddings, not completions",
                                      param: "model", code: "model_not_supported")
        }
        let parsed = try OpenAIGenerationRequest.parse(body, kind: kind, engine: queue.engine)
        return try await OpenAICompletions(request: parsed, model: model).respond(queue: queue, context: context)
    }

    /// Runs a handler, turning its errors into OpenAI's envelope (unexpected ones are a 500).
    static func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let e as OpenAIError {
            return e.response
        } catch {
            return OpenAIError.internalError(error).response
        }
    }

    static func answer(_ body: () throws -> Response) -> Response {
        do {
            return try body()
        } catch let e as OpenAIError {
            return e.response
        } catch {
            return OpenAIError.internalError(error).response
        }
    }
}
