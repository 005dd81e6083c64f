// Layer streaming: a model runs with only a budget of its weights resident. Units that fit stay
// pinned; the others are read when the forward pass reaches them (the next one on a background
// thread while the current one computes) and dropped from memory and the page cache after use.
import Foundation
import SwiftletCore
import SwiftletModels

/// A WeightResidency over memory-mapped weights: residency is managed with madvise/fadvise, so
/// the forward pass reads the same bytes at the same addresses as without streaming.
public final class LayerStreamer: WeightResidency, @unchecked Sendable {
    public let plan: StreamingPlan
    public let outputChunks: [Range<Int>]
    /// The process's resident memory once every weight was dropped, before the pinned units were
    /// read: what the process needs besides weights, caches and activations (code, tokenizer).
    public let baselineResidentMB: Double
    private let state: StreamState
    private let embedding: Linear
    /// The file the embedding rows are read from (the head's when tied, else a file no unit covers).
    private let embeddingFile: MappedFile?

    /// Plans `model` under `budget` bytes of weights, reads the pinned units, drops everything
    /// else, and starts the prefetch thread when the plan has room for it.
    public init(model: DecoderModel, budget: Int, prefetch: Bool) throws {
        var (layers, output, chunks) = try StreamUnits.of(model)
        plan = try StreamingPlan.make(budget: budget, prefetch: prefetch, layers: &layers, output: &output)
        outputChunks = chunks
        embedding = model.weights.embedding
        embeddingFile = model.weights.source.mappedFiles.first { $0.contains(model.weights.embedding.weights) }
        var units: [WeightPart: StreamUnit] = [:]
        for u in layers + output { units[u.part] = u }
        let order = (layers + output).filter { !$0.pinned }.map(\.part)
        state = StreamState(units: units, order: order, prefetch: plan.prefetch)
        // Everything goes (what loading touched, what an earlier streamer pinned); pinned units are read now.
        for u in layers + output { StreamState.releasePages(u) }
        ProcessMemory.releaseFreeMemory()
        baselineResidentMB = ProcessMemory.residentMB()
        for u in layers + output where u.pinned {
            for r in u.ranges { try r.file.populate(offset: r.offset, count: r.count) }
        }
        if plan.prefetch { state.startLoader() }
    }

    deinit { state.stop() }

    public var stats: StreamingStats { state.withLock { state.stats } }

    public func acquire(_ part: WeightPart) throws { try state.acquire(part) }

    public func release(_ part: WeightPart) { state.release(part) }

    /// Drops the pages of the rows read, unless a resident unit holds them (a tied head's chunk).
    public func releaseEmbeddingRows(_ tokens: UnsafeBufferPointer<Int32>) {
        state.withLock { state.stats.passes += 1 }
        guard let file = embeddingFile else { return }
        let base = embedding.weights - file.base
        let end = base + embedding.outputs * embedding.rowBytes
        for t in tokens {
            let row = FileRange(file: file, offset: base + Int(t) * embedding.rowBytes, count: embedding.rowBytes)
            // A page fault maps the pages around the one asked for too (the kernel's fault-around,
            // 64 KB): those go as well, unless a resident unit holds them.
            let lo = max(base, row.offset / Self.faultAround * Self.faultAround)
            let hi = min(end, (row.end + Self.faultAround - 1) / Self.faultAround * Self.faultAround)
            let window = FileRange(file: file, offset: lo, count: hi - lo)
            if !state.holds(window) {
                file.release(offset: window.offset, count: window.count, outward: true)
            } else if !state.holds(row) {
                file.release(offset: row.offset, count: row.count, outward: true)
            }
        }
    }

    /// Linux's default fault-around window (/sys/kernel/mm/transparent_hugepage/... fault_around_bytes).
    static let faultAround = 65536
}

/// The streamer's shared state, also held by the prefetch thread (so the thread never keeps the
/// streamer alive). Every field is guarded by `lock`.
final class StreamState: @unchecked Sendable {
    let units: [WeightPart: StreamUnit]
    /// The streamed unit after each one in forward order (after the last: the first, of the next pass).
    let next: [WeightPart: WeightPart]
    let prefetch: Bool
    private let lock = NSCondition()
    var stats = StreamingStats()
    /// Streamed units fully read and mapped.
    private var resident = Set<WeightPart>()
    /// The unit the prefetch thread is reading, and whether it was asked to stop.
    private var loading: WeightPart?
    private var cancelLoading = false
    /// The unit the prefetch thread should read next.
    private var target: WeightPart?
    /// The unit the forward pass is reading itself (the prefetch thread leaves it alone).
    private var readingDirectly: WeightPart?
    private var loadError: Error?
    private var stopping = false

    /// - order: the streamed units in forward order.
    init(units: [WeightPart: StreamUnit], order: [WeightPart], prefetch: Bool) {
        self.units = units
        self.prefetch = prefetch
        var next: [WeightPart: WeightPart] = [:]
        for (i, p) in order.enumerated() { next[p] = order[(i + 1) % order.count] }
        self.next = next
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Blocks until `part` is resident: found prefetched, waited for, or read here.
    func acquire(_ part: WeightPart) throws {
        guard let u = units[part], !u.pinned else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        var dropped: [WeightPart] = []
        defer {
            lock.unlock()
            for other in dropped { Self.releasePages(units[other]!) }
        }
        // A prefetch that guessed wrong (the head read again for the next rows of logits) goes.
        if let other = loading, other != part {
            cancelLoading = true
            while loading != nil { lock.wait() }
        }
        for other in resident where other != part {
            resident.remove(other)
            dropped.append(other)
        }
        while loading == part { lock.wait() }
        if let e = loadError {
            loadError = nil
            throw e
        }
        if resident.contains(part) {
            stats.prefetchHits += 1
        } else {
            // Not prefetched (prefetch off, or the thread has not started on it yet): read it here.
            if target == part { target = nil }
            readingDirectly = part
            lock.unlock()
            let t = DispatchTime.now().uptimeNanoseconds
            let result = Result { try load(u) { false } }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            lock.lock()
            readingDirectly = nil
            stats.loadSeconds += seconds
            stats.directLoads += 1
            _ = try result.get()
            stats.bytesLoaded += u.bytes
            resident.insert(part)
        }
        stats.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if prefetch, let n = next[part], n != part, !resident.contains(n) {
            target = n
            lock.broadcast()
        }
    }

    /// Drops `part` from memory. The system calls run after the lock is given back, so the
    /// prefetch thread can start on the next unit meanwhile.
    func release(_ part: WeightPart) {
        guard let u = units[part], !u.pinned else { return }
        guard withLock({ resident.remove(part) != nil }) else { return }
        Self.releasePages(u)
    }

    /// Drops a unit's pages from the process and the page cache (lock not held).
    static func releasePages(_ u: StreamUnit) {
        for r in u.ranges { r.file.release(offset: r.offset, count: r.count) }
    }

    /// Whether a pinned or resident unit covers any of `range`'s bytes.
    func holds(_ range: FileRange) -> Bool {
        withLock {
            units.values.contains { u in (u.pinned || resident.contains(u.part) || loading == u.part) && u.ranges.contains { $0.intersects(range) } }
        }
    }

    /// Reads a unit's ranges; false when `stop` asked to stop part way.
    private func load(_ u: StreamUnit, stop: () -> Bool) throws -> Bool {
        for r in u.ranges where try !r.file.populate(offset: r.offset, count: r.count, shouldStop: stop) { return false }
        return true
    }

    func startLoader() {
        let t = Thread { [self] in
            // On a core of its own (the last; the forward pass computes on the others): a thread
            // woken from sleep otherwise often waits milliseconds beside the one that woke it.
            Self.pinToLastCore()
            loaderLoop()
        }
        t.name = "swiftlet-prefetch"
        t.start()
    }

    /// Binds the calling thread to the machine's last core (glibc's pthread_setaffinity_np, which
    /// Swift's Glibc module does not expose, looked up by name).
    static func pinToLastCore() {
        let cores = ThreadPool.coreCount
        guard cores > 1, cores <= 1024, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setaffinity_np") else { return }
        typealias SetAffinity = @convention(c) (pthread_t, Int, UnsafeRawPointer) -> Int32
        var mask = [UInt8](repeating: 0, count: 128)   // a cpu_set_t: 1024 bits
        mask[(cores - 1) / 8] |= UInt8(1 << ((cores - 1) % 8))
        _ = unsafeBitCast(symbol, to: SetAffinity.self)(pthread_self(), mask.count, mask)
    }

    func stop() {
        withLock {
            stopping = true
            cancelLoading = true
            lock.broadcast()
        }
    }

    /// The prefetch thread: reads `target` whenever one is set.
    private func loaderLoop() {
        lock.lock()
        defer { lock.unlock() }
        while true {
            while target == nil && !stopping { lock.wait() }
            if stopping { return }
            let part = target!
            target = nil
            if resident.contains(part) || readingDirectly == part { continue }
            let u = units[part]!
            loading = part
            cancelLoading = false
            lock.unlock()
            let t = DispatchTime.now().uptimeNanoseconds
            let result = Result { try load(u) { withLock { cancelLoading } } }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            lock.lock()
            loading = nil
            stats.loadSeconds += seconds
            switch result {
            case .success(true):
                resident.insert(part)
                stats.bytesLoaded += u.bytes
            case .success(false):
                // Cancelled part way: what was read goes, outside the lock.
                lock.broadcast()
                lock.unlock()
                Self.releasePages(u)
                lock.lock()
                continue
            case .failure(let e):
                loadError = e
            }
            lock.broadcast()
        }
    }
}
