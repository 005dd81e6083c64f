// From a deployment manifest to what the Cog routes serve: its schema, and at setup its predictor
// (text and reasoning deployments run on the engine; kinds the engine cannot run yet fail setup
// with the reason, while their schema and validation keep working).
import Foundation
import SwiftletTokenizers

extension CogSchema {
    /// The manifest's validation and OpenAPI document.
    public init(manifest m: DeploymentManifest) {
        self.init(validate: { input in m.validate(input).mapError { ValidationDetails($0.issues.map(\.json)) } },
                  openAPI: { m.openAPI(version: "swiftlet-0.1.0") },
                  fileFields: m.inputs.fields.filter { $0.type == .path }.map(\.name))
    }
}

enum DeploymentSetup {
    /// Why the engine cannot serve this kind of deployment yet, or nil when it can.
    static func unsupportedReason(_ m: DeploymentManifest) -> String? {
        switch m.kind {
        case .textGeneration, .reasoning: return nil
        case .multimodalQA:
            return "deployment \(m.name) needs image input (Gemma 3's vision tower and projector), which the engine does not run yet; "
                + "its text model loads, and the schema and validation work"
        case .textToImage, .imageToImage:
            return "deployment \(m.name) needs the Flux diffusion pipeline (text encoders, transformer, VAE, LoRA), which the engine does not support yet"
        }
    }

    /// The predictor of a text or reasoning deployment on a loaded model.
    static func textPredictor(_ m: DeploymentManifest, queue: GenerationQueue, outputs: String?) -> TextPredictor {
        var o = TextPredictorOptions()
        o.reasoning = m.output == .reasoning
        o.systemPrompt = m.chat?.system
        for mapping in m.chat?.templateVariables ?? [] where mapping.field == "mode" {
            for c in mapping.cases {
                o.modeVariables[c.choice] = Dictionary(c.variables.map { ($0.0, JinjaValue(json: $0.1)) }) { $1 }
            }
        }
        if let a = m.artifacts { o.artifactsDirectory = outputs ?? a.directory }
        return TextPredictor(queue: queue, options: o)
    }
}
