// The whole server as `swiftlet serve` builds it: a seed deployment's manifest, its model loaded
// in the background, Cog and OpenAI routes on one router; a deployment the engine cannot run yet
// fails setup with its reason while its schema still validates.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import SwiftletServer

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
private let tinyChat = repo + "/Tests/SwiftletModelsTests/Fixtures/hf/qwen2-chat"

private func waitForSetup(_ client: some TestClientProtocol) async throws -> JSONValue {
    for _ in 0..<200 {
        let b = try await client.execute(uri: "/health-check", method: .get) { body($0) }
        if b["status"] != "STARTING" { return b }
        try await Task.sleep(for: .milliseconds(25))
    }
    return "timed out"
}

@Test func smollm3DeploymentServesCogAndOpenAI() async throws {
    let manifest = try DeploymentCatalog(directory: repo + "/deployments").manifest(named: "smollm3")
    let outputs = NSTemporaryDirectory() + "swiftlet-outputs-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: outputs) }
    var config = ServerConfiguration(deployment: manifest, modelPath: tinyChat, defaultModelPath: "/nonexistent")
    config.outputsDirectory = outputs
    config.threads = 1
    let (app, _) = ServerApplication.make(config, logger: Logger(label: "test"))
    try await app.test(.router) { client in
        #expect(try await waitForSetup(client)["status"] == "READY")
        let req = #"{"input":{"prompt":"Name three colours.","max_new_tokens":6,"temperature":0,"seed":7,"mode":"think"}}"#
        let first = try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(req)) { body($0) }
        #expect(first["status"] == "succeeded" && first["output"]?.string?.isEmpty == false)
        #expect(first["input"]?["top_p"] == 0.9 && first["metrics"]?["output_token_count"]?.int == 6)
        let artifact = first["artifacts"]?.array?.first?.string ?? ""
        #expect(artifact == outputs + "/output_7_0.txt")
        #expect((try? String(contentsOfFile: artifact, encoding: .utf8)) == first["output"]?.string)
        // The same seed again: the same text (deterministic), the next artifact index.
        let second = try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(req)) { body($0) }
        #expect(second["output"] == first["output"] && second["artifacts"]?.array?.first?.string == outputs + "/output_7_1.txt")
        try await client.execute(uri: "/openapi.json", method: .get) { r in
            #expect(body(r)["components"]?["schemas"]?["Input"]?["properties"]?["mode"] != nil)
        }
        try await client.execute(uri: "/v1/models", method: .get) { r in #expect(r.status == .ok) }
        try await client.execute(uri: "/metrics", method: .get) { r in
            #expect(String(buffer: r.body).contains("swiftlet_http_requests_total{route=\"/predictions\""))
        }
    }
}

@Test func unsupportedDeploymentFailsSetupButValidates() async throws {
    let manifest = try DeploymentCatalog(directory: repo + "/deployments").manifest(named: "flux-txt2img")
    let (app, _) = ServerApplication.make(ServerConfiguration(deployment: manifest, modelPath: nil, defaultModelPath: "/nonexistent"),
                                          logger: Logger(label: "test"))
    try await app.test(.router) { client in
        let h = try await waitForSetup(client)
        #expect(h["status"] == "SETUP_FAILED")
        #expect(h["setup"]?["logs"]?.string?.contains("Flux diffusion pipeline") == true)
        try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders,
                                 body: post(#"{"input":{"prompt":"a cat","height":10}}"#)) { r in
            #expect(r.status == .unprocessableContent)
        }
        try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(#"{"input":{"prompt":"a cat"}}"#)) { r in
            #expect(r.status == .serviceUnavailable)
        }
    }
}
