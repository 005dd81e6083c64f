// The OpenAPI document Cog serves at /openapi.json, built from a deployment manifest in coglet's
// shape (keys sorted as coglet's serializer writes them): the Input schema with x-order, defaults,
// bounds and enum components for choices; the Output schema for the deployment's output.

extension DeploymentManifest {
    /// The `/openapi.json` document; `version` goes in `info.version` (coglet writes its own version).
    /// Beside coglet's paths it lists PUT /predictions/{prediction_id} and POST /shutdown, which
    /// Swiftlet serves too (coglet serves them without listing them).
    public func openAPI(title: String = "Cog", version: String) -> JSONValue {
        var schemas: [(String, JSONValue)] = CogOpenAPI.fixedSchemas
        schemas.append(("Input", inputSchema))
        schemas.append(("Output", outputSchema))
        for field in inputs.fields {
            guard let choices = field.choices else { continue }
            schemas.append((field.name, [
                "description": "An enumeration.", "enum": .array(choices),
                "title": .string(field.name), "type": .string(field.type.jsonType),
            ]))
        }
        let document: JSONValue = [
            "components": ["schemas": .object(schemas)],
            "info": ["title": .string(title), "version": .string(version)],
            "openapi": "3.0.2",
            "paths": CogOpenAPI.paths,
        ]
        return document.sortingKeys()
    }

    /// `components.schemas.Input`.
    var inputSchema: JSONValue {
        var properties: [(String, JSONValue)] = []
        for (order, field) in inputs.fields.enumerated() {
            var p: [(String, JSONValue)] = []
            if field.choices != nil {
                p.append(("allOf", [["$ref": .string("#/components/schemas/\(field.name)")]]))
            } else {
                p += field.type.schema
                p.append(("title", .string(CogOpenAPI.title(field.name))))
            }
            if let d = field.defaultValue { p.append(("default", d)) } else if field.isNullable { p.append(("default", .null)) }
            if let description = field.description { p.append(("description", .string(description))) }
            if let minimum = field.minimum { p.append(("minimum", InputField.bound(minimum))) }
            if let maximum = field.maximum { p.append(("maximum", InputField.bound(maximum))) }
            if field.isNullable { p.append(("nullable", true)) }
            p.append(("x-order", .int(order)))
            properties.append((field.name, .object(p)))
        }
        var schema: [(String, JSONValue)] = [("properties", .object(properties))]
        let required = inputs.fields.filter(\.isRequired).map { JSONValue.string($0.name) }
        if !required.isEmpty { schema.append(("required", .array(required))) }
        schema += [("title", "Input"), ("type", "object")]
        return .object(schema)
    }

    /// `components.schemas.Output`.
    var outputSchema: JSONValue {
        switch (output, streams) {
        case (.text, false): return ["title": "Output", "type": "string"]
        case (.text, true):
            return ["items": ["type": "string"], "title": "Output", "type": "array",
                    "x-cog-array-display": "concatenate", "x-cog-array-type": "iterator"]
        case (.image, _): return ["format": "uri", "title": "Output", "type": "string"]
        case (.reasoning, _):
            return ["properties": ["answer": ["title": "Answer", "type": "string"],
                                   "reasoning": ["nullable": true, "title": "Reasoning", "type": "string"]],
                    "required": ["answer"], "title": "Output", "type": "object"]
        }
    }
}

/// The parts of Cog's OpenAPI document that do not depend on the deployment.
enum CogOpenAPI {
    /// Python's `str.title()` of a field name, as Cog writes titles: `max_new_tokens` -> `Max New Tokens`.
    static func title(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: " ")
    }

    static func ref(_ schema: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(schema)")] }

    static func json(_ schema: JSONValue) -> JSONValue { ["application/json": ["schema": schema]] }

    static let untyped: JSONValue = ["200": ["content": json([:]), "description": "Successful Response"]]
    static let validationError: JSONValue = ["content": json(ref("HTTPValidationError")), "description": "Validation Error"]
    static let predictionResponses: JSONValue = [
        "200": ["content": json(ref("PredictionResponse")), "description": "Successful Response"],
        "422": validationError,
    ]
    static let predictionIdParameter: JSONValue = [
        "in": "path", "name": "prediction_id", "required": true, "schema": ["title": "Prediction Id", "type": "string"],
    ]

    static let paths: JSONValue = [
        "/": ["get": ["operationId": "root__get", "responses": untyped, "summary": "Root"]],
        "/health-check": ["get": ["operationId": "healthcheck_health_check_get", "responses": untyped,
                                  "summary": "Healthcheck"]],
        "/predictions": ["post": [
            "description": "Run a single prediction on the model", "operationId": "predict_predictions_post",
            "requestBody": ["content": json(ref("PredictionRequest"))],
            "responses": predictionResponses, "summary": "Predict",
        ]],
        "/predictions/{prediction_id}": ["put": [
            "description": "Run a single prediction on the model (idempotent creation).",
            "operationId": "predict_idempotent_predictions__prediction_id__put",
            "parameters": [predictionIdParameter],
            "requestBody": ["content": json(ref("PredictionRequest")), "required": true],
            "responses": predictionResponses, "summary": "Predict Idempotent",
        ]],
        "/predictions/{prediction_id}/cancel": ["post": [
            "operationId": "cancel_predictions__prediction_id__cancel_post",
            "parameters": [predictionIdParameter],
            "responses": ["200": ["content": json([:]), "description": "Successful Response"], "422": validationError],
            "summary": "Cancel",
        ]],
        "/shutdown": ["post": ["operationId": "start_shutdown_shutdown_post", "responses": untyped,
                               "summary": "Start Shutdown"]],
    ]

    static func titled(_ title: String, _ type: String, format: String? = nil) -> JSONValue {
        var p: [(String, JSONValue)] = [("title", .string(title)), ("type", .string(type))]
        if let format { p.insert(("format", .string(format)), at: 0) }
        return .object(p)
    }

    /// Every component except Input, Output and the enums of choice fields.
    static let fixedSchemas: [(String, JSONValue)] = [
        ("HTTPValidationError", [
            "properties": ["detail": ["items": ref("ValidationError"), "title": "Detail", "type": "array"]],
            "title": "HTTPValidationError", "type": "object",
        ]),
        ("PredictionRequest", [
            "properties": ["id": titled("Id", "string"), "input": ref("Input")],
            "title": "PredictionRequest", "type": "object",
        ]),
        ("PredictionResponse", [
            "properties": [
                "completed_at": titled("Completed At", "string", format: "date-time"),
                "created_at": titled("Created At", "string", format: "date-time"),
                "error": titled("Error", "string"),
                "id": titled("Id", "string"),
                "input": ref("Input"),
                "logs": titled("Logs", "string"),
                "metrics": titled("Metrics", "object"),
                "output": ref("Output"),
                "started_at": titled("Started At", "string", format: "date-time"),
                "status": titled("Status", "string"),
                "version": titled("Version", "string"),
            ],
            "title": "PredictionResponse", "type": "object",
        ]),
        ("Status", [
            "description": "An enumeration.", "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
            "title": "Status", "type": "string",
        ]),
        ("ValidationError", [
            "properties": [
                "loc": ["items": ["anyOf": [["type": "string"], ["type": "integer"]]], "title": "Location", "type": "array"],
                "msg": titled("Message", "string"),
                "type": titled("Error Type", "string"),
            ],
            "required": ["loc", "msg", "type"], "title": "ValidationError", "type": "object",
        ]),
    ]
}

extension JSONValue {
    /// A copy with every object's members sorted by key (byte order), as coglet's serializer writes them.
    func sortingKeys() -> JSONValue {
        switch self {
        case .object(let members):
            return .object(members.map { ($0.0, $0.1.sortingKeys()) }
                .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
        case .array(let items): return .array(items.map { $0.sortingKeys() })
        default: return self
        }
    }
}
