// Runs Cog predictions: ids, the table of live predictions (for PUT idempotency and cancel), the
// run itself, and the events it emits (SSE and webhooks listen to them).
import Foundation

/// What a running prediction emits, in order: start, outputs and logs, completed.
public enum CogEvent: Sendable {
    case start
    case output(chunk: String, index: Int)
    case log(String)
    case completed

    /// The webhook_events_filter name of the event.
    public var kind: String {
        switch self {
        case .start: return "start"
        case .output: return "output"
        case .log: return "logs"
        case .completed: return "completed"
        }
    }
}

public final class CogService: @unchecked Sendable {
    public let predictor: Predictor
    /// Most predictions running or waiting; more are refused with 409.
    public let capacity: Int
    private let lock = NSLock()
    private var live: [String: PredictionRecord] = [:]
    /// Recently finished predictions by id (oldest first), so a repeated PUT finds its result.
    private var finished: [(String, PredictionRecord)] = []
    private let keepFinished = 256

    /// Where file outputs go (--upload-url); nil keeps them as local paths.
    public let uploader: OutputUploader?

    public init(predictor: Predictor, capacity: Int, uploader: OutputUploader? = nil) {
        self.predictor = predictor
        self.capacity = max(1, capacity)
        self.uploader = uploader
    }

    /// Predictions running or waiting.
    public var active: Int { lock.withLock { live.count } }
    public var isBusy: Bool { active >= capacity }

    /// A prediction with this id, live or recently finished.
    public func lookup(_ id: String) -> PredictionRecord? {
        lock.withLock { live[id] ?? finished.last { $0.0 == id }?.1 }
    }

    /// Registers a new prediction, or nil when at capacity.
    public func create(id: String?, input: PredictionInput) -> PredictionRecord? {
        lock.withLock {
            guard live.count < capacity else { return nil }
            let record = PredictionRecord(id: id ?? Self.newID(), input: input)
            live[record.id] = record
            return record
        }
    }

    /// Asks a live prediction to stop; false when there is none with this id.
    public func cancel(_ id: String) -> Bool {
        guard let r = lock.withLock({ live[id] }) else { return false }
        return r.requestCancel()
    }

    /// Runs `record` to completion, reporting each event (with the record) to `onEvent`.
    /// `input` is what the predictor sees (file inputs already fetched); the record keeps the input as sent.
    public func run(_ record: PredictionRecord, input: PredictionInput? = nil,
                    onEvent: @escaping @Sendable (CogEvent, PredictionRecord) -> Void) async {
        record.markStarted()
        onEvent(.start, record)
        let progress = PredictionProgress(
            output: { chunk in onEvent(.output(chunk: chunk, index: record.appendChunk(chunk)), record) },
            log: { line in record.appendLog(line); onEvent(.log(line), record) },
            isCancelled: { record.cancelRequested })
        do {
            let result = try await predictor.predict(input ?? record.input, progress: progress)
            if record.cancelRequested {
                record.finish(.canceled)
            } else {
                var artifacts = result.artifacts
                if let uploader {
                    artifacts = []
                    for path in result.artifacts { artifacts.append(try await uploader.upload(path, predictionID: record.id)) }
                }
                record.finish(.succeeded, output: result.output, metrics: result.metrics, artifacts: artifacts)
            }
        } catch is CancellationError {
            record.finish(.canceled)
        } catch let full as QueueFull {
            record.finish(.failed, error: "\(full)")
        } catch {
            record.finish(.failed, error: "\(error)")
        }
        lock.withLock {
            live[record.id] = nil
            finished.append((record.id, record))
            if finished.count > keepFinished { finished.removeFirst(finished.count - keepFinished) }
        }
        onEvent(.completed, record)
    }

    /// Cog-style ids: "pred_" and 16 hex digits.
    static func newID() -> String {
        "pred_" + String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
