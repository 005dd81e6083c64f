// Calibration statistics for structured MLP pruning: the mean |activation| of every MLP hidden
// unit (act(gate) * up, the input of down) over a text, per layer, from running the base model.
import Foundation
import SwiftletModels

public enum MLPCalibration {
    /// Mean |h_i| per layer and unit over the first `tokens` tokens of `text`, in windows of 512.
    public static func activationMeans(model: String, text: String, tokens: Int) throws -> [[Double]] {
        let engine: Engine
        do { engine = try Engine(path: model) } catch {
            throw RuntimeError("calibration runs the model, which could not be loaded as a text generator: \(error)")
        }
        let ids = Array(engine.tokenize(text, bos: true).prefix(tokens))
        guard ids.count >= 2 else { throw RuntimeError("the calibration text has fewer than 2 tokens") }
        let window = min(512, engine.config.contextLength)
        let (cache, scratch) = engine.makeSequence(capacity: window, promptTokens: window)
        final class Sums { var values: [[Double]] = []; var rows = 0 }
        let sums = Sums()
        sums.values = Array(repeating: [], count: engine.config.layerCount)
        scratch.mlpObserver = { layer, h, n, width in
            if sums.values[layer].isEmpty { sums.values[layer] = Array(repeating: 0, count: width) }
            sums.values[layer].withUnsafeMutableBufferPointer { s in
                for r in 0..<n { for i in 0..<width { s[i] += Double(abs(h[r * width + i])) } }
            }
            if layer == 0 { sums.rows += n }
        }
        var start = 0
        while start < ids.count {
            cache.truncate(to: 0)
            try engine.evaluate(Array(ids[start..<min(ids.count, start + window)]), cache: cache, scratch: scratch, logits: .last) { _, _ in }
            start += window
        }
        scratch.mlpObserver = nil
        guard sums.rows > 0, sums.values.allSatisfy({ !$0.isEmpty }) else {
            throw RuntimeError("the model has no dense MLP in every layer to calibrate (mixture-of-experts layers are not supported)")
        }
        return sums.values.map { $0.map { $0 / Double(sums.rows) } }
    }

    /// The layer number in a tensor name (`blk.N.` or `layers.N.` / `layer.N.`), if any.
    static func layer(of name: String) -> Int? {
        let parts = name.split(separator: ".")
        for (i, p) in parts.enumerated() where ["blk", "layers", "layer"].contains(p) && i + 1 < parts.count {
            return Int(parts[i + 1])
        }
        return nil
    }
}
