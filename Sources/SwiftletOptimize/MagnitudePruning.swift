// Unstructured magnitude pruning: zero the smallest-|w| entries of a matrix, at once or on the
// gradual cubic schedule of Zhu & Gupta 2017 ("To prune, or not to prune").

/// Magnitude pruning of one weight matrix (any row-major buffer: the entries are ranked as one set).
public enum MagnitudePruning {
    /// Entries pruned for sparsity `s` of `n` entries: round(s * n), ties to even, as
    /// `torch.nn.utils.prune` counts a float amount.
    public static func pruneCount(sparsity s: Double, of n: Int) -> Int {
        Swift.min(n, Swift.max(0, Int((s * Double(n)).rounded(.toNearestOrEven))))
    }

    /// Zeros the `pruneCount(sparsity:of:)` entries with the smallest |w|; among equal magnitudes the
    /// lower index goes first, so the result is deterministic. Entries that are already zero are the
    /// smallest and count toward the target (pruning again at a higher sparsity keeps them pruned).
    /// NaN ranks above infinity and is never pruned before finite values. Returns the count zeroed.
    @discardableResult
    public static func prune(_ weights: inout [Float], sparsity: Double) -> Int {
        precondition(sparsity >= 0 && sparsity <= 1, "sparsity \(sparsity) is outside 0...1")
        let count = pruneCount(sparsity: sparsity, of: weights.count)
        guard count > 0 else { return 0 }
        weights.withUnsafeMutableBufferPointer { w in
            let (threshold, below) = smallestKey(w, rank: count)
            var ties = count - below
            for i in w.indices {
                let key = magnitudeKey(w[i])
                if key < threshold {
                    w[i] = 0
                } else if key == threshold, ties > 0 {
                    w[i] = 0
                    ties -= 1
                }
            }
        }
        return count
    }

    /// The per-step targets s_t = s_f + (s_i - s_f) * (1 - t / n)^3 for t = 1...n: steep at first, then
    /// gentler as fewer weights are left; the last equals `final`. Prune to each in turn.
    public static func gradualSchedule(initial: Double = 0, final: Double, steps: Int) -> [Double] {
        precondition(steps >= 1, "steps must be at least 1")
        return (1...steps).map { t in
            let remaining = 1 - Double(t) / Double(steps)
            return final + (initial - final) * remaining * remaining * remaining
        }
    }

    /// |w| as bits: for non-negative floats the bit patterns sort as the values do (NaN above infinity).
    @inline(__always) static func magnitudeKey(_ x: Float) -> UInt32 { x.magnitude.bitPattern }

    /// The `rank`-th smallest key (1-based) and how many keys are strictly below it, by a two-pass
    /// radix select on the high and low 16 bits (linear time, no copy of the matrix).
    static func smallestKey(_ w: UnsafeMutableBufferPointer<Float>, rank: Int) -> (key: UInt32, below: Int) {
        var histogram = [Int](repeating: 0, count: 1 << 16)
        for x in w { histogram[Int(magnitudeKey(x) >> 16)] += 1 }
        var below = 0, high = 0
        while below + histogram[high] < rank {
            below += histogram[high]
            high += 1
        }
        histogram = [Int](repeating: 0, count: 1 << 16)
        for x in w where Int(magnitudeKey(x) >> 16) == high { histogram[Int(magnitudeKey(x) & 0xFFFF)] += 1 }
        var low = 0
        while below + histogram[low] < rank {
            below += histogram[low]
            low += 1
        }
        return (UInt32(high << 16 | low), below)
    }
}
