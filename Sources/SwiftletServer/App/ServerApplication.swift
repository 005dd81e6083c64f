// The HTTP application: one router carrying the Cog prediction API (for one deployment), the
// OpenAI-compatible API and /metrics, set up in the background and shut down gracefully.
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import SwiftletRuntime

/// How the server listens and what it serves.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 5000
    public var deployment: DeploymentManifest
    /// The model; nil: the deployment's own, else the default model.
    public var modelPath: String?
    public var defaultModelPath: String
    public var threads: Int?
    /// Most bytes of weights kept in memory (layer streaming); nil keeps the whole model mapped.
    public var maxMemory: Int?
    /// With `maxMemory`: read the next layer on a background thread while one computes.
    public var prefetch = true
    /// Most requests waiting or running at once; more are refused at once (409 / 429).
    public var queueCapacity = 8
    /// Where artifacts go (nil: the deployment's directory).
    public var outputsDirectory: String?
    /// When set, every route but the health checks needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// File outputs are PUT to this URL + file name, and predictions list the uploaded URLs.
    public var uploadURL: String?
    /// Seconds in-flight requests get to finish after SIGTERM or POST /shutdown.
    public var gracePeriod: Double = 30

    public init(deployment: DeploymentManifest, modelPath: String?, defaultModelPath: String) {
        self.deployment = deployment
        self.modelPath = modelPath
        self.defaultModelPath = defaultModelPath
    }

    /// The model this configuration serves.
    public var resolvedModelPath: String { modelPath ?? deployment.model ?? defaultModelPath }
}

public enum ServerApplication {
    /// HTTP/1.1 with the connection watcher that lets a waiting handler notice its client leaving.
    public static var http1: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnectWatcher()]))
    }

    /// The router with every route registered on `state` (Cog routes when `cog` is given).
    public static func router(state: ServerState, cog: CogEndpoint? = nil,
                              options: OpenAIOptions = .fromEnvironment()) -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: state.metrics))
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: state.metrics.render(queue: state.queue))))
        }
        OpenAIRoutes.register(on: router, state: state, options: options)
        if let cog {
            CogRoutes.registerHealth(on: router, endpoint: cog)
            let group = router.group()
            if let key = options.apiKey { group.add(middleware: APIKeyMiddleware(key: key)) }
            CogRoutes.registerAPI(on: group, endpoint: cog)
        }
        return router
    }

    /// Sets up the deployment in the background (loading its model, or failing setup with the
    /// reason when the engine cannot run its kind) and returns the application and its Cog endpoint.
    public static func make(_ c: ServerConfiguration, logger: Logger) -> (some ApplicationProtocol, CogEndpoint) {
        let state = ServerState(queueCapacity: c.queueCapacity, logger: logger)
        let endpoint = CogEndpoint(schema: CogSchema(manifest: c.deployment), state: state)
        Thread.detachNewThread {
            state.log("deployment \(c.deployment.name) (\(c.deployment.kind.rawValue))")
            if let reason = DeploymentSetup.unsupportedReason(c.deployment) {
                state.fail(reason)
                return
            }
            var uploader: OutputUploader?
            if let url = c.uploadURL {
                do { uploader = try OutputUploader(baseURL: url) } catch { state.fail("\(error)"); return }
            }
            var modelPath = c.resolvedModelPath
            if let recipe = c.deployment.optimization {
                state.log("optimizing \(modelPath) with the recipe \(c.deployment.recipe?.encoded ?? "")")
                do {
                    modelPath = try RecipeApplication.apply(recipe, recipeText: c.deployment.recipe?.encoded ?? "", to: modelPath) { state.log($0) }
                } catch {
                    state.fail("applying the recipe to \(modelPath) failed: \(error)")
                    return
                }
            }
            state.setUp(modelPath: modelPath, threads: c.threads, maxMemory: c.maxMemory, prefetch: c.prefetch) { queue in
                endpoint.service = CogService(predictor: DeploymentSetup.textPredictor(c.deployment, queue: queue, outputs: c.outputsDirectory),
                                              capacity: c.queueCapacity, uploader: uploader)
            }
        }
        let app = Application(router: router(state: state, cog: endpoint, options: OpenAIOptions(apiKey: c.apiKey)),
                              server: http1, configuration: .init(address: .hostname(c.host, port: c.port)), logger: logger)
        return (app, endpoint)
    }

    /// Runs the server until SIGTERM, SIGINT or POST /shutdown, then stops taking work, lets
    /// in-flight requests finish within the grace period, and returns.
    public static func run(_ c: ServerConfiguration, logger: Logger) async throws {
        let (app, endpoint) = make(c, logger: logger)
        var config = ServiceGroupConfiguration(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint],
                                               logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(c.gracePeriod)
        let group = ServiceGroup(configuration: config)
        endpoint.onShutdown = { Task { await group.triggerGracefulShutdown() } }
        try await group.run()
        endpoint.state.beginShutdown()
        logger.info("server stopped")
    }
}
