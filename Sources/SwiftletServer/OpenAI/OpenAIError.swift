// OpenAI's error envelope, {"error": {"message", "type", "param", "code"}}, and the statuses it goes with.
import Hummingbird

/// A request the OpenAI-compatible routes refuse, answered with OpenAI's error envelope.
struct OpenAIError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var param: String?
    var code: String?

    var description: String { message }

    /// 400: a missing, mistyped or out-of-range field (`param` names it).
    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 400 with code "context_length_exceeded": the prompt does not fit the model's context.
    static func contextLength(promptTokens: Int, context: Int, param: String) -> OpenAIError {
        .invalid("the prompt has \(promptTokens) tokens but the model's context is \(context) tokens; shorten it",
                 param: param, code: "context_length_exceeded")
    }

    static func notFound(_ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .notFound, message: message, type: "invalid_request_error", param: nil, code: code)
    }

    /// 503 while the model loads, or after it failed to load.
    static func notReady(_ state: ServerState) -> OpenAIError {
        let message = switch state.status {
        case .failed: "the model failed to load: \(state.setupError ?? "unknown reason")"
        default: "the model is still loading; retry when GET /health answers 200"
        }
        return OpenAIError(status: .serviceUnavailable, message: message, type: "server_error", param: nil,
                           code: "model_not_ready")
    }

    /// 429: the generation queue is full (not a per-key rate limit: the whole server is busy).
    static func queueFull(_ full: QueueFull) -> OpenAIError {
        OpenAIError(status: .tooManyRequests, message: full.description, type: "rate_limit_error", param: nil,
                    code: "queue_full")
    }

    static func unauthorized(_ message: String) -> OpenAIError {
        OpenAIError(status: .unauthorized, message: message, type: "authentication_error", param: nil,
                    code: "invalid_api_key")
    }

    /// 500: a failure that is the server's fault, never the request's.
    static func internalError(_ error: any Error) -> OpenAIError {
        OpenAIError(status: .internalServerError, message: "internal error: \(error)", type: "server_error",
                    param: nil, code: nil)
    }

    var json: JSONValue {
        ["error": ["message": .string(message), "type": .string(type),
                   "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null]]
    }

    var response: Response { OpenAIResponse.json(json, status: status) }
}

/// JSON responses of the OpenAI-compatible routes.
enum OpenAIResponse {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: value.encoded)))
    }
}
