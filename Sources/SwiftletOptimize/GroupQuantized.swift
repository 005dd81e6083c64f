// A matrix quantized in groups: unsigned codes plus an f16 scale and min per group of consecutive
// elements of a row (x ≈ scale * q + min), the form the storage packers write.
import SwiftletCore

/// A row-major matrix of `rows` rows of `k` values, quantized in groups of `groupSize` consecutive
/// values of a row. Element `i` of group `g` dequantizes to `scales[g] * codes[g * groupSize + i] + mins[g]`.
///
/// `scales` and `mins` hold f16-representable values (`Float(Float16(s)) == s`), and the codes were
/// computed with those rounded values: `dequantized()` is exactly what the stored format gives back.
public struct GroupQuantized: Sendable, Equatable {
    /// Bits per code: 4 or 8.
    public let bits: Int
    public let groupSize: Int
    public let rows: Int
    public let k: Int
    /// rows * k codes in the matrix's element order, each in 0..<(1 << bits).
    public let codes: [UInt8]
    /// One per group (rows * k / groupSize), groups of a row in order, row after row.
    public let scales: [Float]
    public let mins: [Float]

    public init(bits: Int, groupSize: Int, rows: Int, k: Int, codes: [UInt8], scales: [Float], mins: [Float]) {
        precondition(groupSize > 0 && k % groupSize == 0, "group size \(groupSize) does not divide the row length \(k)")
        precondition(codes.count == rows * k, "expected \(rows * k) codes, got \(codes.count)")
        precondition(scales.count == rows * k / groupSize && mins.count == scales.count, "one scale and min per group")
        self.bits = bits
        self.groupSize = groupSize
        self.rows = rows
        self.k = k
        self.codes = codes
        self.scales = scales
        self.mins = mins
    }

    /// The group sizes the quantizers take.
    public static let groupSizes = [32, 64, 128]

    public var groupCount: Int { scales.count }
    /// The largest code, 2^bits - 1.
    public var maxCode: Int { (1 << bits) - 1 }

    /// The matrix the codes stand for (rows * k values, row-major).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: codes.count)
        for g in 0..<groupCount {
            let scale = scales[g], min = mins[g]
            for i in g * groupSize..<(g + 1) * groupSize { out[i] = scale * Float(codes[i]) + min }
        }
        return out
    }
}

/// A quantizer was asked for something it cannot do (unsupported bits, a group that does not
/// divide the rows, a buffer of the wrong size).
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Checks the arguments every group quantizer takes.
func validateGroupArguments(count: Int, rows: Int, k: Int, bits: Int, groupSize: Int) throws {
    guard bits == 4 || bits == 8 else { throw QuantizationError("bits must be 4 or 8, got \(bits)") }
    guard GroupQuantized.groupSizes.contains(groupSize) else {
        throw QuantizationError("group size must be 32, 64 or 128, got \(groupSize)")
    }
    guard rows >= 0, k > 0, count == rows * k else {
        throw QuantizationError("expected \(rows) x \(k) = \(rows * k) values, got \(count)")
    }
    guard k % groupSize == 0 else {
        throw QuantizationError("row length \(k) is not a multiple of the group size \(groupSize)")
    }
}

/// Runs `body` over 0..<count, split across the pool's threads when there is one.
func forEachChunk(_ count: Int, pool: ThreadPool?, _ body: (Range<Int>) -> Void) {
    if let pool, pool.threadCount > 1 { pool.parallelFor(count, body) } else if count > 0 { body(0..<count) }
}
