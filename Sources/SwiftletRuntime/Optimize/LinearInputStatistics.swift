// Calibration statistics: per input channel of every layer's linear projections, the mean |x_j| and
// mean x_j^2 over a text, from running the base model (structured pruning scores MLP units by the
// first, activation-aware HQQ weighs quantization errors by the second), and on request the whole
// second-moment matrix E[x xᵀ] of each input (GPTQ's error feedback).
import Foundation
import SwiftletCore
import SwiftletKernels
import SwiftletModels

/// Per-channel means of each layer's linear inputs over the first tokens of a calibration text.
public struct LinearInputStatistics: Sendable {
    /// Tokens run through the model.
    public let tokens: Int
    /// [input][layer] -> per channel mean |x_j| / mean x_j^2; empty for an input a layer never showed
    /// (mixture-of-experts layers have no dense MLP hidden).
    let absolute: [[[Double]]]
    let square: [[[Double]]]
    /// [input][layer] -> width x width sum over the tokens of x xᵀ (row-major), when asked for; else empty.
    let moments: [[[Float]]]

    /// Runs the model at `model` over the first `tokens` tokens of `text`, in windows of 512.
    /// `secondMoments` also sums x xᵀ for every input of every layer: width² floats each (for Gemma 3
    /// 270M 437 MB, for a 7B Llama 22 GB); more than half the machine's memory is a clear error.
    public init(model: String, text: String, tokens: Int, secondMoments: Bool = false) throws {
        let engine: Engine
        do { engine = try Engine(path: model) } catch {
            throw RuntimeError("calibration runs the model, which could not be loaded as a text generator: \(error)")
        }
        let ids = Array(engine.tokenize(text, bos: true).prefix(tokens))
        guard ids.count >= 2 else { throw RuntimeError("the calibration text has fewer than 2 tokens") }
        let window = min(512, engine.config.contextLength)
        let (cache, scratch) = engine.makeSequence(capacity: window, promptTokens: window)
        final class Sums {
            var absolute: [[[Double]]], square: [[[Double]]]
            init(layers: Int) {
                absolute = Array(repeating: Array(repeating: [], count: layers), count: LinearInput.allCases.count)
                square = absolute
            }
        }
        let sums = Sums(layers: engine.config.layerCount)
        let moments = secondMoments ? try SecondMoments(layers: engine.config.layerCount) : nil
        scratch.inputObserver = { input, layer, x, n, width in
            moments?.add(input, layer, x, n, width)
            let i = input.rawValue
            if sums.absolute[i][layer].isEmpty {
                sums.absolute[i][layer] = Array(repeating: 0, count: width)
                sums.square[i][layer] = Array(repeating: 0, count: width)
            }
            sums.absolute[i][layer].withUnsafeMutableBufferPointer { a in
                sums.square[i][layer].withUnsafeMutableBufferPointer { s in
                    for r in 0..<n {
                        for j in 0..<width {
                            let v = Double(x[r * width + j])
                            a[j] += abs(v)
                            s[j] += v * v
                        }
                    }
                }
            }
        }
        var start = 0
        while start < ids.count {
            cache.truncate(to: 0)
            try engine.evaluate(Array(ids[start..<min(ids.count, start + window)]), cache: cache, scratch: scratch, logits: .last) { _, _ in }
            if let needed = moments?.refused {
                scratch.inputObserver = nil
                throw RuntimeError("GPTQ's calibration needs the second-moment matrix of every layer input, more than "
                                   + "\(ByteSize.format(needed)) here, above half of this machine's memory (\(ByteSize.format(SecondMoments.limit)))")
            }
            start += window
        }
        scratch.inputObserver = nil
        self.moments = moments?.sums ?? []
        self.tokens = ids.count
        absolute = sums.absolute.map { $0.map { $0.map { $0 / Double(ids.count) } } }
        square = sums.square.map { $0.map { $0.map { $0 / Double(ids.count) } } }
    }

    /// Mean |x_j| of `input` in every layer, or nil unless every layer showed it.
    public func meanAbsolute(_ input: LinearInput) -> [[Double]]? {
        let layers = absolute[input.rawValue]
        return layers.allSatisfy { !$0.isEmpty } ? layers : nil
    }

    /// The observed input the weight `tensor` reads, and its layer: nil when no observed input feeds it
    /// (see `LinearInput(readBy:)`) or its name is in no weight-name table.
    public static func input(readBy tensor: String) -> (input: LinearInput, layer: Int)? {
        guard let (role, layer) = WeightNames.locate(tensor), let input = LinearInput(readBy: role) else { return nil }
        return (input, layer)
    }

    /// Mean x_j^2 over the input channels of the weight `tensor` (its row length), or nil when no
    /// observed input feeds it.
    public func meanSquare(readBy tensor: String) -> [Double]? {
        Self.input(readBy: tensor).flatMap { Self.entry(square, $0) }
    }

    /// Σ x xᵀ over the calibration tokens of the input the weight `tensor` reads (width x width, row-major),
    /// or nil when second moments were not collected or no observed input feeds it.
    public func secondMoments(readBy tensor: String) -> [Float]? {
        Self.input(readBy: tensor).flatMap { Self.entry(moments, $0) }
    }

    /// table[input][layer], or nil when the table lacks it or it is empty (never observed).
    static func entry<T>(_ table: [[[T]]], _ at: (input: LinearInput, layer: Int)) -> [T]? {
        guard at.input.rawValue < table.count, at.layer < table[at.input.rawValue].count else { return nil }
        let values = table[at.input.rawValue][at.layer]
        return values.isEmpty ? nil : values
    }
}

/// Sums x xᵀ per input and layer: each window of n rows is transposed (width rows of n) and multiplied
/// by itself with the f32 weight kernel, on every core.
final class SecondMoments {
    /// At most half the physical memory goes to the sums.
    static let limit = Int(ProcessInfo.processInfo.physicalMemory / 2)
    var sums: [[[Float]]]
    private(set) var bytes = 0
    /// The bytes the sums would have needed, once they passed `limit` (nothing more is summed).
    private(set) var refused: Int?
    private let kernels: WeightKernels
    private let pool = ThreadPool(threads: ThreadPool.coreCount, spinIterations: 0)
    private var transposed: [Float] = [], product: [Float] = []

    init(layers: Int) throws {
        sums = Array(repeating: Array(repeating: [], count: layers), count: LinearInput.allCases.count)
        kernels = try KernelTable.kernels(for: .f32)
    }

    func add(_ input: LinearInput, _ layer: Int, _ x: UnsafePointer<Float>, _ n: Int, _ width: Int) {
        guard refused == nil else { return }
        let i = input.rawValue
        if sums[i][layer].isEmpty {
            guard bytes + 4 * width * width <= Self.limit else { refused = bytes + 4 * width * width; return }
            bytes += 4 * width * width
            sums[i][layer] = Array(repeating: 0, count: width * width)
        }
        if transposed.count < width * n { transposed = Array(repeating: 0, count: width * n) }
        if product.count < width * width { product = Array(repeating: 0, count: width * width) }
        let kernels = self.kernels, pool = self.pool
        transposed.withUnsafeMutableBufferPointer { t in
            product.withUnsafeMutableBufferPointer { p in
                sums[i][layer].withUnsafeMutableBufferPointer { s in
                    let (t, p, s) = (t.baseAddress!, p.baseAddress!, s.baseAddress!)
                    for r in 0..<n { for j in 0..<width { t[j * n + r] = x[r * width + j] } }
                    // product[a * width + b] = Σ_r x[r][a] x[r][b]: weight rows and activation rows are both the transposed rows.
                    pool.parallelFor(width, granule: 4) { rows in
                        kernels.matmul(UnsafeRawPointer(t), rows, n, UnsafeRawPointer(t), 4 * n, width, p, width)
                    }
                    for j in 0..<(width * width) { s[j] += p[j] }
                }
            }
        }
    }
}
