// A deployment's recipe applied at load: the model is pruned and/or quantized once into a cache
// (keyed by the source file and the recipe), and later loads reuse the result.
import Foundation
import SwiftletOptimize

public enum RecipeApplication {
    /// Where optimized models are kept: $SWIFTLET_OPTIMIZED, default ~/.cache/swiftlet/optimized.
    public static var cacheDirectory: String {
        ProcessInfo.processInfo.environment["SWIFTLET_OPTIMIZED"] ?? (NSHomeDirectory() + "/.cache/swiftlet/optimized")
    }

    /// The optimized model's path, made now unless the cache has it. `recipeText` is the recipe as
    /// written (part of the cache key, with the source's path, size and modification time, and the contents of
    /// the calibration texts).
    public static func apply(_ recipe: OptimizationRecipe, recipeText: String, to model: String,
                             cacheDirectory: String = cacheDirectory, log: (String) -> Void) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: model)
        let pruneText = try recipe.prune?.calibration.map(text)
        let quantizeText = try recipe.quantize?.calibration.map(text)
        let stamp = "\((model as NSString).standardizingPath)|\(try ModelSize.bytes(model))|"
            + "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)|\(recipeText)"
            + "|\(pruneText.map(fnv1a) ?? "")|\(quantizeText.map(fnv1a) ?? "")"
        let isFile = (attributes[.type] as? FileAttributeType) != .typeDirectory
        let name = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        let output = cacheDirectory + "/\(name)-\(fnv1a(stamp))" + (isFile ? ".gguf" : "")
        if FileManager.default.fileExists(atPath: output) {
            log("using the optimized model cached at \(output)")
            return output
        }
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        var input = model
        var intermediate: String?
        defer { if let intermediate { try? FileManager.default.removeItem(atPath: intermediate) } }
        if let p = recipe.prune {
            let target = recipe.quantize == nil ? output : output + ".pruned" + (isFile ? ".gguf" : "")
            // Without retraining, gradual magnitude pruning ends where one-shot pruning at its last target is.
            let sparsity = p.targets.last ?? p.sparsity
            let s = try ModelPruner.run(input: model, output: target, method: p.method == .gradual ? .magnitude : p.method,
                                        sparsity: sparsity, granularity: p.granularity, filter: p.filter,
                                        calibrationText: pruneText, calibrationTokens: p.calibration?.tokens ?? 2048)
            log(String(format: "pruned (%@, sparsity %.2f%@): %d tensors changed in %.1f s", p.method.rawValue, sparsity,
                       calibrated(p.calibration), s.changed.count, s.seconds))
            if target != output { intermediate = target }
            input = target
        }
        if let q = recipe.quantize {
            let s = try ModelQuantizer.run(input: input, output: output, method: q.method.rawValue, groupSize: q.groupSize,
                                           filter: q.filter, calibrationText: quantizeText,
                                           calibrationTokens: q.calibration?.tokens ?? 2048, gptqDamping: q.damping)
            log(String(format: "quantized (%@%@%@): %d tensors, %.1f MB -> %.1f MB in %.1f s", q.method.rawValue,
                       q.method.isGrouped ? " g\(q.groupSize)" : "", calibrated(q.calibration), s.changed.count,
                       Double(s.inputBytes) / 1e6, Double(s.outputBytes) / 1e6, s.seconds))
        }
        return output
    }

    static func text(_ c: OptimizationRecipe.Calibration) throws -> String {
        do { return try String(contentsOfFile: c.path, encoding: .utf8) } catch {
            throw RuntimeError("cannot read the calibration text \(c.path) as UTF-8: \(error.localizedDescription)")
        }
    }

    static func calibrated(_ c: OptimizationRecipe.Calibration?) -> String {
        c.map { ", calibrated on \($0.tokens) tokens of \(($0.path as NSString).lastPathComponent)" } ?? ""
    }

    static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}
