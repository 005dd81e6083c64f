// A matrix quantized to int8 per output channel: one f32 scale per row, x ≈ scale * q.

/// A row-major matrix of `rows` rows of `k` values with one scale per row (output channel):
/// element j of row r dequantizes to `scales[r] * Float(codes[r * k + j])`.
public struct ChannelQuantized: Sendable, Equatable {
    public let rows: Int
    public let k: Int
    /// rows * k codes in -127...127 (-128 is never used, so the range is symmetric).
    public let codes: [Int8]
    /// One per row, f32 (not rounded to f16): max |x| of the row / 127, 0 for an all-zero row.
    public let scales: [Float]

    public init(rows: Int, k: Int, codes: [Int8], scales: [Float]) {
        precondition(codes.count == rows * k && scales.count == rows, "expected \(rows) x \(k) codes and \(rows) scales")
        self.rows = rows
        self.k = k
        self.codes = codes
        self.scales = scales
    }

    /// The matrix the codes stand for (rows * k values, row-major).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: codes.count)
        for r in 0..<rows {
            for j in r * k..<(r + 1) * k { out[j] = scales[r] * Float(codes[j]) }
        }
        return out
    }
}
