// GET /metrics in Prometheus' text format: requests by route and status, request latency,
// time to first token, generation speed, queue depth and resident memory.
import Foundation
import Hummingbird
import Prometheus
import SwiftletRuntime

/// The server's metrics, in a registry of its own (no process-wide bootstrap, so tests can make many).
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    public init() {}

    func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "swiftlet", metricName: metric, unitName: unit, helpText: help)
    }

    /// One answered request.
    public func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: name("http_requests", "total", "HTTP requests by route and status"), labels: labels).increment()
        registry.makeValueHistogram(descriptor: name("http_request_duration", "seconds", "HTTP request latency"),
                                    labels: [("route", route)], buckets: Self.latencyBuckets).record(seconds)
    }

    /// One finished generation.
    public func recordGeneration(_ s: TextSummary) {
        registry.makeCounter(descriptor: name("generated_tokens", "total", "Tokens generated"), labels: []).increment(by: Int64(s.completionTokens))
        registry.makeCounter(descriptor: name("prompt_tokens", "total", "Prompt tokens evaluated"), labels: []).increment(by: Int64(s.promptTokens))
        registry.makeCounter(descriptor: name("generations", "total", "Generations by finish reason"),
                             labels: [("finish_reason", s.finishReason.rawValue)]).increment()
        if let t = s.timeToFirstToken {
            registry.makeValueHistogram(descriptor: name("time_to_first_token", "seconds", "Time from start to the first output text"),
                                        labels: [], buckets: Self.latencyBuckets).record(t)
        }
        registry.makeValueHistogram(descriptor: name("queue_wait", "seconds", "Time requests waited in the queue"),
                                    labels: [], buckets: Self.latencyBuckets).record(s.queueSeconds)
        if s.completionTokens > 1 {
            registry.makeGauge(descriptor: name("decode_speed", "tokens_per_second", "Decode speed of the last generation"),
                               labels: []).set(s.tokensPerSecond)
        }
    }

    /// The exposition text, with the queue and memory gauges read now.
    public func render(queue: GenerationQueue?) -> String {
        registry.makeGauge(descriptor: name("queue_depth", "requests", "Requests waiting"), labels: []).set(Double(queue?.depth ?? 0))
        registry.makeGauge(descriptor: name("queue_load", "requests", "Requests waiting or running"), labels: []).set(Double(queue?.load ?? 0))
        registry.makeGauge(descriptor: name("resident_memory", "bytes", "Resident set size"), labels: [])
            .set(ProcessMemory.residentMB() * 1_048_576)
        return registry.emitToString()
    }
}

/// Records every request's route (the matched pattern, not the raw path), status and latency.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    public init(metrics: ServerMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func record(_ status: Int) {
            let d = ContinuousClock.now - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, seconds: seconds)
        }
        do {
            let response = try await next(request, context)
            record(Int(response.status.code))
            return response
        } catch let error as HTTPResponseError {
            record(Int(error.status.code))
            throw error
        } catch {
            record(500)
            throw error
        }
    }
}
