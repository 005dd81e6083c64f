// Deployment manifests, input validation and the OpenAPI document, checked against the real Cog
// captures in ../shared/cog (coglet 0.23.1 and cog 0.16.12) and the seed deployments.
import Foundation
import Testing
import SwiftletServer

/// The checkout's root, and the captures CI places beside it.
private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let captures = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/cog")
private let fixtures = repoRoot.appendingPathComponent("Tests/SwiftletServerTests/Fixtures")

/// One captured exchange: the request body and the response body (JSON), as sent.
private struct Capture {
    let request: JSONValue?
    let response: JSONValue
    let responseText: String

    /// `generation/file`, e.g. `coglet-0.23.1/09_predict_missing_required.txt`. A missing file fails.
    init(_ name: String) throws {
        let path = captures.appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CaptureMissing(path: path)
        }
        // Response headers end in CRLF; the body follows the first blank line of each part.
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "### RESPONSE")
        func body(_ part: String) -> String {
            let headed = String(part.drop { $0 == "\n" })
            guard let blank = headed.range(of: "\n\n") else { return "" }
            return headed[blank.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let requestBody = body(parts[0].components(separatedBy: "### REQUEST").last!)
        request = requestBody.isEmpty ? nil : try JSONValue.parse(requestBody)
        responseText = body(parts[1])
        response = try JSONValue.parse(responseText)
    }
}

private struct CaptureMissing: Error, CustomStringConvertible {
    let path: String
    var description: String { "capture \(path) is missing: CI must have shared/cog beside the checkout" }
}

private func fixture(_ name: String) throws -> DeploymentManifest {
    try DeploymentManifest.load(path: fixtures.appendingPathComponent(name).path)
}

/// The issue coglet reports for input field `name`.
private func field(_ name: String, _ msg: String, type: String = "value_error") -> InputIssue {
    InputIssue(loc: ["body", "input", name], msg: msg, type: type)
}

private func issues(_ result: Result<PredictionInput, InputValidationFailure>) -> [InputIssue] {
    if case .failure(let f) = result { return f.issues }
    return []
}

@Suite struct DeploymentSchemaTests {
    // MARK: Validation against the captures

    @Test(arguments: ["09_predict_missing_required", "10_predict_int_out_of_range", "11_predict_wrong_type",
                      "12_predict_bad_enum", "17_predict_multiple_errors"])
    func refusalsMatchCoglet(_ name: String) throws {
        let capture = try Capture("coglet-0.23.1/\(name).txt")
        let manifest = try fixture("cog-predictor.json")
        switch manifest.validate(capture.request?["input"]) {
        case .success(let input): Issue.record("accepted \(input.json.encoded)")
        case .failure(let failure):
            #expect(failure.body == capture.response)
            #expect(failure.body.encoded == capture.responseText)
        }
    }

    /// cog 0.16 echoes the validated input: defaults applied, fields in schema order, "64" coerced.
    @Test(arguments: ["07_predict_valid", "08_predict_defaults_only", "18_predict_numeric_string_coercion"])
    func acceptedInputMatchesCogEcho(_ name: String) throws {
        let capture = try Capture("cog-0.16.12/\(name).txt")
        let manifest = try fixture("cog-predictor.json")
        let echoed = try #require(capture.response["input"])
        let input = try manifest.validate(capture.request?["input"]).get()
        #expect(input.json == echoed)
        #expect(input.json.encoded == echoed.encoded)
    }

    /// coglet's client-chosen id capture: the input is valid and runs with the defaults its output shows.
    @Test func clientIdCaptureValidates() throws {
        let capture = try Capture("coglet-0.23.1/18_predict_with_client_id_sync.txt")
        #expect(capture.response["output"] == "echo[think|128|0.7|None]: x")
        let input = try fixture("cog-predictor.json").validate(capture.request?["input"]).get()
        #expect(input.json == ["prompt": "x", "max_new_tokens": 128, "temperature": 0.7, "mode": "think", "seed": nil])
    }

    // MARK: Coercion decisions (docs/cog-api.md)

    @Test func coercions() throws {
        let manifest = try fixture("cog-predictor.json")
        func accepted(_ input: JSONValue) throws -> PredictionInput { try manifest.validate(input).get() }

        #expect(try accepted(["prompt": "x", "max_new_tokens": "64"])["max_new_tokens"]?.encoded == "64")
        #expect(try accepted(["prompt": "x", "max_new_tokens": .number("64.0")])["max_new_tokens"]?.encoded == "64")
        #expect(try accepted(["prompt": "x", "temperature": " 1.5 "])["temperature"]?.encoded == "1.5")
        #expect(try accepted(["prompt": "x", "temperature": 1])["temperature"]?.encoded == "1")
        #expect(try accepted(["prompt": "x", "seed": nil])["seed"] == .null)
        #expect(try manifest.validate(JSONValue.object([("prompt", "a"), ("prompt", "b")])).get()["prompt"] == "b")

        let refused: [(JSONValue, InputIssue)] = [
            (["prompt": "x", "max_new_tokens": .number("64.5")],
             field("max_new_tokens", "64.5 is not of type \"integer\"")),
            (["prompt": "x", "max_new_tokens": nil], field("max_new_tokens", "null is not of type \"integer\"")),
            (["prompt": "x", "temperature": "nan"], field("temperature", "\"nan\" is not of type \"number\"")),
            (["prompt": "x", "temperature": 2.5], field("temperature", "2.5 is greater than the maximum of 2")),
            (["prompt": "x", "temperature": -0.1], field("temperature", "-0.1 is less than the minimum of 0")),
            (["prompt": 5], field("prompt", "5 is not of type \"string\"")),
            (["prompt": "x", "mode": 1], field("mode", "1 is not of type \"string\"")),
            (["prompt": "x", "steps": 5], field("steps", "Unexpected field 'steps'", type: "value_error.extra")),
        ]
        for (input, issue) in refused {
            #expect(issues(manifest.validate(input)) == [issue], "\(input.encoded)")
        }

        let missing = field("prompt", "Field required", type: "value_error.missing")
        #expect(issues(manifest.validate(nil)) == [missing])
        #expect(issues(manifest.validate(.null)) == [missing])
        #expect(issues(manifest.validate("hello")) ==
                [InputIssue(loc: ["body", "input"], msg: "\"hello\" is not of type \"object\"", type: "value_error")])
        // Unknown fields first, then bad values by name, then missing required fields.
        #expect(issues(manifest.validate(["zeta": 1, "temperature": "hot", "alpha": 2])).map { $0.loc[2] } ==
                ["zeta", "alpha", "temperature", "prompt"])
    }

    @Test func pathInputs() throws {
        let manifest = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
            .manifest(named: "gemma3-multimodal")
        for good in ["https://example.com/cat.png", "http://127.0.0.1:5198/input.txt",
                     "data:text/plain;base64,aW5saW5lIGRhdGEgdXJp"] {
            #expect(try manifest.validate(["image": .string(good), "prompt": "what?"]).get()["image"] == .string(good))
        }
        for bad in ["cat.png", "/tmp/cat.png", "file:///etc/passwd", "https://", "data:nocomma"] {
            #expect(issues(manifest.validate(["image": .string(bad), "prompt": "what?"])) ==
                    [field("image", "\"\(bad)\" is not a file URL: give an http(s) URL or a data URI")],
                    "\(bad)")
        }
        #expect(issues(manifest.validate(["image": 3, "prompt": "what?"])) == [field("image", "3 is not of type \"string\"")])
    }

    // MARK: OpenAPI against the captures

    @Test func openAPIMatchesCoglet() throws {
        let capture = try Capture("coglet-0.23.1/06_openapi.txt")
        let document = try fixture("cog-predictor.json").openAPI(version: "0.23.1")
        try expectCogletShape(document, capture.response)
    }

    @Test func pathOutputOpenAPIMatchesCoglet() throws {
        let capture = try Capture("coglet-0.23.1/40_path_output_openapi.txt")
        let document = try fixture("cog-path-predictor.json").openAPI(version: "0.23.1")
        try expectCogletShape(document, capture.response)
    }

    /// Every component coglet lists, byte for byte; every path coglet lists; info and openapi.
    private func expectCogletShape(_ ours: JSONValue, _ theirs: JSONValue) throws {
        #expect(ours["openapi"] == theirs["openapi"])
        #expect(ours["info"] == theirs["info"])
        let ourSchemas = try #require(ours["components"]?["schemas"]?.members)
        let theirSchemas = try #require(theirs["components"]?["schemas"]?.members)
        #expect(ourSchemas.map(\.0) == theirSchemas.map(\.0))
        for (name, schema) in theirSchemas {
            #expect(ours["components"]?["schemas"]?[name]?.encoded == schema.encoded, "component \(name)")
        }
        let theirPaths = try #require(theirs["paths"]?.members)
        for (path, item) in theirPaths {
            #expect(ours["paths"]?[path]?.encoded == item.encoded, "path \(path)")
        }
        let ourPaths = try #require(ours["paths"]?.members).map(\.0)
        #expect(ourPaths == ["/", "/health-check", "/predictions", "/predictions/{prediction_id}",
                             "/predictions/{prediction_id}/cancel", "/shutdown"])
    }

    @Test func outputSchemas() throws {
        let catalog = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
        let output = { (name: String) throws -> JSONValue? in
            try catalog.manifest(named: name).openAPI(version: "test")["components"]?["schemas"]?["Output"]
        }
        #expect(try output("smollm3")?.encoded ==
                #"{"items":{"type":"string"},"title":"Output","type":"array","x-cog-array-display":"concatenate","x-cog-array-type":"iterator"}"#)
        #expect(try output("flux-txt2img")?.encoded == #"{"format":"uri","title":"Output","type":"string"}"#)
        #expect(try output("phi4-reasoning")?["required"] == ["answer"])
        #expect(try output("phi4-reasoning")?["properties"]?["reasoning"]?["nullable"] == true)
        let input = try catalog.manifest(named: "gemma3-multimodal").openAPI(version: "test")["components"]?["schemas"]?["Input"]
        #expect(input?["properties"]?["image"]?.encoded ==
                #"{"description":"The image to ask about: an http(s) URL or a data URI.","format":"uri","title":"Image","type":"string","x-order":0}"#)
        #expect(input?["required"] == ["image", "prompt"])
    }

    // MARK: Seed deployments

    /// (field, type, default, minimum, maximum, choices, required) of every seed deployment, in order.
    static let seedSchemas: [String: [(String, InputFieldType, JSONValue?, Double?, Double?, [JSONValue]?, Bool)]] = [
        "smollm3": [
            ("prompt", .string, nil, nil, nil, nil, true),
            ("max_new_tokens", .integer, 512, 1, 16384, nil, false),
            ("temperature", .number, 0.7, 0, 2, nil, false),
            ("top_p", .number, 0.9, 0, 1, nil, false),
            ("mode", .string, "no_think", nil, nil, ["think", "no_think"], false),
            ("seed", .integer, nil, nil, nil, nil, false),
        ],
        "phi4-reasoning": [
            ("prompt", .string, nil, nil, nil, nil, true),
            ("max_new_tokens", .integer, 2048, 1, 32768, nil, false),
            ("temperature", .number, 0.7, 0, 2, nil, false),
            ("top_p", .number, 0.95, 0, 1, nil, false),
            ("seed", .integer, nil, nil, nil, nil, false),
        ],
        "gemma3-multimodal": [
            ("image", .path, nil, nil, nil, nil, true),
            ("prompt", .string, nil, nil, nil, nil, true),
            ("max_new_tokens", .integer, 256, 1, 8192, nil, false),
            ("temperature", .number, 0.7, 0, 2, nil, false),
            ("top_p", .number, 0.9, 0, 1, nil, false),
            ("seed", .integer, nil, nil, nil, nil, false),
        ],
        "flux-txt2img": [
            ("prompt", .string, nil, nil, nil, nil, true),
            ("trigger_word", .string, nil, nil, nil, nil, false),
            ("height", .integer, 768, 256, 2048, nil, false),
            ("width", .integer, 768, 256, 2048, nil, false),
            ("num_inference_steps", .integer, 30, 1, 100, nil, false),
            ("guidance_scale", .number, 3.5, 0, 20, nil, false),
            ("seed", .integer, nil, nil, nil, nil, false),
        ],
        "flux-img2img": [
            ("image", .path, nil, nil, nil, nil, true),
            ("prompt", .string, nil, nil, nil, nil, true),
            ("trigger_word", .string, nil, nil, nil, nil, false),
            ("strength", .number, 0.7, 0, 1, nil, false),
            ("num_inference_steps", .integer, 30, 1, 100, nil, false),
            ("guidance_scale", .number, 3.5, 0, 20, nil, false),
            ("seed", .integer, nil, nil, nil, nil, false),
        ],
    ]

    @Test func seedDeploymentsHaveTheirSchemas() throws {
        let catalog = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
        #expect(catalog.names == Self.seedSchemas.keys.sorted())
        for manifest in try catalog.all() {
            let expected = try #require(Self.seedSchemas[manifest.name])
            #expect(manifest.inputs.fields.map(\.name) == expected.map(\.0), "\(manifest.name)")
            for (field, e) in zip(manifest.inputs.fields, expected) {
                let got = (field.type, field.defaultValue, field.minimum, field.maximum, field.choices, field.isRequired)
                #expect(got == (e.1, e.2, e.3, e.4, e.5, e.6), "\(manifest.name).\(field.name)")
                #expect(field.description?.isEmpty == false, "\(manifest.name).\(field.name) has no description")
            }
        }
    }

    @Test func seedDeploymentsValidateSampleInputs() throws {
        let catalog = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
        let image = "data:image/png;base64,iVBORw0KGgo="
        let samples: [String: (JSONValue, JSONValue)] = [
            "smollm3": (["prompt": "Hi", "mode": "think", "seed": 7],
                        ["prompt": "Hi", "max_new_tokens": 512, "temperature": 0.7, "top_p": 0.9, "mode": "think", "seed": 7]),
            "phi4-reasoning": (["prompt": "Why?", "max_new_tokens": 100],
                               ["prompt": "Why?", "max_new_tokens": 100, "temperature": 0.7, "top_p": 0.95, "seed": nil]),
            "gemma3-multimodal": (["image": .string(image), "prompt": "What is it?"],
                                  ["image": .string(image), "prompt": "What is it?", "max_new_tokens": 256,
                                   "temperature": 0.7, "top_p": 0.9, "seed": nil]),
            "flux-txt2img": (["prompt": "a fox", "width": 1024],
                             ["prompt": "a fox", "trigger_word": nil, "height": 768, "width": 1024,
                              "num_inference_steps": 30, "guidance_scale": 3.5, "seed": nil]),
            "flux-img2img": (["image": "https://example.com/in.png", "prompt": "oil painting", "trigger_word": "TOK"],
                             ["image": "https://example.com/in.png", "prompt": "oil painting", "trigger_word": "TOK",
                              "strength": 0.7, "num_inference_steps": 30, "guidance_scale": 3.5, "seed": nil]),
        ]
        for (name, (input, expected)) in samples {
            #expect(try catalog.manifest(named: name).validate(input).get().json == expected, "\(name)")
        }
        #expect(issues(try catalog.manifest(named: "flux-txt2img").validate(["prompt": "x", "height": 4096])) ==
                [field("height", "4096 is greater than the maximum of 2048")])
    }

    @Test func smollm3ModeReachesTheChatTemplate() throws {
        let manifest = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
            .manifest(named: "smollm3")
        let chat = try #require(manifest.chat)
        for (mode, thinking) in [("think", true), ("no_think", false)] {
            let input = try manifest.validate(["prompt": "Hi", "mode": .string(mode)]).get()
            #expect(JSONValue.object(chat.variables(for: input)) == ["enable_thinking": .bool(thinking)])
        }
        #expect(JSONValue.object(chat.variables(for: try manifest.validate(["prompt": "Hi"]).get())) ==
                ["enable_thinking": false])
        #expect(manifest.model == nil && manifest.streams)
        #expect(manifest.artifacts?.path(seed: 42, index: 0) == "outputs/output_42_0.txt")
    }

    @Test func unknownDeploymentListsTheAvailableOnes() throws {
        let catalog = try DeploymentCatalog(directory: repoRoot.appendingPathComponent("deployments").path)
        #expect(throws: DeploymentCatalogError.unknown("llama", available: Self.seedSchemas.keys.sorted(),
                                                       directory: catalog.directory)) {
            try catalog.manifest(named: "llama")
        }
        let message = "\(DeploymentCatalogError.unknown("llama", available: ["a", "b"], directory: "deployments"))"
        #expect(message == "unknown deployment \"llama\" in deployments (available: a, b)")
        #expect(throws: DeploymentCatalogError.noDirectory("/nonexistent")) { try DeploymentCatalog(directory: "/nonexistent") }
    }

    // MARK: Bad manifests

    /// (change to the valid base manifest, field the error names, message).
    static let badManifests: [(String, String, String)] = [
        (#""kind": "chat""#, "kind",
         "unknown value \"chat\" (known: text-generation, reasoning, multimodal-qa, text-to-image, image-to-image)"),
        (#""output": "image""#, "output", "a text-generation deployment returns text, not image"),
        (#""stream": "yes""#, "stream", "expected true or false, got \"yes\""),
        (#""recipe": "int8""#, "recipe", #"expected an object (e.g. {"quantize": "int8"}), got "int8""#),
        (#""inptus": []"#, "inptus",
         "unknown key (known keys: name, description, kind, model, recipe, output, stream, artifacts, chat, inputs)"),
        (#""inputs": []"#, "inputs", "a deployment needs at least one input"),
        (#""inputs": [{"name": "Prompt", "type": "string"}]"#, "inputs[0].name",
         "\"Prompt\" is not a field name (lower-case letters, digits and _, not starting with a digit)"),
        (#""inputs": [{"name": "n", "type": "int"}]"#, "inputs[0].type",
         "unknown value \"int\" (known: string, integer, number, boolean, path)"),
        (#""inputs": [{"name": "n", "type": "integer", "default": 5000, "maximum": 4096}]"#, "inputs[0].default",
         "5000 is greater than the maximum of 4096"),
        (#""inputs": [{"name": "n", "type": "integer", "default": "5"}]"#, "inputs[0].default",
         "\"5\" is not of type \"integer\""),
        (#""inputs": [{"name": "n", "type": "integer", "default": 1.5}]"#, "inputs[0].default",
         "1.5 is not of type \"integer\""),
        (#""inputs": [{"name": "n", "type": "integer", "minimum": 5, "maximum": 1}]"#, "inputs[0].maximum",
         "1 is below the minimum 5"),
        (#""inputs": [{"name": "s", "type": "string", "maximum": 1}]"#, "inputs[0].maximum",
         "only integer and number fields take bounds, not string"),
        (#""inputs": [{"name": "s", "type": "string", "required": true, "default": "x"}]"#, "inputs[0].default",
         "a required field has no default (drop one of the two)"),
        (#""inputs": [{"name": "s", "type": "string", "choices": ["a", "b"], "default": "c"}]"#, "inputs[0].default",
         "\"c\" is not one of [\"a\",\"b\"]"),
        (#""inputs": [{"name": "s", "type": "string", "choices": ["a", "a"]}]"#, "inputs[0].choices[1]",
         "\"a\" is listed twice"),
        (#""inputs": [{"name": "s", "type": "string"}, {"name": "s", "type": "integer"}]"#, "inputs[1].name",
         "\"s\" is declared twice"),
        (#""inputs": [{"name": "s", "type": "string", "min": 1}]"#, "inputs[0].min",
         "unknown key (known keys: name, type, default, minimum, maximum, choices, description, required)"),
        (#""artifacts": {"directory": "out", "pattern": "x_{step}.txt"}"#, "artifacts.pattern",
         "unknown placeholder {step} (known: {seed}, {index})"),
        (#""chat": {"template_variables": {"mode": {"think": {"enable_thinking": true}}}}"#,
         "chat.template_variables.mode.no_think", "missing: every choice needs an object of template variables"),
        (#""chat": {"template_variables": {"prompt": {}}}"#, "chat.template_variables.prompt",
         "not a string input with choices"),
    ]

    @Test func badManifestsNameTheFileAndField() throws {
        let base: [(String, String)] = [
            ("name", #""t""#), ("description", #""test""#), ("kind", #""text-generation""#), ("output", #""text""#),
            ("inputs", #"[{"name": "prompt", "type": "string", "required": true}, {"name": "mode", "type": "string", "default": "think", "choices": ["think", "no_think"]}]"#),
        ]
        func manifest(_ change: String) -> String {
            let key = String(change.dropFirst().prefix { $0 != "\"" })
            var members = base.map { "\"\($0.0)\": \($0.1)" }
            if let i = base.firstIndex(where: { $0.0 == key }) { members[i] = change } else { members.append(change) }
            return "{" + members.joined(separator: ", ") + "}"
        }
        _ = try DeploymentManifest(json: try JSONValue.parse(manifest(#""name": "t""#)), file: "t.json")
        for (change, field, message) in Self.badManifests {
            #expect(throws: DeploymentManifestError(file: "bad.json", field: field, message: message), "\(change)") {
                try DeploymentManifest(json: try JSONValue.parse(manifest(change)), file: "bad.json")
            }
        }
        #expect(throws: DeploymentManifestError(file: "bad.json", field: "name", message: "missing (expected a string)")) {
            try DeploymentManifest(json: ["description": "x"], file: "bad.json")
        }
        let unreadable = fixtures.appendingPathComponent("no-such-manifest.json").path
        #expect(throws: DeploymentManifestError(file: unreadable, field: "", message: "cannot read the file")) {
            try DeploymentManifest.load(path: unreadable)
        }
        #expect("\(DeploymentManifestError(file: "d/x.json", field: "inputs[2].maximum", message: "bad"))" ==
                "d/x.json: inputs[2].maximum: bad")
    }
}
