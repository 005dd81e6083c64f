// How a deployment's inputs reach the model's chat template: a system prompt, and template
// variables chosen by an input's value (smollm3: mode "think" -> enable_thinking true).

/// Chat-template settings of a deployment.
public struct ChatOptions: Sendable, Equatable {
    /// A system message put before the user's prompt; nil for none.
    public let system: String?
    /// Per input field, the template variables each of its choices sets.
    public let templateVariables: [ChatVariableMapping]

    public init(system: String?, templateVariables: [ChatVariableMapping]) {
        self.system = system
        self.templateVariables = templateVariables
    }

    /// The template variables the validated `input` selects, in manifest order.
    public func variables(for input: PredictionInput) -> [(String, JSONValue)] {
        templateVariables.flatMap { mapping -> [(String, JSONValue)] in
            guard let value = input[mapping.field]?.string else { return [] }
            return mapping.cases.first { $0.choice == value }?.variables ?? []
        }
    }
}

/// The template variables each choice of one (string, choices) input field sets.
public struct ChatVariableMapping: Sendable, Equatable {
    public let field: String
    public let cases: [Case]

    public struct Case: Sendable, Equatable {
        public let choice: String
        public let variables: [(String, JSONValue)]

        public init(choice: String, variables: [(String, JSONValue)]) {
            self.choice = choice
            self.variables = variables
        }

        public static func == (a: Case, b: Case) -> Bool {
            a.choice == b.choice && JSONValue.object(a.variables) == JSONValue.object(b.variables)
        }
    }

    public init(field: String, cases: [Case]) {
        self.field = field
        self.cases = cases
    }
}

extension ChatOptions {
    static let manifestKeys = ["system", "template_variables"]

    /// `{"system": ..., "template_variables": {"mode": {"think": {"enable_thinking": true}, ...}}}`;
    /// each mapped field must be a string field with choices, and every choice must be mapped.
    init(manifest object: ManifestObject, inputs: InputSchema) throws {
        var mappings: [ChatVariableMapping] = []
        if let table = object.value("template_variables") {
            guard let fields = table.members else {
                throw object.fail("template_variables", "expected an object of input field -> choice -> variables")
            }
            for (name, perChoice) in fields {
                let path = object.field("template_variables") + ".\(name)"
                guard let field = inputs[name], field.type == .string, let choices = field.choices?.compactMap(\.string) else {
                    throw DeploymentManifestError(file: object.file, field: path,
                                                  message: "not a string input with choices")
                }
                let mapped = try ManifestObject(perChoice, file: object.file, path: path, keys: choices)
                let cases = try choices.map { choice -> ChatVariableMapping.Case in
                    guard let variables = mapped.value(choice)?.members else {
                        throw mapped.fail(choice, "missing: every choice needs an object of template variables")
                    }
                    return ChatVariableMapping.Case(choice: choice, variables: variables)
                }
                mappings.append(ChatVariableMapping(field: name, cases: cases))
            }
        }
        self.init(system: try object.optionalString("system"), templateVariables: mappings)
    }
}
