// The Cog prediction API: discovery, health check, OpenAPI schema, predictions (sync, async with
// webhooks, idempotent PUT, cancel, SSE streaming) and shutdown. Responses follow coglet 0.23.1
// (../shared/cog); deliberate differences are listed in docs/cog-api.md.
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Cog's `detail` entries of a failed validation ({loc, msg, type} each).
public struct ValidationDetails: Error, Sendable {
    public let entries: [JSONValue]
    public init(_ entries: [JSONValue]) { self.entries = entries }
}

/// A deployment's input schema as the routes use it.
public struct CogSchema: Sendable {
    /// Validates a request's `input`: the input with defaults applied, or Cog's `detail` entries.
    public let validate: @Sendable (JSONValue?) -> Result<PredictionInput, ValidationDetails>
    /// The OpenAPI document served at /openapi.json.
    public let openAPI: @Sendable () -> JSONValue
    /// Input fields that are files (fetched before the prediction runs).
    public let fileFields: [String]

    public init(validate: @escaping @Sendable (JSONValue?) -> Result<PredictionInput, ValidationDetails>,
                openAPI: @escaping @Sendable () -> JSONValue, fileFields: [String]) {
        self.validate = validate
        self.openAPI = openAPI
        self.fileFields = fileFields
    }
}

/// What the Cog routes need: the schema, the setup state, and (once set up) the prediction service.
public final class CogEndpoint: @unchecked Sendable {
    public let schema: CogSchema
    public let state: ServerState
    public let client: HTTPClient
    /// Called by POST /shutdown (stops the server gracefully).
    public var onShutdown: @Sendable () -> Void = {}
    private let lock = NSLock()
    private var _service: CogService?

    public init(schema: CogSchema, state: ServerState, client: HTTPClient = .shared) {
        self.schema = schema
        self.state = state
        self.client = client
    }

    public var service: CogService? {
        get { lock.withLock { _service } }
        set { lock.withLock { _service = newValue } }
    }
}

public enum CogRoutes {
    static let maxBody = 16 << 20
    static let version: JSONValue = ["swiftlet": "0.1.0", "cog_api": "coglet 0.23.1"]

    /// Every Cog route on `router`.
    public static func register(on router: some RouterMethods<ServerRequestContext>, endpoint e: CogEndpoint) {
        registerHealth(on: router, endpoint: e)
        registerAPI(on: router, endpoint: e)
    }

    /// The health check (left open when an API key guards the rest).
    public static func registerHealth(on router: some RouterMethods<ServerRequestContext>, endpoint e: CogEndpoint) {
        router.get("/health-check") { _, _ in json(.ok, health(e)) }
    }

    /// Every route but the health check.
    public static func registerAPI(on router: some RouterMethods<ServerRequestContext>, endpoint e: CogEndpoint) {
        router.get("/") { _, _ in
            json(.ok, ["cog_version": "0.23.1", "docs_url": "/docs", "healthcheck_url": "/health-check",
                       "openapi_url": "/openapi.json", "predictions_cancel_url": "/predictions/{prediction_id}/cancel",
                       "predictions_idempotent_url": "/predictions/{prediction_id}", "predictions_url": "/predictions",
                       "shutdown_url": "/shutdown"])
        }
        router.get("/openapi.json") { _, _ in json(.ok, e.schema.openAPI()) }
        router.post("/predictions") { request, context in try await predict(request, id: nil, e, context) }
        router.put("/predictions/{id}") { request, context in
            try await predict(request, id: try context.parameters.require("id"), e, context)
        }
        router.get("/predictions/{id}") { _, _ in
            Response(status: .methodNotAllowed, headers: [.allow: "PUT"])
        }
        router.post("/predictions/{id}/cancel") { _, context in
            let id = try context.parameters.require("id")
            return json(e.service?.cancel(id) == true ? .ok : .notFound, [:])
        }
        router.post("/shutdown") { _, _ in
            e.state.beginShutdown()
            e.onShutdown()
            return json(.ok, [:])
        }
    }

    static func health(_ e: CogEndpoint) -> JSONValue {
        let s = e.state
        let status: String
        switch s.status {
        case .starting: status = "STARTING"
        case .failed: status = "SETUP_FAILED"
        case .ready: status = s.shuttingDown ? "DEFUNCT" : (e.service?.isBusy == true ? "BUSY" : "READY")
        }
        var setup: [(String, JSONValue)] = [("started_at", .string(Timestamp.format(s.setupStarted)))]
        if let done = s.setupCompleted { setup.append(("completed_at", .string(Timestamp.format(done)))) }
        setup.append(("status", .string(s.status == .starting ? "starting" : s.status == .ready ? "succeeded" : "failed")))
        setup.append(("logs", .string(s.setupLogs)))
        return ["status": .string(status), "setup": .object(setup), "version": version]
    }

    static func predict(_ request: Request, id pathID: String?, _ e: CogEndpoint, _ context: ServerRequestContext) async throws -> Response {
        // Parse and validate before anything else, so a bad request is a 4xx in every state.
        let body: JSONValue
        do {
            let buffer = try await request.body.collect(upTo: maxBody)
            body = try JSONValue.parse(buffer.readableBytesView)
        } catch let error as JSONParseError {
            return json(.unprocessableContent, ["detail": [["loc": ["body", .int(error.offset)], "msg": .string("JSON decode error: \(error.message)"),
                                                            "type": "json_invalid"]]])
        } catch {
            return json(.contentTooLarge, ["detail": [["loc": ["body"], "msg": .string("request body larger than \(maxBody) bytes"),
                                                       "type": "too_large"]]])
        }
        guard body.members != nil else {
            return json(.unprocessableContent, ["detail": [["loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"]]])
        }
        var details: [JSONValue] = []
        let bodyID = body["id"]?.string
        if let pathID, let bodyID, bodyID != pathID {
            details.append(["loc": ["body", "id"], "msg": "prediction ID must match the ID supplied in the URL", "type": "value_error"])
        }
        let webhook = body["webhook"]?.string
        var filter = WebhookSession.allEvents
        if let f = body["webhook_events_filter"], !f.isNull {
            let names = f.array ?? []
            for (i, v) in names.enumerated() where !WebhookSession.allEvents.contains(v.string ?? "") {
                details.append(["loc": ["body", "webhook_events_filter", .int(i)],
                                "msg": "Input should be 'start', 'output', 'logs' or 'completed'", "type": "enum"])
            }
            filter = Set(names.compactMap(\.string))
        }
        let input: PredictionInput
        switch e.schema.validate(body["input"]) {
        case .success(let i): input = i
        case .failure(let d): details += d.entries
                              input = PredictionInput(fields: [])
        }
        if !details.isEmpty { return json(.unprocessableContent, ["detail": .array(details)]) }

        guard e.state.status == .ready, let service = e.service else {
            return json(.serviceUnavailable, ["error": "Setup has not finished yet. Wait until it has finished, or GET /health-check for status.",
                                               "status": "failed"])
        }
        if e.state.shuttingDown {
            return json(.serviceUnavailable, ["error": "The server is shutting down.", "status": "failed"])
        }
        let async = (request.headers[HTTPField.Name("Prefer")!] ?? "").contains("respond-async")
        let wantsSSE = (request.headers[.accept] ?? "").contains("text/event-stream")
        let id = pathID ?? bodyID
        // PUT (and POST with an id) is idempotent: an existing prediction answers with its state.
        if let id, let existing = service.lookup(id) {
            if async { return json(existing.status.isTerminal ? .ok : .accepted, existing.json) }
            await existing.waitUntilDone()
            return json(.ok, existing.json)
        }
        if wantsSSE && !service.predictor.streams {
            return json(.notAcceptable, ["error": "This deployment does not stream its output; ask without Accept: text/event-stream."])
        }
        let resolved: PredictionInput
        do { resolved = try await fetchFiles(input, e) } catch {
            return json(.unprocessableContent, ["detail": [["loc": ["body", "input"], "msg": .string("\(error)"), "type": "value_error"]]])
        }
        guard let record = service.create(id: id, input: input) else {
            return json(.conflict, ["error": "At capacity - all prediction slots busy", "status": "failed"])
        }
        let started = ResolvedRecord(record: record, input: resolved)
        e.state.logger.info("prediction \(record.id) started: \(input.json.encoded)")

        if async {
            let session = webhook.map { WebhookSession(url: $0, filter: filter, client: e.client, logger: e.state.logger) }
            Task { await run(started, service, e) { event, r in session?.send(event, r) } }
            return json(.accepted, record.json)
        }
        if wantsSSE { return stream(started, service, e) }
        // A sync client that disconnects cancels its prediction.
        await context.whileConnected(onDisconnect: { _ = service.cancel(record.id) }) {
            await run(started, service, e) { _, _ in }
        }
        return json(.ok, record.json)
    }

    /// A record plus the input its predictor sees (file inputs fetched to local paths).
    struct ResolvedRecord: Sendable {
        let record: PredictionRecord
        let input: PredictionInput
    }

    static func run(_ r: ResolvedRecord, _ service: CogService, _ e: CogEndpoint,
                    onEvent: @escaping @Sendable (CogEvent, PredictionRecord) -> Void) async {
        await service.run(r.record, input: r.input, onEvent: onEvent)
        let j = r.record.json
        let artifacts = j["artifacts"].map { " artifacts \($0.encoded)" } ?? ""
        e.state.logger.info("prediction \(r.record.id) \(r.record.status.rawValue): metrics \(j["metrics"]?.encoded ?? "null")\(artifacts)")
    }

    /// Server-sent events: start, each output chunk, completed (with the prediction object).
    static func stream(_ r: ResolvedRecord, _ service: CogService, _ e: CogEndpoint) -> Response {
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .unbounded)
        let task = Task {
            await run(r, service, e) { event, record in
                let data: JSONValue
                switch event {
                case .start: data = ["id": .string(record.id), "status": "processing"]
                case .output(let chunk, let index): data = ["chunk": .string(chunk), "index": .int(index)]
                case .log: return
                case .completed: data = record.json
                }
                continuation.yield(ByteBuffer(string: "event: \(event.kind)\ndata: \(data.encoded)\n\n"))
            }
            continuation.finish()
        }
        // A client that goes away cancels the prediction.
        continuation.onTermination = { reason in
            if case .cancelled = reason { _ = service.cancel(r.record.id) }
        }
        _ = task
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody(asyncSequence: events))
    }

    static func fetchFiles(_ input: PredictionInput, _ e: CogEndpoint) async throws -> PredictionInput {
        var out = input
        for (i, (name, value)) in input.fields.enumerated() where e.schema.fileFields.contains(name) {
            if let s = value.string { out.fields[i].1 = .string(try await FileInputs.fetch(s, client: e.client)) }
        }
        return out
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.encoded)))
    }
}
