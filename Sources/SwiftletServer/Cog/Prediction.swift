// One prediction's state, as the Cog API reports it (the same object in responses and webhooks).
import Foundation

/// Cog's prediction statuses.
public enum PredictionStatus: String, Sendable {
    case starting, processing, succeeded, failed, canceled
    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .canceled }
}

/// A prediction from creation to completion. Mutated by the run, read by routes and webhooks.
public final class PredictionRecord: @unchecked Sendable {
    public let id: String
    /// Whether the client chose the id (echoed as given) or the server made one.
    public let input: PredictionInput
    public let createdAt = Date()
    private let lock = NSLock()
    private var _status = PredictionStatus.starting
    private var _output: JSONValue = .null
    private var _chunks: [String] = []
    private var _logs = ""
    private var _error: String?
    private var _startedAt: Date?
    private var _completedAt: Date?
    private var _metrics: [(String, JSONValue)] = []
    private var _artifacts: [String] = []
    private var _cancelRequested = false

    public init(id: String, input: PredictionInput) {
        self.id = id
        self.input = input
    }

    public var status: PredictionStatus { lock.withLock { _status } }

    /// Returns once the prediction has ended.
    public func waitUntilDone() async {
        while !status.isTerminal { try? await Task.sleep(for: .milliseconds(20)) }
    }
    public var cancelRequested: Bool { lock.withLock { _cancelRequested } }
    public var chunks: [String] { lock.withLock { _chunks } }

    func markStarted() { lock.withLock { _status = .processing; _startedAt = Date() } }
    func appendChunk(_ s: String) -> Int { lock.withLock { _chunks.append(s); return _chunks.count - 1 } }
    func appendLog(_ line: String) { lock.withLock { _logs += line.hasSuffix("\n") ? line : line + "\n" } }
    /// Asks the run to stop; false when the prediction already ended.
    func requestCancel() -> Bool {
        lock.withLock {
            if _status.isTerminal { return false }
            _cancelRequested = true
            return true
        }
    }

    func finish(_ status: PredictionStatus, output: JSONValue = .null, error: String? = nil,
                metrics: [(String, JSONValue)] = [], artifacts: [String] = []) {
        lock.withLock {
            _status = status
            _output = output
            _error = error
            _completedAt = Date()
            let predictTime = _startedAt.map { Date().timeIntervalSince($0) } ?? 0
            _metrics = [("predict_time", .double(predictTime))] + metrics
            _artifacts = artifacts
        }
    }

    /// The prediction object: Cog's fields (both generations' union: input with defaults applied,
    /// timestamps, metrics), plus the artifact files when there are any.
    public var json: JSONValue {
        lock.withLock {
            var m: [(String, JSONValue)] = [
                ("id", .string(id)), ("input", input.json), ("output", _output), ("logs", .string(_logs)),
                ("error", _error.map(JSONValue.string) ?? .null), ("status", .string(_status.rawValue)),
                ("created_at", .string(Timestamp.format(createdAt))),
                ("started_at", _startedAt.map { .string(Timestamp.format($0)) } ?? .null),
                ("completed_at", _completedAt.map { .string(Timestamp.format($0)) } ?? .null),
                ("metrics", _status.isTerminal ? .object(_metrics) : .null),
            ]
            if !_artifacts.isEmpty { m.append(("artifacts", .array(_artifacts.map(JSONValue.string)))) }
            return .object(m)
        }
    }
}

/// RFC 3339 timestamps with microseconds, UTC, as Cog writes them.
enum Timestamp {
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        let micros = Int(((seconds - whole) * 1_000_000).rounded()) % 1_000_000
        var t = time_t(whole)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
    }
}
