// The HTTP application: one router carrying the Cog prediction API and the OpenAI-compatible API.
import Foundation
import Hummingbird
import Logging

/// How the server listens and what it serves.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 5000
    public var modelPath: String
    public var threads: Int?
    /// Most requests waiting or running at once; more are refused at once (409 / 429).
    public var queueCapacity = 8
    public init(modelPath: String) { self.modelPath = modelPath }
}

public enum ServerApplication {
    /// The router with every route registered on `state`.
    public static func router(state: ServerState) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            let status: HTTPResponse.Status = state.status == .ready ? .ok : .serviceUnavailable
            return Response(status: status, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"\#(state.status.rawValue)"}"#)))
        }
        return router
    }

    /// The application, model setup started in the background.
    public static func make(_ configuration: ServerConfiguration, logger: Logger) -> some ApplicationProtocol {
        let state = ServerState(queueCapacity: configuration.queueCapacity, logger: logger)
        let config = configuration
        Thread.detachNewThread { state.setUp(modelPath: config.modelPath, threads: config.threads) }
        return Application(router: router(state: state),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                           logger: logger)
    }
}
