// The Cog prediction API against coglet 0.23.1's captured behaviour (../shared/cog): each test
// drives the routes over HTTP with a predictor that behaves like the capture's (echo, "fail"
// fails, "sleep" runs until cancelled) and checks status codes and the fields a client reads.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import SwiftletServer

/// The capture predictor: echoes its input, fails on "fail", works ~15 s on "sleep...", streams words.
struct EchoPredictor: Predictor {
    var streams: Bool { true }
    func predict(_ input: PredictionInput, progress: PredictionProgress) async throws -> PredictorResult {
        let prompt = input["prompt"]?.string ?? ""
        let seed = input["seed"]?.int.map(String.init) ?? "None"
        progress.log("predict: prompt='\(prompt)' max_new_tokens=\(input["max_new_tokens"]!.encoded) "
                     + "temperature=\(input["temperature"]!.encoded) mode=\(input["mode"]!.string!) seed=\(seed)")
        if prompt == "fail" { throw PredictionError("deliberate failure for golden capture") }
        if prompt.hasPrefix("sleep") {
            for tick in 0..<300 {
                if progress.isCancelled() { throw CancellationError() }
                if tick % 20 == 0 { progress.log("tick \(tick / 20)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        if let path = input["file"]?.string {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            progress.output("[file: '\(text)'] ")
        }
        for word in prompt.split(separator: " ") { progress.output(word + " ") }
        let output = "echo[\(input["mode"]!.string!)|\(input["max_new_tokens"]!.encoded)|\(input["temperature"]!.encoded)|\(seed)]: \(prompt)"
        return PredictorResult(output: .string(output))
    }
}

/// Writes its prompt to a file output (out.txt), like the capture's cog.Path predictor.
struct FilePredictor: Predictor {
    var streams: Bool { false }
    func predict(_ input: PredictionInput, progress: PredictionProgress) async throws -> PredictorResult {
        let dir = NSTemporaryDirectory() + "swiftlet-file-output-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/out.txt"
        try (input["prompt"]?.string ?? "").write(toFile: path, atomically: true, encoding: .utf8)
        return PredictorResult(output: .string(input["prompt"]?.string ?? ""), artifacts: [path])
    }
}

/// The capture predictor's schema with its defaults (validation itself is DeploymentSchemaTests').
let echoSchema = CogSchema(validate: { input in
    guard let members = input?.members else {
        return .failure(ValidationDetails([["loc": ["body", "input"], "msg": "Field required", "type": "missing"]]))
    }
    let given = JSONValue.object(members)
    guard given["prompt"] != nil else {
        return .failure(ValidationDetails([["loc": ["body", "input", "prompt"], "msg": "Field required", "type": "missing"]]))
    }
    return .success(PredictionInput(fields: [
        ("prompt", given["prompt"]!), ("max_new_tokens", given["max_new_tokens"] ?? 128),
        ("temperature", given["temperature"] ?? 0.7), ("mode", given["mode"] ?? "think"),
        ("seed", given["seed"] ?? .null), ("file", given["file"] ?? .null),
    ]))
}, openAPI: { ["openapi": "3.0.2"] }, fileFields: ["file"])

func makeCogApp(capacity: Int = 1, ready: Bool = true) -> (some ApplicationProtocol, CogEndpoint) {
    let state = ServerState(queueCapacity: capacity, logger: Logger(label: "test"))
    let endpoint = CogEndpoint(schema: echoSchema, state: state)
    if ready {
        endpoint.service = CogService(predictor: EchoPredictor(), capacity: capacity)
        state.markReady()
    }
    let router = Router(context: ServerRequestContext.self)
    CogRoutes.register(on: router, endpoint: endpoint)
    return (Application(router: router, server: ServerApplication.http1,
                        configuration: .init(address: .hostname("127.0.0.1", port: 0))), endpoint)
}

/// The response body as JSON (a string saying why when it is not JSON, so expectations fail).
func body(_ r: TestResponse) -> JSONValue {
    (try? JSONValue.parse(r.body.readableBytesView)) ?? .string("not JSON: \(String(buffer: r.body))")
}
func post(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }
let jsonHeaders: HTTPFields = [.contentType: "application/json"]

@Suite struct CogRoutesTests {
    @Test func discoveryAndHealth() async throws {
        let (app, _) = makeCogApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(body(r)["predictions_url"] == "/predictions" && body(r)["shutdown_url"] == "/shutdown")
            }
            try await client.execute(uri: "/health-check", method: .get) { r in
                let b = body(r)
                #expect(b["status"] == "READY" && b["setup"]?["status"] == "succeeded" && b["setup"]?["started_at"]?.string != nil)
            }
        }
    }

    @Test func predictDuringSetupAndAfterSetupFailure() async throws {
        let (app, endpoint) = makeCogApp(ready: false)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health-check", method: .get) { r in #expect(body(r)["status"] == "STARTING") }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(#"{"input":{"prompt":"hi"}}"#)) { r in
                #expect(r.status == .serviceUnavailable)   // 04
                #expect(body(r)["status"] == "failed" && body(r)["error"]?.string?.hasPrefix("Setup has not finished yet") == true)
            }
            endpoint.state.fail("weights not found (deliberate)")
            try await client.execute(uri: "/health-check", method: .get) { r in   // 50
                let b = body(r)
                #expect(b["status"] == "SETUP_FAILED" && b["setup"]?["status"] == "failed")
                #expect(b["setup"]?["logs"]?.string?.contains("weights not found (deliberate)") == true)
            }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(#"{"input":{"text":"x"}}"#)) { r in
                #expect(r.status == .unprocessableContent || r.status == .serviceUnavailable)   // 51 (input checked first here)
            }
        }
    }

    @Test func syncPredictionsAndClientIDs() async throws {
        let (app, _) = makeCogApp()
        try await app.test(.router) { client in
            let req = #"{"input":{"prompt":"Hello there","max_new_tokens":64,"temperature":0.2,"mode":"no_think","seed":42}}"#
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(req)) { r in   // 07
                let b = body(r)
                #expect(r.status == .ok && b["status"] == "succeeded")
                #expect(b["output"] == "echo[no_think|64|0.2|42]: Hello there")
                #expect(b["id"]?.string?.hasPrefix("pred_") == true && b["metrics"]?["predict_time"]?.double != nil)
                #expect(b["logs"]?.string?.contains("predict: prompt='Hello there'") == true)
                #expect(b["input"]?["seed"] == 42 && b["started_at"]?.string != nil && b["completed_at"]?.string != nil)
            }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders,
                                     body: post(#"{"id":"client-chosen-id-1","input":{"prompt":"x"}}"#)) { r in   // 18
                #expect(body(r)["id"] == "client-chosen-id-1" && body(r)["output"] == "echo[think|128|0.7|None]: x")
            }
            try await client.execute(uri: "/predictions/abc", method: .put, headers: jsonHeaders,
                                     body: post(#"{"id":"xyz","input":{"prompt":"x"}}"#)) { r in   // 20
                #expect(r.status == .unprocessableContent)
                #expect(body(r) == ["detail": [["loc": ["body", "id"], "msg": "prediction ID must match the ID supplied in the URL",
                                                    "type": "value_error"]]])
            }
            try await client.execute(uri: "/predictions/wjx3", method: .put, headers: jsonHeaders,
                                     body: post(#"{"input":{"prompt":"idempotent sync"}}"#)) { r in   // 21
                #expect(r.status == .ok && (body(r)["id"]) == "wjx3" && (body(r)["status"]) == "succeeded")
            }
            try await client.execute(uri: "/predictions/wjx3", method: .put, headers: jsonHeaders,
                                     body: post(#"{"input":{"prompt":"again"}}"#)) { r in   // the same id: the first result
                #expect(r.status == .ok && (body(r)["output"]) == "echo[think|128|0.7|None]: idempotent sync")
            }
            try await client.execute(uri: "/predictions/wjx3", method: .get) { r in   // 23
                #expect(r.status == .methodNotAllowed && r.headers[.allow] == "PUT")
            }
            try await client.execute(uri: "/predictions/does-not-exist/cancel", method: .post) { r in   // 22
                #expect(r.status == .notFound && (body(r)) == [:])
            }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(#"{"input":{"prompt":"fail"}}"#)) { r in   // 26
                let b = body(r)
                #expect(r.status == .ok && b["status"] == "failed" && b["error"]?.string?.contains("deliberate failure") == true)
            }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(#"{"input":{"prompt":"x"#)) { r in
                #expect(r.status == .unprocessableContent && (body(r)["detail"]?.array?.first?["type"]) == "json_invalid")
            }
        }
    }

    @Test func asyncBusyCancelAndHealth() async throws {
        let (app, _) = makeCogApp(capacity: 1)
        try await app.test(.router) { client in
            let asyncHeaders: HTTPFields = [.contentType: "application/json", HTTPField.Name("Prefer")!: "respond-async"]
            try await client.execute(uri: "/predictions/async-put-0001", method: .put, headers: asyncHeaders,
                                     body: post(#"{"input":{"prompt":"sleep please","max_new_tokens":8}}"#)) { r in   // 27
                #expect(r.status == .accepted && (body(r)["id"]) == "async-put-0001" && (body(r)["status"]) == "starting")
            }
            try await client.execute(uri: "/health-check", method: .get) { r in #expect(body(r)["status"] == "BUSY") }   // 30
            for headers in [jsonHeaders, asyncHeaders] {   // 31, 32
                try await client.execute(uri: "/predictions", method: .post, headers: headers, body: post(#"{"input":{"prompt":"x"}}"#)) { r in
                    #expect(r.status == .conflict)
                    #expect(body(r) == ["error": "At capacity - all prediction slots busy", "status": "failed"])
                }
            }
            try await client.execute(uri: "/predictions/async-put-0001", method: .put, headers: asyncHeaders,
                                     body: post(#"{"input":{"prompt":"sleep please"}}"#)) { r in   // the same id again: its state
                #expect(r.status == .accepted && (body(r)["status"]) == "processing")
            }
            try await client.execute(uri: "/predictions/async-put-0001/cancel", method: .post) { r in   // 33
                #expect(r.status == .ok && (body(r)) == [:])
            }
            try await Task.sleep(for: .milliseconds(300))
            try await client.execute(uri: "/predictions/async-put-0001/cancel", method: .post) { r in   // 34
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/health-check", method: .get) { r in #expect(body(r)["status"] == "READY") }   // 35
        }
    }

    @Test func serverSentEvents() async throws {
        let (app, _) = makeCogApp()
        try await app.test(.router) { client in
            let headers: HTTPFields = [.contentType: "application/json", .accept: "text/event-stream"]
            try await client.execute(uri: "/predictions", method: .post, headers: headers,
                                     body: post(#"{"input":{"prompt":"tokens arrive as sse events"}}"#)) { r in   // 44
                #expect(r.status == .ok && r.headers[.contentType] == "text/event-stream")
                let text = String(buffer: r.body)
                let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.first?.hasPrefix("event: start\ndata: {\"id\":") == true)
                #expect(events.dropFirst().first == #"event: output\#ndata: {"chunk":"tokens ","index":0}"#)
                #expect(events.count == 7 && events.last?.hasPrefix("event: completed\ndata: ") == true)
                let completed = try JSONValue.parse(String(events.last!.dropFirst("event: completed\ndata: ".count)))
                #expect(completed["status"] == "succeeded")
            }
        }
    }

    @Test func fileInputsAsDataURIs() async throws {
        let (app, _) = makeCogApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders,
                                     body: post(#"{"input":{"prompt":"with datauri","file":"data:text/plain;base64,aW5saW5lIGRhdGEgdXJp"}}"#)) { r in   // 46
                #expect(body(r)["status"] == "succeeded")
            }
            try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders,
                                     body: post(#"{"input":{"prompt":"bad","file":"ftp://x/y"}}"#)) { r in
                #expect(r.status == .unprocessableContent)
                #expect(body(r)["detail"]?.array?.first?["msg"]?.string?.contains("http(s) URL or a data URI") == true)
            }
        }
    }

    @Test func webhooksHonourTheFilterAndFileURLsAreFetched() async throws {
        // A receiver on loopback collects webhooks and serves an input file.
        let received = Received()
        let receiverRouter = Router(context: ServerRequestContext.self)
        receiverRouter.post("/hook/{id}") { request, _ -> HTTPResponse.Status in
            let b = try JSONValue.parse(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            await received.add(b)
            return .ok
        }
        receiverRouter.get("/input.txt") { _, _ in "file served over loopback" }
        let receiver = Application(router: receiverRouter)
        try await receiver.test(.live) { receiverClient in
            let port = receiverClient.port!
            let (app, _) = makeCogApp()
            try await app.test(.router) { client in
                let headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("Prefer")!: "respond-async"]
                let req = #"{"id":"async-post-0002","input":{"prompt":"short async"},"webhook":"http://127.0.0.1:\#(port)/hook/async-post-0002","webhook_events_filter":["start","completed"]}"#
                try await client.execute(uri: "/predictions", method: .post, headers: headers, body: post(req)) { r in   // 36
                    #expect(r.status == .accepted)
                }
                for _ in 0..<100 where await received.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
                let hooks = await received.all
                #expect(hooks.map { $0["status"]?.string } == ["processing", "succeeded"])
                #expect(hooks.last?["output"] == "echo[think|128|0.7|None]: short async" && hooks.last?["input"]?["mode"] == "think")

                let bad = #"{"input":{"prompt":"x"},"webhook_events_filter":["bogus"]}"#   // 39
                try await client.execute(uri: "/predictions", method: .post, headers: headers, body: post(bad)) { r in
                    #expect(r.status == .unprocessableContent && (body(r)["detail"]?.array?.first?["loc"]) == ["body", "webhook_events_filter", 0])
                }
                let withFile = #"{"input":{"prompt":"with file","file":"http://127.0.0.1:\#(port)/input.txt"}}"#   // 45
                try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders, body: post(withFile)) { r in
                    #expect(body(r)["status"] == "succeeded")
                }
            }
        }
    }

    @Test func aSyncClientThatHangsUpCancelsItsPrediction() async throws {
        let (app, endpoint) = makeCogApp()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Hang up only once the prediction runs (a loaded machine can take seconds to get there).
            let fd = try RawHTTP.post(port: port, path: "/predictions", body: #"{"id":"sync-gone","input":{"prompt":"sleep long"}}"#)
            #expect(try await RawHTTP.eventually { endpoint.service?.lookup("sync-gone")?.status == .processing }, "the prediction never started")
            close(fd)
            // Uncancelled, the prediction would succeed after its 15 s of work.
            _ = try await RawHTTP.eventually { endpoint.service?.lookup("sync-gone")?.status.isTerminal == true }
            #expect(endpoint.service?.lookup("sync-gone")?.status == .canceled)
        }
    }

    @Test func fileOutputsAreUploadedToTheUploadURL() async throws {   // 42
        let uploads = Received()
        let receiverRouter = Router(context: ServerRequestContext.self)
        receiverRouter.put("/upload/{name}") { request, context -> HTTPResponse.Status in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            await uploads.add(["name": .string(try context.parameters.require("name")), "body": .string(text),
                               "type": .string(request.headers[.contentType] ?? ""),
                               "id": .string(request.headers[HTTPField.Name("X-Prediction-ID")!] ?? "")])
            return .ok
        }
        receiverRouter.put("/broken/{name}") { _, _ -> HTTPResponse.Status in .internalServerError }
        try await Application(router: receiverRouter).test(.live) { receiverClient in
            let port = try #require(receiverClient.port)
            for (prefix, works) in [("upload", true), ("broken", false)] {
                let state = ServerState(queueCapacity: 1, logger: Logger(label: "test"))
                let endpoint = CogEndpoint(schema: echoSchema, state: state)
                endpoint.service = CogService(predictor: FilePredictor(), capacity: 1,
                                              uploader: try OutputUploader(baseURL: "http://127.0.0.1:\(port)/\(prefix)/"))
                state.markReady()
                let router = Router(context: ServerRequestContext.self)
                CogRoutes.register(on: router, endpoint: endpoint)
                try await Application(router: router).test(.router) { client in
                    try await client.execute(uri: "/predictions", method: .post, headers: jsonHeaders,
                                             body: post(#"{"input":{"prompt":"uploaded file body"}}"#)) { r in
                        #expect(r.status == .ok)
                        if works {
                            #expect(body(r)["status"] == "succeeded")
                            #expect(body(r)["artifacts"] == [.string("http://127.0.0.1:\(port)/upload/out.txt")])
                            let put = await uploads.all.first
                            #expect(put?["name"] == "out.txt" && put?["body"] == "uploaded file body" && put?["type"] == "text/plain")
                            #expect(put?["id"] == body(r)["id"])
                        } else {
                            #expect(body(r)["status"] == "failed")
                            #expect(body(r)["error"]?.string?.contains("answered 500") == true)
                        }
                    }
                }
            }
        }
        #expect(throws: PredictionError.self) { try OutputUploader(baseURL: "ftp://x/") }
    }

    @Test func shutdown() async throws {
        let (app, endpoint) = makeCogApp()
        let called = Received()
        endpoint.onShutdown = { Task { await called.add(true) } }
        try await app.test(.router) { client in
            try await client.execute(uri: "/shutdown", method: .post) { r in #expect(r.status == .ok && (body(r)) == [:]) }   // 49
            try await client.execute(uri: "/health-check", method: .get) { r in #expect(body(r)["status"] == "DEFUNCT") }
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await called.count == 1)
    }
}

actor Received {
    var all: [JSONValue] = []
    var count: Int { all.count }
    func add(_ v: JSONValue) { all.append(v) }
}
