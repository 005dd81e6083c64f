// A persistent pool of worker threads for data-parallel kernels (one dispatch per operation).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs `job(threadIndex, threadCount)` on every thread of the pool (the caller is thread 0) and
/// returns when all are done. Workers spin for `spinIterations` polls after a job before they
/// block on a condition variable, so back-to-back dispatches (one per operation while decoding a
/// token) never pay a wake-up, while an idle pool costs no CPU.
public final class ThreadPool: @unchecked Sendable {
    public typealias Job = (_ thread: Int, _ threads: Int) -> Void

    public let threadCount: Int
    private let spinIterations: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private var job: Job?
    private var stopping = false
    private var mutex = pthread_mutex_t()
    /// Serializes callers of `run`: a dispatch owns every worker until it returns.
    private var callerMutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var workers: [pthread_t] = []

    /// - Parameters:
    ///   - threads: total threads including the caller (default: all cores).
    ///   - spinIterations: polls before a worker blocks; 0 means block at once.
    public init(threads: Int = ThreadPool.coreCount, spinIterations: Int = ThreadPool.defaultSpin) {
        threadCount = max(1, threads)
        self.spinIterations = spinIterations
        pthread_mutex_init(&mutex, nil)
        pthread_mutex_init(&callerMutex, nil)
        pthread_cond_init(&wake, nil)
        for index in 1..<threadCount {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.pool.workerLoop(start.index)
                return nil
            }, box)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(tid)
        }
    }

    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Polls before an idle worker blocks: SWIFTLET_POOL_SPIN in the environment, else 200,000
    /// (about a millisecond: long enough to bridge the gaps between the operations of a token).
    public static var defaultSpin: Int {
        if let v = getenv("SWIFTLET_POOL_SPIN"), let n = Int(String(cString: v)), n >= 0 { return n }
        return 200_000
    }

    /// After this many polls a spinning thread also yields its core, so an oversubscribed machine
    /// (more runnable threads than cores) does not stall behind a spinner.
    static let yieldAfter = 4_000

    private final class WorkerStart {
        let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Runs `body` on all threads and waits for them. Concurrent callers take turns; `body` must
    /// not call `run` itself.
    public func run(_ body: Job) {
        if threadCount == 1 { body(0, 1); return }
        pthread_mutex_lock(&callerMutex)
        defer { pthread_mutex_unlock(&callerMutex) }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(threadCount - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&wake)
                pthread_mutex_unlock(&mutex)
            }
            body(0, threadCount)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > Self.yieldAfter { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits 0..<count into one contiguous chunk per thread (chunks aligned to `granule`).
    public func parallelFor(_ count: Int, granule: Int = 1, _ body: (Range<Int>) -> Void) {
        run { t, n in
            let r = ThreadPool.chunk(count, part: t, of: n, granule: granule)
            if !r.isEmpty { body(r) }
        }
    }

    /// The `part`-th of `parts` contiguous chunks of 0..<count, boundaries multiples of granule.
    @inline(__always)
    public static func chunk(_ count: Int, part: Int, of parts: Int, granule: Int = 1) -> Range<Int> {
        let units = (count + granule - 1) / granule
        let lo = min(count, units * part / parts * granule)
        let hi = min(count, units * (part + 1) / parts * granule)
        return lo..<hi
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                if spins < spinIterations {
                    spins += 1
                    if spins > Self.yieldAfter { sched_yield() }
                } else {
                    pthread_mutex_lock(&mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen && !stopping {
                        pthread_cond_wait(&wake, &mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(&mutex)
                }
                if stopping { return }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping { return }
            job!(index, threadCount)
            pending.subtract(1, ordering: .releasing)
        }
    }

    deinit {
        pthread_mutex_lock(&mutex)
        stopping = true
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_cond_destroy(&wake)
        pthread_mutex_destroy(&mutex)
        pthread_mutex_destroy(&callerMutex)
    }
}

