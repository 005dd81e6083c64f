// What a deployment does and what it returns: the kinds and outputs a manifest may name, and which
// outputs (and inputs) each kind needs.

/// The task a deployment serves.
public enum DeploymentKind: String, Sendable, CaseIterable {
    case textGeneration = "text-generation"
    case reasoning
    case multimodalQA = "multimodal-qa"
    case textToImage = "text-to-image"
    case imageToImage = "image-to-image"

    /// The outputs the kind can produce, and whether it reads a file (an image) input.
    var rule: (outputs: [DeploymentOutput], needsFileInput: Bool) { Self.rules[self]! }

    private static let rules: [DeploymentKind: (outputs: [DeploymentOutput], needsFileInput: Bool)] = [
        .textGeneration: ([.text], false),
        .reasoning: ([.reasoning, .text], false),
        .multimodalQA: ([.text], true),
        .textToImage: ([.image], false),
        .imageToImage: ([.image], true),
    ]
}

/// What a prediction returns.
public enum DeploymentOutput: String, Sendable, CaseIterable {
    /// A string (or, when the manifest says `"stream": true`, string chunks to concatenate).
    case text
    /// `{"reasoning": ..., "answer": ...}`: the text between think tags kept apart from the answer
    /// (`reasoning` is null when the model wrote no think block).
    case reasoning
    /// A file (an image), returned as a URL or data URI.
    case image
}
