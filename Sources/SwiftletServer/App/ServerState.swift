// What every route reads: the deployment's setup status and, once set up, the generation queue.
import Foundation
import Logging
import SwiftletRuntime

/// Setup status as Cog's health check names it.
public enum SetupStatus: String, Sendable {
    case starting = "STARTING"
    case ready = "READY"
    case failed = "SETUP_FAILED"
}

/// The server's shared state. Setup runs once, in the background; routes answer meanwhile.
public final class ServerState: @unchecked Sendable {
    public let logger: Logger
    public let queueCapacity: Int
    public let metrics = ServerMetrics()
    private let lock = NSLock()
    private var _status = SetupStatus.starting
    private var _queue: GenerationQueue?
    private var _embedder: Embedder?
    private var _setupLogs = ""
    private var _setupError: String?
    public let setupStarted = Date()
    private var _setupCompleted: Date?
    private var _shuttingDown = false

    public init(queueCapacity: Int, logger: Logger) {
        self.queueCapacity = queueCapacity
        self.logger = logger
    }

    public var status: SetupStatus { lock.withLock { _status } }
    public var queue: GenerationQueue? { lock.withLock { _queue } }
    /// Set instead of `queue` when the model is an embedding model (BERT).
    public var embedder: Embedder? { lock.withLock { _embedder } }
    public var setupLogs: String { lock.withLock { _setupLogs } }
    public var setupError: String? { lock.withLock { _setupError } }
    public var setupCompleted: Date? { lock.withLock { _setupCompleted } }
    public var shuttingDown: Bool { lock.withLock { _shuttingDown } }

    /// Appends a line to the setup logs (shown by the health check) and the server log.
    public func log(_ line: String) {
        logger.info("\(line)")
        lock.withLock { _setupLogs += line + "\n" }
    }

    /// Loads the model at `path` into a generation queue; a failure becomes SETUP_FAILED with its reason.
    /// `maxMemory` streams the weights under that budget (layer streaming). `onReady` runs with the
    /// queue before the status turns READY.
    public func setUp(modelPath: String, threads: Int?, maxMemory: Int? = nil, prefetch: Bool = true,
                      onReady: (GenerationQueue) -> Void = { _ in }) {
        log("loading model \(modelPath)")
        let t0 = Date()
        do {
            if (try? ModelKind.of(modelPath)) == .embedding {
                let e = try Embedder(path: modelPath, threads: threads)
                log(String(format: "loaded embedding model %@ (%d dimensions) in %.2f s", modelPath, e.model.dimension,
                           Date().timeIntervalSince(t0)))
                lock.withLock {
                    _embedder = e
                    _status = .ready
                    _setupCompleted = Date()
                }
                return
            }
            let (engine, plan) = try Engine.load(path: modelPath, threads: threads, maxMemory: maxMemory, prefetch: prefetch)
            if let plan { log("streaming: " + plan.summary) }
            let metrics = self.metrics
            let q = GenerationQueue(engine: engine, capacity: queueCapacity) { metrics.recordGeneration($0) }
            log(String(format: "loaded %@ (%@, %d layers) in %.2f s", modelPath, engine.config.architecture,
                       engine.config.layerCount, Date().timeIntervalSince(t0)))
            onReady(q)
            lock.withLock {
                _queue = q
                _status = .ready
                _setupCompleted = Date()
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Marks setup as done without a model of its own (the caller supplies the service).
    public func markReady() {
        lock.withLock {
            _status = .ready
            _setupCompleted = Date()
        }
    }

    /// Marks setup as failed with `reason` (kept in the setup logs).
    public func fail(_ reason: String) {
        logger.error("setup failed: \(reason)")
        lock.withLock {
            _setupLogs += "setup failed: \(reason)\n"
            _setupError = reason
            _status = .failed
            _setupCompleted = Date()
        }
    }

    /// Stops taking new work and cancels what is queued.
    public func beginShutdown() {
        let q: GenerationQueue? = lock.withLock {
            _shuttingDown = true
            return _queue
        }
        q?.shutdown()
    }
}
