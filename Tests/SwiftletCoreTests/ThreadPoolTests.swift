// Thread pool: every index exactly once, concurrent callers take turns, idle workers block.
import Foundation
import Synchronization
import Testing
import SwiftletCore

@Test(arguments: [1, 2, 3, 5])
func parallelForCoversEveryIndexOnce(threads: Int) {
    let pool = ThreadPool(threads: threads)
    for count in [0, 1, 7, 64, 1000] {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        hits.initialize(repeating: 0, count: max(count, 1))
        defer { hits.deallocate() }
        for _ in 0..<50 {
            pool.parallelFor(count, granule: 4) { r in for i in r { hits[i] += 1 } }
        }
        #expect((0..<count).allSatisfy { hits[$0] == 50 }, "count \(count), threads \(threads)")
    }
}

@Test func chunksPartitionTheRange() {
    for count in [0, 1, 5, 16, 17, 100] {
        for parts in 1...4 {
            for granule in [1, 4, 16] {
                var next = 0
                for p in 0..<parts {
                    let r = ThreadPool.chunk(count, part: p, of: parts, granule: granule)
                    #expect(r.lowerBound == next)
                    #expect(r.lowerBound % granule == 0 || r.isEmpty || r.lowerBound == count)
                    next = r.upperBound
                }
                #expect(next == count)
            }
        }
    }
}

@Test func concurrentCallersTakeTurns() async {
    let pool = ThreadPool(threads: 2)
    let counter = Counter()
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                for _ in 0..<200 {
                    pool.run { _, _ in counter.value.add(1, ordering: .relaxed) }
                }
            }
        }
    }
    #expect(counter.value.load(ordering: .relaxed) == 4 * 200 * 2)
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

@Test func blockingWorkersStillRunJobs() {
    let pool = ThreadPool(threads: 2, spinIterations: 0)
    let total = Atomic<Int>(0)
    for _ in 0..<100 {
        usleep(100)
        pool.run { t, _ in total.add(t + 1, ordering: .relaxed) }
    }
    #expect(total.load(ordering: .relaxed) == 100 * 3)
}
