// Webhooks of async predictions: the prediction object POSTed on start, output, logs and
// completed (as webhook_events_filter selects), in order, output/logs at most twice a second,
// and `completed` retried until delivered or out of attempts.
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Delivers one prediction's webhooks in order from a background task.
final class WebhookSession: Sendable {
    static let allEvents: Set<String> = ["start", "output", "logs", "completed"]
    /// Delays before each retry of the completed event.
    static let retryDelays: [Double] = [0.1, 0.5, 1, 2, 4]

    private let events: AsyncStream<(String, JSONValue)>.Continuation

    init(url: String, filter: Set<String>, client: HTTPClient, logger: Logger) {
        let (stream, continuation) = AsyncStream<(String, JSONValue)>.makeStream(bufferingPolicy: .unbounded)
        events = continuation
        Task {
            var lastProgress = ContinuousClock.now - .seconds(1)
            for await (kind, payload) in stream {
                guard filter.contains(kind) else { continue }
                if kind == "output" || kind == "logs" {
                    // Throttled: a later event carries the newer state anyway.
                    if ContinuousClock.now - lastProgress < .milliseconds(500) { continue }
                    lastProgress = ContinuousClock.now
                }
                let attempts = kind == "completed" ? Self.retryDelays.count + 1 : 1
                for attempt in 0..<attempts {
                    if attempt > 0 { try? await Task.sleep(for: .seconds(Self.retryDelays[attempt - 1])) }
                    if await Self.post(url, payload, client: client, logger: logger) { break }
                }
            }
        }
    }

    /// Queues an event with the prediction's state at that moment.
    func send(_ event: CogEvent, _ record: PredictionRecord) {
        events.yield((event.kind, record.json))
        if case .completed = event { events.finish() }
    }

    static func post(_ url: String, _ payload: JSONValue, client: HTTPClient, logger: Logger) async -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swiftlet")
        request.body = .bytes(ByteBuffer(string: payload.encoded))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 1 << 16)
            if (200..<300).contains(response.status.code) { return true }
            logger.warning("webhook \(url) answered \(response.status.code)")
        } catch {
            logger.warning("webhook \(url) failed: \(error)")
        }
        return false
    }
}
