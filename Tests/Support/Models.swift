// Locates the real models for end-to-end tests (fetched by scripts/fetch-models).
import Foundation

/// The real models the suite runs on. On a developer machine a missing model skips its tests with a
/// message; in CI (`CI=true`) a missing model is a failure, never a silent pass.
public enum TestModels {
    public static var directory: String {
        ProcessInfo.processInfo.environment["SWIFTLET_MODELS"]
            ?? (NSHomeDirectory() + "/.cache/swiftlet/models")
    }
    public static var smollm2: String { directory + "/SmolLM2-135M-Instruct.Q4_1.gguf" }
    public static var gemma3: String { directory + "/gemma-3-270m-q4_k_m.gguf" }
    /// all-MiniLM-L6-v2 checkpoint folder (config.json, model.safetensors, tokenizer.json).
    public static var minilm: String { directory + "/all-MiniLM-L6-v2" }

    public static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The path if the model is present. Absent: nil on a developer machine (after printing why),
    /// or a thrown error in CI.
    public static func require(_ path: String) throws -> String? {
        if FileManager.default.fileExists(atPath: path) { return path }
        let message = "model \(path) is missing: run scripts/fetch-models all"
        if inCI { throw MissingModel(description: message) }
        print("skipping: \(message)")
        return nil
    }

    public struct MissingModel: Error, CustomStringConvertible { public let description: String }
}
