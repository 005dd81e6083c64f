// The predictor of text deployments (smollm3, phi4-reasoning): the prompt as a chat turn through
// the model's template (the deployment's mode choosing template variables), sampled as the input
// says, streamed, and saved as a .txt artifact when the deployment asks for one.
import Foundation
import SwiftletRuntime
import SwiftletTokenizers

public struct TextPredictorOptions: Sendable {
    /// Output {"reasoning", "answer"} split at the think tags, instead of the plain text.
    public var reasoning = false
    /// A system message put before the prompt.
    public var systemPrompt: String?
    /// Template variables per value of the `mode` input (e.g. think -> enable_thinking true).
    public var modeVariables: [String: [String: JinjaValue]] = [:]
    /// Where each output is also saved as output_<seed>_<index>.txt (nil: not saved).
    public var artifactsDirectory: String?
    public init() {}
}

public struct TextPredictor: Predictor {
    public let queue: GenerationQueue
    public let options: TextPredictorOptions
    public var streams: Bool { true }

    public init(queue: GenerationQueue, options: TextPredictorOptions) {
        self.queue = queue
        self.options = options
    }

    public func predict(_ input: PredictionInput, progress: PredictionProgress) async throws -> PredictorResult {
        guard let prompt = input["prompt"]?.string else { throw PredictionError("the input has no prompt") }
        var sampling = SamplingParameters()
        sampling.temperature = Float(input["temperature"]?.double ?? 0.7)
        sampling.topP = Float(input["top_p"]?.double ?? 1)
        sampling.topK = 0
        sampling.minP = 0
        let seed = input["seed"]?.int ?? Int.random(in: 0..<(1 << 31))
        sampling.seed = UInt64(truncatingIfNeeded: seed)
        var variables: [String: JinjaValue] = [:]
        if let mode = input["mode"]?.string { variables = options.modeVariables[mode] ?? [:] }
        var turns: [ChatTurn] = []
        if let s = options.systemPrompt { turns.append(ChatTurn(role: "system", content: s)) }
        turns.append(ChatTurn(role: "user", content: prompt))
        let request = TextRequest(prompt: .chat(turns, options: variables),
                                  maxNewTokens: input["max_new_tokens"]?.int ?? 512, sampling: sampling)
        progress.log("seed: \(seed)")

        var summary: TextSummary?
        for try await event in try queue.submit(request) {
            if progress.isCancelled() { throw CancellationError() }
            switch event {
            case .started(let n): progress.log("prompt: \(n) tokens")
            case .text(let piece): progress.output(piece)
            case .finished(let s): summary = s
            }
        }
        guard let s = summary else { throw CancellationError() }
        if s.finishReason == .cancelled { throw CancellationError() }
        progress.log(String(format: "generated %d tokens in %.2f s (%.1f tok/s), stop: %@", s.completionTokens,
                            s.prefillSeconds + s.decodeSeconds, s.tokensPerSecond, s.finishReason.rawValue))
        var artifacts: [String] = []
        if let dir = options.artifactsDirectory { artifacts.append(try Self.saveArtifact(s.text, seed: seed, directory: dir)) }
        let output: JSONValue
        if options.reasoning {
            let (reasoning, answer) = ThinkSplit.split(s.text)
            output = ["reasoning": reasoning.map(JSONValue.string) ?? .null, "answer": .string(answer)]
        } else {
            output = .string(s.text)
        }
        return PredictorResult(output: output, metrics: [
            ("input_token_count", .int(s.promptTokens)), ("output_token_count", .int(s.completionTokens)),
            ("tokens_per_second", .double(s.tokensPerSecond)),
            ("time_to_first_token", s.timeToFirstToken.map(JSONValue.double) ?? .null),
        ], artifacts: artifacts)
    }

    /// Writes text to directory/output_<seed>_<index>.txt with the first free index; returns the path.
    static func saveArtifact(_ text: String, seed: Int, directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 0..<100_000 {
            let path = directory + "/output_\(seed)_\(index).txt"
            // O_EXCL: two predictions with one seed never take the same name.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd < 0 { if errno == EEXIST { continue }; throw PredictionError("cannot write \(path): \(String(cString: strerror(errno)))") }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == bytes.count else { throw PredictionError("cannot write \(path)") }
            return path
        }
        throw PredictionError("too many artifacts for seed \(seed) in \(directory)")
    }
}
