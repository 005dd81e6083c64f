// A deployment manifest (`deployments/<name>.json`): what a deployment serves, from which model,
// with which prediction inputs and output. Read once at startup; validation and the OpenAPI
// document are derived from it.
import Foundation
import SwiftletOptimize

/// One deployment, as its manifest file describes it.
public struct DeploymentManifest: Sendable, Equatable {
    public let name: String
    public let description: String
    public let kind: DeploymentKind
    /// The model file or directory; nil serves the server's default model.
    public let model: String?
    /// Optimization settings (`{"quantize": "int8"}`, pruning, ...) as written; the server applies them
    /// at load (`RecipeApplication`). Calibration paths in it are relative to the manifest's folder.
    public let recipe: JSONValue?
    /// The recipe, read and checked (every problem listed) when the manifest is read.
    public let optimization: OptimizationRecipe?
    public let output: DeploymentOutput
    /// Text output arrives in chunks (Cog's concatenate iterator; SSE with `Accept: text/event-stream`).
    public let streams: Bool
    public let artifacts: ArtifactOptions?
    public let chat: ChatOptions?
    public let inputs: InputSchema

    static let manifestKeys = ["name", "description", "kind", "model", "recipe", "output", "stream", "artifacts",
                               "chat", "inputs"]

    /// Checks a request's `input` member against the deployment's inputs (see `InputSchema.validate`).
    public func validate(_ input: JSONValue?) -> Result<PredictionInput, InputValidationFailure> {
        inputs.validate(input)
    }

    /// Reads and checks the manifest at `path`; errors name the file and the field.
    public static func load(path: String) throws -> DeploymentManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DeploymentManifestError(file: path, field: "", message: "cannot read the file")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw DeploymentManifestError(file: path, field: "", message: "not JSON: \(error)")
        }
        return try DeploymentManifest(json: json, file: path)
    }

    /// The manifest in `json`; `file` names it in errors.
    public init(json: JSONValue, file: String) throws {
        let object = try ManifestObject(json, file: file, path: "", keys: Self.manifestKeys)
        name = try object.string("name")
        description = try object.string("description")
        kind = try object.choice("kind", DeploymentKind.self)
        model = try object.optionalString("model")
        if let recipe = object.value("recipe"), recipe.members == nil {
            throw object.fail("recipe", "expected an object (e.g. {\"quantize\": \"int8\"}), got \(recipe.encoded)")
        }
        recipe = object.value("recipe")
        let folder = (file as NSString).deletingLastPathComponent
        do { optimization = try recipe.map { try OptimizationRecipe(json: $0, relativeTo: folder.isEmpty ? nil : folder) } } catch {
            throw object.fail("recipe", "\(error)")
        }
        output = try object.choice("output", DeploymentOutput.self)
        guard kind.rule.outputs.contains(output) else {
            throw object.fail("output", "a \(kind.rawValue) deployment returns \(kind.rule.outputs.map(\.rawValue).joined(separator: " or ")), not \(output.rawValue)")
        }
        streams = try object.optionalBool("stream") ?? false
        if streams, output != .text { throw object.fail("stream", "only text output streams") }
        artifacts = try object.optionalObject("artifacts", keys: ArtifactOptions.manifestKeys).map(ArtifactOptions.init(manifest:))

        guard let list = try object.optionalArray("inputs") else { throw object.fail("inputs", "missing (expected a list of fields)") }
        var fields: [InputField] = []
        for (i, element) in list.enumerated() {
            let fieldObject = try ManifestObject(element, file: file, path: "inputs[\(i)]", keys: InputField.manifestKeys)
            let field = try InputField(manifest: fieldObject)
            guard !fields.contains(where: { $0.name == field.name }) else {
                throw fieldObject.fail("name", "\"\(field.name)\" is declared twice")
            }
            fields.append(field)
        }
        guard !fields.isEmpty else { throw object.fail("inputs", "a deployment needs at least one input") }
        if kind.rule.needsFileInput, !fields.contains(where: { $0.type == .path }) {
            throw object.fail("inputs", "a \(kind.rawValue) deployment needs a path input (the image)")
        }
        let schema = InputSchema(fields: fields)
        inputs = schema
        chat = try object.optionalObject("chat", keys: ChatOptions.manifestKeys).map { try ChatOptions(manifest: $0, inputs: schema) }
    }
}
