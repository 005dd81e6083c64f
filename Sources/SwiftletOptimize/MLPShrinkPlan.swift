// Structured MLP shrinking: which intermediate units of a (gated) MLP to keep, scored from the weights.

/// The intermediate units of an MLP to keep at a given sparsity, and the gathers that shrink its
/// matrices: gate and up (intermediate x hidden) lose rows, down (hidden x intermediate) loses columns.
///
/// Score of unit i: ||gate_i|| * ||up_i|| * ||down_:,i|| (row norms of gate and up, column norm of down;
/// without a gate, ||up_i|| * ||down_:,i||). The unit adds down_:,i * act(gate_i · x) * (up_i · x) to the
/// output, and since |act(z)| <= |z| for SiLU, GELU and ReLU, its contribution is at most the score
/// times ||x||^2 (||x|| without a gate): the product of norms bounds what removing the unit can change
/// for any input, without calibration data. A product rather than a sum, so that one small factor
/// (a unit whose down column is near zero) makes the unit unimportant whatever the others are.
public struct MLPShrinkPlan: Sendable, Equatable {
    public let intermediate: Int
    /// The units kept, ascending.
    public let kept: [Int]
    /// The score of every unit.
    public let scores: [Double]

    /// Plans the shrink of an MLP with `hidden` inputs/outputs and `intermediate` units. Keeps
    /// `keepCount(...)` units, those with the highest scores (the lower index first among equal scores).
    /// Throws for buffers of the wrong size, a sparsity outside [0, 1), or a granularity outside
    /// 1...intermediate.
    public init(gate: [Float]?, up: [Float], down: [Float], hidden: Int, intermediate: Int,
                sparsity: Double, granularity: Int = 32) throws(PruningError) {
        let size = hidden * intermediate
        guard up.count == size, down.count == size, gate.map({ $0.count == size }) ?? true else {
            throw PruningError("expected gate and up of \(intermediate) x \(hidden) and down of \(hidden) x \(intermediate) values, got "
                + "\(gate.map { String($0.count) } ?? "no gate"), \(up.count) and \(down.count)")
        }
        let keep = try Self.keepCount(intermediate: intermediate, sparsity: sparsity, granularity: granularity)
        var scores = [Double](repeating: 1, count: intermediate)
        for matrix in [gate, up].compactMap({ $0 }) {
            for (i, norm) in StructuredPruning.rowNorms(matrix, rows: intermediate, k: hidden).enumerated() { scores[i] *= norm }
        }
        for (i, norm) in Self.columnNorms(down, hidden: hidden, intermediate: intermediate).enumerated() { scores[i] *= norm }
        self.init(intermediate: intermediate, scores: scores, keep: keep)
    }

    /// Plans the shrink from calibration statistics: unit i scores mean|h_i| * ||down_:,i||, where
    /// h is the MLP's hidden activation (act(gate) * up) measured on real text, so the score is
    /// the unit's average contribution to the output (FLAP's and Wanda's idea, per unit).
    public init(down: [Float], hidden: Int, intermediate: Int, activationMeans: [Double],
                sparsity: Double, granularity: Int = 32) throws(PruningError) {
        guard down.count == hidden * intermediate, activationMeans.count == intermediate else {
            throw PruningError("expected down of \(hidden) x \(intermediate) values and \(intermediate) activation means, got "
                + "\(down.count) and \(activationMeans.count)")
        }
        let keep = try Self.keepCount(intermediate: intermediate, sparsity: sparsity, granularity: granularity)
        let columns = Self.columnNorms(down, hidden: hidden, intermediate: intermediate)
        self.init(intermediate: intermediate, scores: (0..<intermediate).map { activationMeans[$0] * columns[$0] }, keep: keep)
    }

    /// Keeps the `keep` highest-scoring units (the lower index first among equal scores; NaN lowest).
    private init(intermediate: Int, scores: [Double], keep: Int) {
        let rank = scores.map { $0.isNaN ? -.infinity : $0 }
        self.intermediate = intermediate
        self.scores = scores
        kept = scores.indices.sorted { (-rank[$0], $0) < (-rank[$1], $1) }.prefix(keep).sorted()
    }

    /// The L2 norm of each column of down (hidden rows of intermediate values).
    private static func columnNorms(_ down: [Float], hidden: Int, intermediate: Int) -> [Double] {
        var columns = [Double](repeating: 0, count: intermediate)
        for h in 0..<hidden {
            for i in 0..<intermediate {
                let x = Double(down[h * intermediate + i])
                columns[i] += x * x
            }
        }
        return columns.map { $0.squareRoot() }
    }

    /// Units kept for `sparsity`: (1 - sparsity) * intermediate rounded to the nearest multiple of
    /// `granularity` (halves up), at least one granule and at most the largest multiple that fits.
    /// When `intermediate` is not a multiple of `granularity`, some units go even at sparsity 0.
    public static func keepCount(intermediate: Int, sparsity: Double, granularity: Int) throws(PruningError) -> Int {
        guard sparsity >= 0 && sparsity < 1 else { throw PruningError("sparsity must be in [0, 1), got \(sparsity)") }
        guard granularity >= 1, granularity <= intermediate else {
            throw PruningError("granularity must be in 1...\(intermediate) (the intermediate size), got \(granularity)")
        }
        let granules = ((1 - sparsity) * Double(intermediate) / Double(granularity)).rounded(.toNearestOrAwayFromZero)
        return Swift.min(Swift.max(Int(granules), 1), intermediate / granularity) * granularity
    }

    /// The kept rows of `matrix` (intermediate rows of k values, row-major): for gate and up.
    public func gatherRows(_ matrix: [Float], k: Int) -> [Float] {
        precondition(matrix.count == intermediate * k, "expected \(intermediate) x \(k) values, got \(matrix.count)")
        var out: [Float] = []
        out.reserveCapacity(kept.count * k)
        for r in kept { out += matrix[r * k..<(r + 1) * k] }
        return out
    }

    /// The kept columns of `matrix` (`rows` rows of intermediate values, row-major): for down.
    public func gatherColumns(_ matrix: [Float], rows: Int) -> [Float] {
        precondition(matrix.count == rows * intermediate, "expected \(rows) x \(intermediate) values, got \(matrix.count)")
        var out: [Float] = []
        out.reserveCapacity(rows * kept.count)
        for r in 0..<rows {
            for c in kept { out.append(matrix[r * intermediate + c]) }
        }
        return out
    }
}

/// A pruning request that cannot be carried out (shapes, sparsity, granularity).
public struct PruningError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
