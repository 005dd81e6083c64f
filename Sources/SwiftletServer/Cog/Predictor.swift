// What the Cog routes run: a predictor takes validated input and produces output, reporting
// streamed output chunks and log lines as it goes.

/// Callbacks a running prediction reports through.
public struct PredictionProgress: Sendable {
    /// A chunk of streamed output (a text piece).
    public let output: @Sendable (String) -> Void
    /// A line for the prediction's logs.
    public let log: @Sendable (String) -> Void
    /// Whether the prediction was cancelled (checked between steps).
    public let isCancelled: @Sendable () -> Bool

    public init(output: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void,
                isCancelled: @escaping @Sendable () -> Bool) {
        self.output = output
        self.log = log
        self.isCancelled = isCancelled
    }
}

/// A finished prediction's output and what it measured.
public struct PredictorResult: Sendable {
    public var output: JSONValue
    /// Extra metrics beside predict_time (tokens, tokens/s, time to first token).
    public var metrics: [(String, JSONValue)]
    /// Files the prediction also wrote (e.g. the .txt artifact of a text deployment).
    public var artifacts: [String]

    public init(output: JSONValue, metrics: [(String, JSONValue)] = [], artifacts: [String] = []) {
        self.output = output
        self.metrics = metrics
        self.artifacts = artifacts
    }
}

/// A deployment's prediction function.
public protocol Predictor: Sendable {
    /// Whether output arrives in chunks that `Accept: text/event-stream` can stream.
    var streams: Bool { get }
    /// Runs one prediction. Throwing `QueueFull` means "at capacity" (answered 409);
    /// `CancellationError` means cancelled; any other error fails the prediction with its text.
    func predict(_ input: PredictionInput, progress: PredictionProgress) async throws -> PredictorResult
}

/// A prediction that failed because of its input (a prompt longer than the context, an unreadable
/// file): the prediction fails with this message, the server stays healthy.
public struct PredictionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
