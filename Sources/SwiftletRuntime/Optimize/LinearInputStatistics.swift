// Calibration statistics: per input channel of every layer's linear projections, the mean |x_j| and
// mean x_j^2 over a text, from running the base model (structured pruning scores MLP units by the
// first, activation-aware HQQ weighs quantization errors by the second).
import Foundation
import SwiftletModels

/// Per-channel means of each layer's linear inputs over the first tokens of a calibration text.
public struct LinearInputStatistics: Sendable {
    /// Tokens run through the model.
    public let tokens: Int
    /// [input][layer] -> per channel mean |x_j| / mean x_j^2; empty for an input a layer never showed
    /// (mixture-of-experts layers have no dense MLP hidden).
    let absolute: [[[Double]]]
    let square: [[[Double]]]

    /// Runs the model at `model` over the first `tokens` tokens of `text`, in windows of 512.
    public init(model: String, text: String, tokens: Int) throws {
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
        scratch.inputObserver = { input, layer, x, n, width in
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
            start += window
        }
        scratch.inputObserver = nil
        self.tokens = ids.count
        absolute = sums.absolute.map { $0.map { $0.map { $0 / Double(ids.count) } } }
        square = sums.square.map { $0.map { $0.map { $0 / Double(ids.count) } } }
    }

    /// Mean |x_j| of `input` in every layer, or nil unless every layer showed it.
    public func meanAbsolute(_ input: LinearInput) -> [[Double]]? {
        let layers = absolute[input.rawValue]
        return layers.allSatisfy { !$0.isEmpty } ? layers : nil
    }

    /// Mean x_j^2 over the input channels of the weight `tensor` (its row length), or nil when no
    /// observed input feeds it (see `LinearInput(readBy:)`) or its name is in no weight-name table.
    public func meanSquare(readBy tensor: String) -> [Double]? {
        guard let (role, layer) = WeightNames.locate(tensor), let input = LinearInput(readBy: role) else { return nil }
        let layers = square[input.rawValue]
        guard layer < layers.count, !layers[layer].isEmpty else { return nil }
        return layers[layer]
    }
}
