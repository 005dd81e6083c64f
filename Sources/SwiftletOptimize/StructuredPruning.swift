// Structured pruning: whole output rows (channels) with the smallest L2 norm are zeroed.

/// Row (output-channel) pruning of a row-major matrix of `rows` rows of `k` values.
public enum StructuredPruning {
    /// The L2 norm of each row.
    public static func rowNorms(_ weights: [Float], rows: Int, k: Int) -> [Double] {
        precondition(weights.count == rows * k, "expected \(rows) x \(k) values, got \(weights.count)")
        return (0..<rows).map { r in
            var sum = 0.0
            for x in weights[r * k..<(r + 1) * k] { sum += Double(x) * Double(x) }
            return sum.squareRoot()
        }
    }

    /// Zeros the round(s * rows) rows (ties to even) with the smallest L2 norm, the lower row first
    /// among equal norms. Returns the zeroed rows, ascending.
    @discardableResult
    public static func pruneRows(_ weights: inout [Float], rows: Int, k: Int, sparsity: Double) -> [Int] {
        precondition(sparsity >= 0 && sparsity <= 1, "sparsity \(sparsity) is outside 0...1")
        let norms = rowNorms(weights, rows: rows, k: k).map { $0.isNaN ? .infinity : $0 }
        let count = MagnitudePruning.pruneCount(sparsity: sparsity, of: rows)
        let pruned = norms.indices.sorted { (norms[$0], $0) < (norms[$1], $1) }.prefix(count).sorted()
        for r in pruned { weights.replaceSubrange(r * k..<(r + 1) * k, with: repeatElement(0, count: k)) }
        return pruned
    }
}
