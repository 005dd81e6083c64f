// quantize and prune end to end: files written, loaded, and run; errors leave nothing behind.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletOptimize
import SwiftletRuntime
import SwiftletTestSupport
import Testing

enum Rewrite {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf")
    static func temporary(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "swiftlet-rewrite-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
    static let tokens: [Int32] = [5, 17, 42, 99, 3, 250, 7, 64, 128, 11, 300, 2]

    static func maxRelativeError(_ a: [[Float]], _ b: [[Float]]) -> Float {
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            let scale = x.map(abs).max() ?? 1
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v) / scale) }
        }
        return worst
    }
}

@Suite struct ModelRewriteTests {
    @Test(arguments: ["int8", "rtn4", "rtn8", "hqq4", "hqq8"])
    func quantizedFolderLoadsAndStaysClose(method: String) throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let out = try Rewrite.temporary("q")
        let s = try ModelQuantizer.run(input: base, output: out, method: method, groupSize: 32)
        #expect(s.changed.count == 14, "2 layers x 7 projections")
        #expect(s.outputBytes < s.inputBytes)
        let want = try Engine(path: base).logits(tokens: Rewrite.tokens, all: true)
        let got = try Engine(path: out).logits(tokens: Rewrite.tokens, all: true)
        let err = Rewrite.maxRelativeError(want, got)
        // The fixture's logits are spread wide (std ~8), so these are loose: 8 bits about 3.5%, 4 bits about 40%.
        let bound: Float = method.hasSuffix("4") ? 0.6 : 0.06
        #expect(err < bound, "\(method): max relative logit error \(err)")
        #expect(err > 0, "\(method) changed nothing")
        // Deterministic: the same input gives the same bytes.
        let again = try Rewrite.temporary("q")
        _ = try ModelQuantizer.run(input: base, output: again, method: method, groupSize: 32)
        #expect(FileManager.default.contents(atPath: out + "/model.safetensors") == FileManager.default.contents(atPath: again + "/model.safetensors"))
    }

    @Test func llamaCompatibleQ4_1IsTheSameModelAsSwiftlet4BitGroup32() throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let own = try Rewrite.temporary("own.gguf"), compatible = try Rewrite.temporary("q41.gguf")
        _ = try ModelQuantizer.run(input: path, output: own, method: "rtn4", groupSize: 32)
        _ = try ModelQuantizer.run(input: path, output: compatible, method: "rtn4", groupSize: 32, llamaCompatible: true)
        let a = try GGUFFile(path: own), b = try GGUFFile(path: compatible), original = try GGUFFile(path: path)
        #expect(a.tensorsByName["blk.0.attn_q.weight"]?.type == .swA4G32 && b.tensorsByName["blk.0.attn_q.weight"]?.type == .q4_1)
        // SmolLM2's projections are Q4_1 already: RTN at group 32 finds the very same blocks.
        let t = original.tensorsByName["blk.3.ffn_down.weight"]!, u = b.tensorsByName["blk.3.ffn_down.weight"]!
        #expect(memcmp(original.data(t), b.data(u), t.byteCount) == 0)
        let x = try Engine(path: own).logits(tokens: Rewrite.tokens, all: true)
        let y = try Engine(path: compatible).logits(tokens: Rewrite.tokens, all: true)
        #expect(x == y, "the two files hold the same weights and must give identical logits")
    }

    @Test func structuredPruningShrinksTheMLP() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let out = try Rewrite.temporary("p")
        let map = try FilterMap(allow: ["*mlp.up_proj.weight", "*mlp.down_proj.weight"])
        _ = try ModelPruner.run(input: base, output: out, method: .structured, sparsity: 0.25, granularity: 32, filter: map)
        let config = try JSONValue.parse(Array(FileManager.default.contents(atPath: out + "/config.json")!))
        let before = try JSONValue.parse(Array(FileManager.default.contents(atPath: base + "/config.json")!))
        let inter = try #require(before["intermediate_size"]?.int)
        #expect(config["intermediate_size"]?.int == inter - inter / 4)
        let c = try SafetensorsCheckpoint(path: out)
        #expect(c.info("model.layers.1.mlp.down_proj.weight")?.shape == [64, inter - inter / 4])
        #expect(c.info("model.layers.1.mlp.gate_proj.weight")?.shape == [inter - inter / 4, 64])
        let logits = try Engine(path: out).logits(tokens: Rewrite.tokens, all: false)
        #expect(logits.allSatisfy { $0.allSatisfy(\.isFinite) })
        // A filter that leaves some layers' MLPs out cannot give every layer one size.
        let partial = try FilterMap(allow: ["model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight"])
        #expect(throws: (any Error).self) {
            try ModelPruner.run(input: base, output: try Rewrite.temporary("x"), method: .structured, sparsity: 0.25, filter: partial)
        }
    }

    @Test func magnitudePruningHitsTheSparsityInTheFile() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let out = try Rewrite.temporary("m")
        _ = try ModelPruner.run(input: base, output: out, method: .magnitude, sparsity: 0.5)
        let c = try SafetensorsCheckpoint(path: out)
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight"] {
            let info = try #require(c.info(name))
            let values = UnsafeBufferPointer(start: c.data(name)!.assumingMemoryBound(to: Float.self), count: info.elementCount)
            #expect(values.filter { $0 == 0 }.count == info.elementCount / 2, "\(name)")
        }
        // The gemma3 map leaves attention output projections alone.
        let o = try #require(c.info("model.layers.0.self_attn.o_proj.weight"))
        let ov = UnsafeBufferPointer(start: c.data("model.layers.0.self_attn.o_proj.weight")!.assumingMemoryBound(to: Float.self), count: o.elementCount)
        #expect(ov.filter { $0 == 0 }.count < o.elementCount / 10)
    }

    @Test func badRequestsAreClearErrorsAndLeaveNoFile() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let out = try Rewrite.temporary("bad")
        #expect(throws: (any Error).self) { try ModelQuantizer.run(input: base, output: out, method: "int3") }
        #expect(throws: (any Error).self) { try ModelQuantizer.run(input: base, output: out, method: "rtn4", groupSize: 48) }
        #expect(throws: (any Error).self) { try ModelQuantizer.run(input: base, output: out, method: "int8", llamaCompatible: true) }
        #expect(throws: (any Error).self) { try ModelQuantizer.run(input: base + "-missing", output: out, method: "int8") }
        #expect(throws: (any Error).self) { try ModelPruner.run(input: base, output: out, method: .magnitude, sparsity: 1.5) }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors.partial"))
    }
}

@Suite struct RecipeApplicationTests {
    @Test func aRecipeIsAppliedOnceThenReused() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let cache = try Rewrite.temporary("cache")
        let text = #"{"prune": {"method": "structured", "sparsity": 0.25, "filter": {"allow": ["*mlp.up_proj.weight", "*mlp.down_proj.weight"]}}, "quantize": {"method": "int8"}}"#
        let recipe = try OptimizationRecipe(json: try JSONValue.parse(text))
        var lines: [String] = []
        let first = try RecipeApplication.apply(recipe, recipeText: text, to: base, cacheDirectory: cache) { lines.append($0) }
        #expect(lines.count == 2 && lines[0].hasPrefix("pruned") && lines[1].hasPrefix("quantized"))
        let c = try SafetensorsCheckpoint(path: first)
        #expect(c.swiftletType("model.layers.0.mlp.down_proj.weight")?.dims == [96, 64])
        #expect(try Engine(path: first).logits(tokens: Rewrite.tokens, all: false).allSatisfy { $0.allSatisfy(\.isFinite) })
        lines = []
        let second = try RecipeApplication.apply(recipe, recipeText: text, to: base, cacheDirectory: cache) { lines.append($0) }
        #expect(second == first && lines.count == 1 && lines[0].hasPrefix("using the optimized model cached"))
        // Only the result is kept: no intermediate or partial files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == [(first as NSString).lastPathComponent])
    }

    /// A recipe's calibration text reaches the quantizer (int8 rounds with GPTQ), and the cache key holds the
    /// text's contents: another text makes another model.
    @Test func aRecipesCalibrationTextIsUsedAndKeysTheCache() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let cache = try Rewrite.temporary("cache"), folder = try Rewrite.temporary("texts")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)
            .write(toFile: folder + "/calibration.txt", atomically: true, encoding: .utf8)
        let text = #"{"quantize": {"method": "int8", "calibration": "calibration.txt", "calibration_tokens": 96}}"#
        let recipe = try OptimizationRecipe(json: try JSONValue.parse(text), relativeTo: folder)
        var lines: [String] = []
        let first = try RecipeApplication.apply(recipe, recipeText: text, to: base, cacheDirectory: cache) { lines.append($0) }
        #expect(lines.count == 1 && lines[0].hasPrefix("quantized (int8, calibrated on 96 tokens of calibration.txt)"))
        let metadata = try SafetensorsCheckpoint(path: first).files[0].metadata
        #expect(metadata["swiftlet.optimization.rounding"] == "gptq" && metadata["swiftlet.optimization.calibration_tokens"] == "96")
        try String(repeating: "Pack my box with five dozen liquor jugs. ", count: 20)
            .write(toFile: folder + "/calibration.txt", atomically: true, encoding: .utf8)
        let second = try RecipeApplication.apply(recipe, recipeText: text, to: base, cacheDirectory: cache) { _ in }
        #expect(second != first)
    }

    @Test func malformedRecipesListEveryProblem() throws {
        let bad = try JSONValue.parse(#"{"quantize": {"method": "int3", "group": 48}, "prune": {"sparsity": 2}}"#)
        #expect {
            try OptimizationRecipe(json: bad)
        } throws: { error in
            let text = "\(error)"
            return text.contains("quantize.method") && text.contains("quantize.group") && text.contains("prune.sparsity") && text.contains("prune.method")
        }
    }
}

@Suite struct CalibratedPruningTests {
    @Test func calibrationScoresUnitsByTheirMeasuredContribution() throws {
        // Unit 0 has the largest down column but never fires; unit 2 fires most: calibration keeps 2 and drops 0.
        let down: [Float] = [9, 1, 1, 1,
                             9, 1, 1, 1]   // hidden 2 x intermediate 4
        let plan = try MLPShrinkPlan(down: down, hidden: 2, intermediate: 4, activationMeans: [0, 0.5, 3, 1],
                                     sparsity: 0.5, granularity: 1)
        #expect(plan.kept == [2, 3])
        #expect(throws: PruningError.self) {
            try MLPShrinkPlan(down: down, hidden: 2, intermediate: 4, activationMeans: [1, 1], sparsity: 0.5, granularity: 1)
        }
    }

    @Test func calibratedStructuredPruningRunsTheModel() throws {
        let base = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
        let out = try Rewrite.temporary("c")
        let map = try FilterMap(allow: ["*mlp.up_proj.weight", "*mlp.down_proj.weight"])
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)
        let s = try ModelPruner.run(input: base, output: out, method: .structured, sparsity: 0.25, filter: map,
                                    calibrationText: text, calibrationTokens: 128)
        #expect(s.changed.count == 6)
        let c = try SafetensorsCheckpoint(path: out)
        #expect(c.files[0].metadata["swiftlet.optimization.calibration_tokens"] == "128")
        #expect(try Engine(path: out).logits(tokens: Rewrite.tokens, all: false).allSatisfy { $0.allSatisfy(\.isFinite) })
        // An embedding model cannot be run for calibration: a clear error.
        guard let minilm = try TestModels.require(TestModels.minilm) else { return }
        let bert = try FilterMap(allow: ["encoder.layer.*.intermediate.dense.weight", "encoder.layer.*.output.dense.weight"],
                                 deny: ["*.attention.output.dense.weight"])
        #expect(throws: (any Error).self) {
            try ModelPruner.run(input: minilm, output: try Rewrite.temporary("b"), method: .structured, sparsity: 0.25,
                                filter: bert, calibrationText: text)
        }
    }
}

@Suite struct CalibratedQuantizationTests {
    static let qwen2 = Rewrite.fixtures.appendingPathComponent("qwen2-chat").path
    static let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)

    /// Each layer shows its four linear inputs in order, with the widths the projections read.
    @Test func theObserverSeesEveryLinearInput() throws {
        let engine = try Engine(path: Self.qwen2, threads: 2)
        let (cache, scratch) = engine.makeSequence(capacity: 32, promptTokens: 32)
        var seen: [String] = []
        var hidden: [Float] = []
        scratch.inputObserver = { input, layer, rows, n, width in
            seen.append("\(layer) \(input) \(n)x\(width)")
            if input == .mlpHidden && layer == 1 { hidden = Array(UnsafeBufferPointer(start: rows, count: n * width)) }
        }
        var observed: [Float] = []
        try engine.evaluate(Rewrite.tokens, cache: cache, scratch: scratch, logits: .last) { _, row in observed = Array(row) }
        let n = Rewrite.tokens.count
        #expect(seen == (0..<2).flatMap { l in ["\(l) attention \(n)x64", "\(l) attentionOutput \(n)x64", "\(l) mlp \(n)x64", "\(l) mlpHidden \(n)x128"] })
        #expect(hidden.count == n * 128 && hidden.contains { $0 != 0 })
        // Observing changes nothing.
        #expect(try engine.logits(tokens: Rewrite.tokens, all: false)[0] == observed)
    }

    @Test func tensorsAreLocatedByTheNameTables() {
        let cases: [(String, TensorRole, Int)] = [
            ("blk.3.ffn_down.weight", .ffnDown, 3), ("blk.0.attn_output.weight", .attnOutput, 0), ("blk.2.attn_qkv.weight", .attnQKV, 2),
            ("model.layers.2.self_attn.o_proj.weight", .attnOutput, 2), ("model.layers.11.mlp.gate_up_proj.weight", .ffnGateUp, 11),
            ("model.layers.7.block_sparse_moe.experts.5.w1.weight", .expertGate, 7), ("blk.1.ffn_up_exps.weight", .expertUp, 1),
        ]
        for (name, role, layer) in cases {
            let found = WeightNames.locate(name)
            #expect(found?.role == role && found?.layer == layer, "\(name): \(String(describing: found))")
        }
        for outside in ["output.weight", "token_embd.weight", "blk.3.attn_q.bias", "model.layers.7.block_sparse_moe.experts.x.w1.weight"] {
            #expect(WeightNames.locate(outside) == nil, "\(outside)")
        }
        #expect(LinearInput(readBy: .expertDown) == nil && LinearInput(readBy: .ffnGateUp) == .mlp)
    }

    @Test func statisticsBelongToTheTensorsThatReadThem() throws {
        let s = try LinearInputStatistics(model: Self.qwen2, text: Self.text, tokens: 100)
        #expect(s.tokens == 100)
        for (name, width) in [("model.layers.0.self_attn.q_proj.weight", 64), ("model.layers.1.self_attn.o_proj.weight", 64),
                              ("model.layers.1.mlp.up_proj.weight", 64), ("model.layers.0.mlp.down_proj.weight", 128)] {
            #expect(s.meanSquare(readBy: name)?.count == width, "\(name)")
        }
        #expect(s.meanSquare(readBy: "model.embed_tokens.weight") == nil)
        // mean x^2 >= (mean |x|)^2, channel by channel.
        let absolute = try #require(s.meanAbsolute(.mlpHidden))
        let square = try #require(s.meanSquare(readBy: "model.layers.1.mlp.down_proj.weight"))
        #expect(zip(absolute[1], square).allSatisfy { $1 >= $0 * $0 * (1 - 1e-9) } && square.contains { $0 > 0 })
    }

    @Test(arguments: [HQQParameters.ChannelWeighting.acceptance, .solver])
    func calibratedHQQRunsTheModel(weighting: HQQParameters.ChannelWeighting) throws {
        let out = try Rewrite.temporary("c")
        let s = try ModelQuantizer.run(input: Self.qwen2, output: out, method: "hqq4", groupSize: 32, calibrationText: Self.text,
                                       calibrationTokens: 64, hqqWeighting: weighting)
        #expect(s.changed.count == 14 && s.changed.allSatisfy { $0.1 == "hqq4 g32 calibrated gptq" })
        let metadata = try SafetensorsCheckpoint(path: out).files[0].metadata
        #expect(metadata["swiftlet.optimization.calibration_tokens"] == "64" && metadata["swiftlet.optimization.rounding"] == "gptq")
        #expect(metadata["swiftlet.optimization.hqq_weighting"] == (weighting == .solver ? "solver" : "acceptance"))
        // On the text it was calibrated on (64 tokens fit a tiny random model's inputs, not others).
        let base = try Engine(path: Self.qwen2)
        let tokens = Array(base.tokenize(Self.text, bos: true).prefix(64))
        let want = try base.logits(tokens: tokens, all: true)
        let got = try Engine(path: out).logits(tokens: tokens, all: true)
        let err = Rewrite.maxRelativeError(want, got)
        #expect(err > 0 && err < 0.6, "max relative logit error \(err)")
    }

    @Test func calibrationIsForQuantizersOnly() throws {
        for method in ["f16", "f32"] {
            let out = try Rewrite.temporary("r")
            #expect {
                try ModelQuantizer.run(input: Self.qwen2, output: out, method: method, calibrationText: Self.text)
            } throws: { "\($0)".contains("it does not apply to \(method)") }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func secondMomentsMatchTheMeanSquares() throws {
        let s = try LinearInputStatistics(model: Self.qwen2, text: Self.text, tokens: 100, secondMoments: true)
        for (name, width) in [("model.layers.0.self_attn.k_proj.weight", 64), ("model.layers.1.self_attn.o_proj.weight", 64),
                              ("model.layers.0.mlp.gate_proj.weight", 64), ("model.layers.1.mlp.down_proj.weight", 128)] {
            let h = try #require(s.secondMoments(readBy: name), "\(name)")
            let square = try #require(s.meanSquare(readBy: name))
            #expect(h.count == width * width)
            for a in 0..<width {
                // The diagonal is the sum of x_a^2, i.e. tokens * mean x_a^2; the matrix is symmetric.
                #expect(abs(Double(h[a * width + a]) - 100 * square[a]) <= 1e-4 * (100 * square[a]) + 1e-6, "\(name) [\(a)][\(a)]")
                for b in 0..<a { #expect(abs(h[a * width + b] - h[b * width + a]) <= 1e-5 * (abs(h[a * width + b]) + 1e-6)) }
            }
        }
        #expect(s.secondMoments(readBy: "model.embed_tokens.weight") == nil)
        #expect(try LinearInputStatistics(model: Self.qwen2, text: Self.text, tokens: 100).secondMoments(readBy: "model.layers.0.mlp.down_proj.weight") == nil)
    }

    /// A calibration text makes int8 and rtn4 choose their codes with GPTQ on their own grid. GPTQ lowers each
    /// layer's output error on the calibration inputs, so the logits of the calibration text itself end nearer
    /// the base's than round-to-nearest's do.
    @Test(arguments: [("int8", 64, "int8 per channel gptq"), ("rtn4", 32, "rtn4 g32 gptq")])
    func calibratedQuantizersRoundWithGPTQ(method: String, group: Int, action: String) throws {
        let gptq = try Rewrite.temporary("g"), plain = try Rewrite.temporary("p")
        let s = try ModelQuantizer.run(input: Self.qwen2, output: gptq, method: method, groupSize: group,
                                       calibrationText: Self.text, calibrationTokens: 96)
        #expect(s.changed.count == 14 && s.changed.allSatisfy { $0.1 == action })
        let metadata = try SafetensorsCheckpoint(path: gptq).files[0].metadata
        #expect(metadata["swiftlet.optimization.rounding"] == "gptq" && metadata["swiftlet.optimization.calibration_tokens"] == "96")
        _ = try ModelQuantizer.run(input: Self.qwen2, output: plain, method: method, groupSize: group)
        let base = try Engine(path: Self.qwen2)
        let tokens = Array(base.tokenize(Self.text, bos: true).prefix(96))
        let want = try base.logits(tokens: tokens, all: true)
        func squaredError(_ path: String) throws -> Double {
            zip(want, try Engine(path: path).logits(tokens: tokens, all: true)).reduce(0.0) { total, pair in
                zip(pair.0, pair.1).reduce(total) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            }
        }
        let (errGPTQ, errPlain) = (try squaredError(gptq), try squaredError(plain))
        print("\(action) logits on the calibration text: GPTQ squared error \(errGPTQ), round-to-nearest \(errPlain)")
        #expect(errGPTQ > 0 && errGPTQ < errPlain)
    }
}
