// POST /v1/embeddings: sentence embeddings from an embedding model (BERT), in OpenAI's list shape.
import Foundation
import Hummingbird
import SwiftletRuntime

enum OpenAIEmbeddings {
    /// {"input": text or [texts], "encoding_format": "float" | "base64", "dimensions"?} ->
    /// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}.
    static func respond(_ body: OpenAIRequestBody, state: ServerState) async throws -> Response {
        let model = try OpenAIRoutes.modelID(state)
        guard let embedder = state.embedder else {
            throw OpenAIError.invalid("'\(model)' is a text-generation model, not an embedding model; serve an embedding model (e.g. all-MiniLM-L6-v2) for /v1/embeddings",
                                      param: "model", code: "model_not_supported")
        }
        guard body["input"] != nil else { throw OpenAIError.invalid("'input' is required", param: "input") }
        guard let texts = try? body.strings("input") else {
            throw OpenAIError.invalid("'input' must be a string or a list of strings (token-id inputs are not supported)", param: "input")
        }
        if texts.isEmpty { throw OpenAIError.invalid("'input' must not be an empty list", param: "input") }
        if texts.count > 2048 { throw OpenAIError.invalid("'input' has \(texts.count) texts; at most 2048 per request", param: "input") }
        let format = try body.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw OpenAIError.invalid("'encoding_format' must be \"float\" or \"base64\"", param: "encoding_format")
        }
        if let d = try body.int("dimensions", in: 1...Int(Int32.max)), d != embedder.model.dimension {
            throw OpenAIError.invalid("'dimensions' must be \(embedder.model.dimension), this model's size (shortening is not supported)",
                                      param: "dimensions")
        }
        let promptTokens = texts.reduce(0) { $0 + embedder.tokens($1).count }
        let vectors: [[Float]]
        do {
            vectors = try embedder.embed(texts)
        } catch {
            throw OpenAIError.internalError(error)
        }
        let data: [JSONValue] = vectors.enumerated().map { i, v in
            ["object": "embedding", "index": .int(i), "embedding": format == "float" ? floats(v) : .string(base64(v))]
        }
        return OpenAIResponse.json(["object": "list", "data": .array(data), "model": .string(model),
                                    "usage": ["prompt_tokens": .int(promptTokens), "total_tokens": .int(promptTokens)]])
    }

    /// Shortest round-tripping decimal text for each value.
    static func floats(_ v: [Float]) -> JSONValue {
        .array(v.map { $0.isFinite ? .number("\($0)") : .null })
    }

    /// Little-endian float32 bytes, base64: what the `openai` client asks for and decodes.
    static func base64(_ v: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(v.count * 4)
        for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}
