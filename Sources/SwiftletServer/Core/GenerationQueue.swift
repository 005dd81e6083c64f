// The one place text generation runs for the server: a bounded queue in front of the engine,
// worked by one thread (an engine runs one sequence at a time), with per-request cancellation.
import Foundation
import SwiftletRuntime
import SwiftletTokenizers

/// One message of a chat.
public struct ChatTurn: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A text-generation request as every API hands it to the queue.
public struct TextRequest: Sendable {
    public enum Prompt: Sendable {
        /// Raw text, tokenized as given (special tokens parsed, no BOS added unless `addBOS`).
        case text(String, addBOS: Bool)
        /// Messages rendered by the model's chat template with `options` (e.g. enable_thinking).
        case chat([ChatTurn], options: [String: JinjaValue])
    }
    public var prompt: Prompt
    public var maxNewTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends before the first occurrence of any of these (not included in the text).
    public var stop: [String]

    public init(prompt: Prompt, maxNewTokens: Int, sampling: SamplingParameters, stop: [String] = []) {
        self.prompt = prompt
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stop = stop
    }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// End-of-generation token or a stop string.
    case stop
    /// max_new_tokens or the context filled up.
    case length
    /// The client went away or asked to cancel.
    case cancelled
}

/// What a finished generation produced and what it cost.
public struct TextSummary: Sendable {
    public var text: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var finishReason: FinishReason
    /// Waiting in the queue, prompt evaluation, decoding, and until the first output text.
    public var queueSeconds: Double
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var timeToFirstToken: Double?
    public var tokensPerSecond: Double { completionTokens > 1 ? Double(completionTokens) / max(decodeSeconds, 1e-9) : 0 }
}

/// Events of one generation, in order: started, text pieces, finished.
public enum TextEvent: Sendable {
    case started(promptTokens: Int)
    case text(String)
    case finished(TextSummary)
}

/// The queue is at capacity; the caller answers at once (Cog 409, OpenAI 429).
public struct QueueFull: Error, CustomStringConvertible {
    public let capacity: Int
    public var description: String { "the server is at capacity (\(capacity) requests queued or running); retry later" }
}

/// A bounded FIFO of generation requests worked by one dedicated thread.
public final class GenerationQueue: @unchecked Sendable {
    public let engine: Engine
    /// Most requests waiting or running at once.
    public let capacity: Int
    private let lock = NSLock()
    private var waiting: [Job] = []
    private var running = 0
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)
    private var worker: Thread?

    final class Job: @unchecked Sendable {
        let request: TextRequest
        let continuation: AsyncThrowingStream<TextEvent, Error>.Continuation
        let enqueued = DispatchTime.now().uptimeNanoseconds
        private let lock = NSLock()
        private var _cancelled = false
        var cancelled: Bool { lock.withLock { _cancelled } }
        func cancel() { lock.withLock { _cancelled = true } }
        init(request: TextRequest, continuation: AsyncThrowingStream<TextEvent, Error>.Continuation) {
            self.request = request
            self.continuation = continuation
        }
    }

    /// Called with every finished generation's summary (metrics, logs).
    private let onFinished: @Sendable (TextSummary) -> Void

    public init(engine: Engine, capacity: Int, onFinished: @escaping @Sendable (TextSummary) -> Void = { _ in }) {
        self.engine = engine
        self.capacity = max(1, capacity)
        self.onFinished = onFinished
        // The worker holds the queue only while it works, so a dropped queue ends its thread.
        let wake = self.wake
        let t = Thread { [weak self] in
            while true {
                wake.wait()
                guard let queue = self, queue.drain() else { return }
            }
        }
        t.name = "swiftlet-generation"
        t.stackSize = 8 << 20
        worker = t
        t.start()
    }

    /// Requests waiting (not yet running).
    public var depth: Int { lock.withLock { waiting.count } }
    /// Requests waiting or running.
    public var load: Int { lock.withLock { waiting.count + running } }
    public var isFull: Bool { load >= capacity }

    /// Queues `request`. The stream yields its events; ending the stream early (a client that
    /// disconnects, a task cancelled) cancels the generation. Throws `QueueFull` at capacity.
    public func submit(_ request: TextRequest) throws -> AsyncThrowingStream<TextEvent, Error> {
        var job: Job!
        let stream = AsyncThrowingStream<TextEvent, Error>(bufferingPolicy: .unbounded) { continuation in
            job = Job(request: request, continuation: continuation)
        }
        try lock.withLock {
            if stopped { throw RuntimeError("the server is shutting down") }
            if waiting.count + running >= capacity { throw QueueFull(capacity: capacity) }
            waiting.append(job)
        }
        job.continuation.onTermination = { [weak job] _ in job?.cancel() }
        wake.signal()
        return stream
    }

    /// Stops taking requests; queued ones end as cancelled, the running one is cancelled.
    public func shutdown() {
        let dropped: [Job] = lock.withLock {
            stopped = true
            defer { waiting.removeAll() }
            return waiting
        }
        for job in dropped { job.continuation.finish(throwing: CancellationError()) }
        wake.signal()
    }

    deinit { wake.signal() }

    /// Runs every waiting job; false once the queue has stopped.
    private func drain() -> Bool {
        while let job = next() {
            run(job)
            lock.withLock { running -= 1 }
        }
        // Idle again: what the requests allocated goes back to the system.
        ProcessMemory.releaseFreeMemory()
        return !lock.withLock { stopped }
    }

    private func next() -> Job? {
        lock.withLock {
            guard !waiting.isEmpty else { return nil }
            running += 1
            return waiting.removeFirst()
        }
    }

    private func run(_ job: Job) {
        let started = DispatchTime.now().uptimeNanoseconds
        let queueSeconds = Double(started - job.enqueued) / 1e9
        if job.cancelled { job.continuation.finish(throwing: CancellationError()); return }
        do {
            let r = job.request
            let ids: [Int32]
            switch r.prompt {
            case let .text(text, addBOS): ids = engine.tokenize(text, bos: addBOS)
            case let .chat(turns, options):
                // A rendered template carries its own BOS text: no BOS is added (apply_chat_template).
                ids = engine.tokenize(try engine.chatPrompt(turns.map { ($0.role, $0.content) }, options: options), bos: false)
            }
            if ids.count + 1 > engine.config.contextLength {
                throw RuntimeError("the prompt has \(ids.count) tokens but the model's context is \(engine.config.contextLength); shorten it")
            }
            job.continuation.yield(.started(promptTokens: ids.count))
            var filter = StopFilter(stops: r.stop)
            var firstText: Double?
            var cancelled = false
            let maxNew = min(r.maxNewTokens, engine.config.contextLength - ids.count)
            let result = try engine.generate(prompt: ids, maxNewTokens: maxNew, sampling: r.sampling) { piece in
                if job.cancelled { cancelled = true; return false }
                let (emit, hit) = filter.push(piece)
                if !emit.isEmpty {
                    if firstText == nil { firstText = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
                    job.continuation.yield(.text(emit))
                }
                return !hit
            }
            let tail = filter.hitStop ? "" : filter.flush()
            if !tail.isEmpty { job.continuation.yield(.text(tail)) }
            let reason: FinishReason = cancelled ? .cancelled
                : (filter.hitStop || result.finishReason == "eos") ? .stop : .length
            let summary = TextSummary(
                text: filter.emitted, promptTokens: ids.count, completionTokens: result.tokens.count, finishReason: reason,
                queueSeconds: queueSeconds, prefillSeconds: result.prefillSeconds, decodeSeconds: result.decodeSeconds,
                timeToFirstToken: firstText)
            onFinished(summary)
            job.continuation.yield(.finished(summary))
            job.continuation.finish()
        } catch {
            job.continuation.finish(throwing: error)
        }
    }
}

/// Holds back text that could be the start of a stop string, and cuts the output at the first one.
public struct StopFilter: Sendable {
    public let stops: [String]
    private var pending = ""
    public private(set) var emitted = ""
    public private(set) var hitStop = false

    public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Adds generated text; returns what can be shown now and whether a stop string was reached.
    public mutating func push(_ piece: String) -> (String, Bool) {
        guard !stops.isEmpty else { emitted += piece; return (piece, false) }
        pending += piece
        if let cut = stops.compactMap({ pending.range(of: $0)?.lowerBound }).min() {
            let out = String(pending[..<cut])
            emitted += out
            pending = ""
            hitStop = true
            return (out, true)
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var keep = 0
        for s in stops {
            for n in stride(from: min(s.count - 1, pending.count), to: 0, by: -1) where pending.hasSuffix(s.prefix(n)) {
                keep = max(keep, n)
                break
            }
        }
        let out = String(pending.dropLast(keep))
        pending = String(pending.suffix(keep))
        emitted += out
        return (out, false)
    }

    public mutating func flush() -> String {
        let out = pending
        pending = ""
        emitted += out
        return out
    }
}
