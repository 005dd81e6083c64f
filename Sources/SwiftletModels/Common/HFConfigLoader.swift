// Reads a checkpoint folder's config.json and picks the architecture from `model_type`.
import Foundation

public enum HFConfigLoader {
    /// The `model_type` (or, failing that, the first of `architectures`) of a config.json.
    public static func modelType(_ json: Data, path: String) throws -> String {
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw ModelError("\(path): config.json is not a JSON object")
        }
        if let t = obj["text_config"] as? [String: Any], let m = t["model_type"] as? String, obj["model_type"] as? String == "gemma3" {
            return m
        }
        if let m = obj["model_type"] as? String { return m }
        if let a = (obj["architectures"] as? [String])?.first { return a }
        throw ModelError("\(path): config.json names no model_type")
    }

    /// Decodes `T` from config.json (or its `text_config` for multimodal wrappers), naming the
    /// file and the key on failure.
    public static func decode<T: Decodable>(_ type: T.Type, from json: Data, path: String) throws -> T {
        var data = json
        if let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let text = obj["text_config"] as? [String: Any] {
            data = try JSONSerialization.data(withJSONObject: text)
        }
        do { return try JSONDecoder().decode(T.self, from: data) } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelError("\(path): \(ctx.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError("\(path): missing \(key.stringValue)")
        } catch {
            throw ModelError("\(path): \(error)")
        }
    }
}
