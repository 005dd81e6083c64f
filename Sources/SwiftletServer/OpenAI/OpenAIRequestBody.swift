// Reading an OpenAI-style request body: size limit, content type, JSON object, and typed fields
// whose errors name the field (OpenAI's `param`).
import Foundation
import Hummingbird
import NIOCore

/// A request's JSON object with typed, validated access to its fields. Unknown fields are ignored.
struct OpenAIRequestBody {
    let json: JSONValue

    /// Collects and parses the body: 413 over `maxBytes`, 415 for a non-JSON content type, 400 for
    /// malformed JSON or a value that is not an object.
    static func read(_ request: Request, maxBytes: Int) async throws -> OpenAIRequestBody {
        if let type = request.headers[.contentType] {
            let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard mediaType == "application/json" else {
                throw OpenAIError(status: .unsupportedMediaType,
                                  message: "the body must be JSON sent with Content-Type: application/json (got \(type))",
                                  type: "invalid_request_error", param: nil, code: "unsupported_media_type")
            }
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw OpenAIError(status: .contentTooLarge, message: "the request body is larger than \(maxBytes) bytes",
                              type: "invalid_request_error", param: nil, code: "request_too_large")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(buffer.readableBytesView)
        } catch let e as JSONParseError {
            throw OpenAIError.invalid("the body is not valid JSON: \(e)", code: "invalid_json")
        }
        guard case .object = value else { throw OpenAIError.invalid("the body must be a JSON object", code: "invalid_json") }
        return OpenAIRequestBody(json: value)
    }

    /// The field, nil when absent or null (OpenAI treats null as "not given").
    subscript(_ key: String) -> JSONValue? {
        guard let v = json[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws -> String? {
        guard let v = self[key] else { return nil }
        guard let s = v.string else { throw OpenAIError.invalid("'\(key)' must be a string", param: key) }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = self[key] else { return nil }
        guard let b = v.bool else { throw OpenAIError.invalid("'\(key)' must be true or false", param: key) }
        return b
    }

    /// An integer field within `range`.
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = self[key] else { return nil }
        // 64.0 is accepted as 64, as Python's OpenAI servers do; 64.5 is not.
        guard let d = v.double, let i = v.int ?? (d == d.rounded() && abs(d) < 9e15 ? Int(d) : nil) else {
            throw OpenAIError.invalid("'\(key)' must be an integer", param: key)
        }
        guard range.contains(i) else {
            throw OpenAIError.invalid("'\(key)' is \(i) but must be in \(range.lowerBound)...\(range.upperBound)", param: key)
        }
        return i
    }

    /// A number field within `range`.
    func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let v = self[key] else { return nil }
        guard let d = v.double, d.isFinite else { throw OpenAIError.invalid("'\(key)' must be a number", param: key) }
        guard range.contains(d) else {
            throw OpenAIError.invalid("'\(key)' is \(d) but must be in \(range.lowerBound)...\(range.upperBound)", param: key)
        }
        return d
    }

    /// A string or a list of strings (OpenAI's `stop`, `input`).
    func strings(_ key: String) throws -> [String]? {
        guard let v = self[key] else { return nil }
        if let s = v.string { return [s] }
        guard let items = v.array, let strings = Optional(items.compactMap(\.string)), strings.count == items.count else {
            throw OpenAIError.invalid("'\(key)' must be a string or a list of strings", param: key)
        }
        return strings
    }
}
