// Optimization recipes: defaults, built-in and inline filters, and every problem reported at once.
import Foundation
import Testing
import SwiftletCore
import SwiftletOptimize

@Suite struct RecipeTests {
    @Test func readsAFullRecipe() throws {
        let recipe = try OptimizationRecipe(json: JSONValue.parse("""
            {"quantize": {"method": "hqq4", "group": 128, "filter": "gemma3"},
             "prune": {"method": "gradual", "sparsity": 0.5, "steps": 4, "initial_sparsity": 0.1,
                       "filter": {"allow": ["blk.*.ffn_{up,down}.weight"], "deny": ["blk.0.*"]}}}
            """))
        let q = try #require(recipe.quantize), p = try #require(recipe.prune)
        let gemma3 = try FilterMap.named("gemma3")
        #expect(q.method == .hqq4 && q.method.bits == 4 && q.groupSize == 128 && q.filter == gemma3)
        #expect(p.method == .gradual && p.sparsity == 0.5 && p.steps == 4 && p.initialSparsity == 0.1)
        #expect(p.filter.selects("blk.3.ffn_up.weight", dims: [8, 8]) && !p.filter.selects("blk.0.ffn_up.weight", dims: [8, 8]))
        #expect(p.targets == MagnitudePruning.gradualSchedule(initial: 0.1, final: 0.5, steps: 4))
    }

    @Test func appliesDefaults() throws {
        let recipe = try OptimizationRecipe(json: ["quantize": ["method": "rtn8"], "prune": ["method": "structured", "sparsity": 0.25]])
        let projections = try FilterMap.named("projections"), gemma3 = try FilterMap.named("gemma3")
        #expect(recipe.quantize == .init(method: .rtn8, groupSize: 64, filter: projections))
        #expect(recipe.prune == .init(method: .structured, sparsity: 0.25, steps: 4, initialSparsity: 0, granularity: 32,
                                      filter: gemma3))
        #expect(recipe.prune?.targets == [0.25])
        let int8 = try OptimizationRecipe(json: ["quantize": ["method": "int8", "filter": nil]])
        #expect(int8.quantize?.method == .int8 && int8.quantize?.method.isGrouped == false && int8.prune == nil)
        #expect(try OptimizationRecipe(json: [:]) == OptimizationRecipe())
        // The deployment manifests' short form.
        #expect(try OptimizationRecipe(json: ["quantize": "int8"]) == int8)
        #expect(try OptimizationRecipe(json: ["quantize": "hqq4"]).quantize == .init(method: .hqq4, groupSize: 64, filter: projections))
    }

    @Test func reportsEveryProblemWithItsField() {
        let json: JSONValue = [
            "quantize": ["method": "hqq3", "group": 48, "filter": "nope", "extra": true],
            "prune": ["method": "magnitude", "sparsity": 1.0, "steps": 0,
                      "filter": ["allow": [1], "deny": [""], "only": []]],
            "lora": [:],
        ]
        #expect(throws: RecipeError(problems: [
            .init(field: "lora", message: "unknown key (known keys: quantize, prune)"),
            .init(field: "quantize.extra", message: "unknown key (known keys: method, group, filter, calibration, calibration_tokens, damping)"),
            .init(field: "quantize.method", message: "must be one of int8, rtn4, rtn8, hqq4, hqq8, got \"hqq3\""),
            .init(field: "quantize.group", message: "must be 32, 64 or 128, got 48"),
            .init(field: "quantize.filter", message: "unknown filter map \"nope\" (built-in maps: projections, gemma3)"),
            .init(field: "prune.sparsity", message: "must be in [0, 1), got 1.0"),
            .init(field: "prune.steps", message: "only used by \"gradual\" pruning, not \"magnitude\""),
            .init(field: "prune.filter.only", message: "unknown key (known keys: allow, deny)"),
            .init(field: "prune.filter.allow[0]", message: "expected a string pattern, got 1"),
            .init(field: "prune.filter.deny[0]", message: "empty pattern"),
        ])) { try OptimizationRecipe(json: json) }
    }

    @Test func reportsMissingAndMistypedFields() {
        let cases: [(JSONValue, [RecipeError.Problem])] = [
            (["quantize": [:], "prune": ["sparsity": "half"]], [
                .init(field: "quantize.method", message: "missing (one of int8, rtn4, rtn8, hqq4, hqq8)"),
                .init(field: "prune.method", message: "missing (one of magnitude, gradual, structured)"),
                .init(field: "prune.sparsity", message: "expected a number, got \"half\""),
            ]),
            (["quantize": ["method": "int8", "group": 64], "prune": ["method": "gradual"]], [
                .init(field: "quantize.group", message: "int8 is per output channel and takes no group"),
                .init(field: "prune.sparsity", message: "missing (a number in [0, 1))"),
            ]),
            (["quantize": ["method": "rtn4", "group": 64.5, "filter": 3],
              "prune": ["method": "gradual", "sparsity": 0.4, "steps": 2.5, "initial_sparsity": 0.6, "granularity": 16]], [
                .init(field: "quantize.group", message: "expected an integer, got 64.5"),
                .init(field: "quantize.filter", message: "expected a built-in map name (projections, gemma3) or an object with \"allow\" and \"deny\", got 3"),
                .init(field: "prune.steps", message: "expected an integer, got 2.5"),
                .init(field: "prune.initial_sparsity", message: "must be in [0, sparsity], got 0.6"),
                .init(field: "prune.granularity", message: "only used by \"structured\" pruning, not \"gradual\""),
            ]),
            (["prune": ["method": "structured", "sparsity": -0.1, "granularity": 0]], [
                .init(field: "prune.sparsity", message: "must be in [0, 1), got -0.1"),
                .init(field: "prune.granularity", message: "must be at least 1, got 0"),
            ]),
            (["quantize": 8], [.init(field: "quantize", message: "expected an object, got 8")]),
            (["quantize": "int4"], [.init(field: "quantize.method", message: "must be one of int8, rtn4, rtn8, hqq4, hqq8, got \"int4\"")]),
            ([1, 2], [.init(field: "", message: "expected an object, got [1,2]")]),
        ]
        for (json, problems) in cases {
            #expect(throws: RecipeError(problems: problems), "\(json.encoded)") { try OptimizationRecipe(json: json) }
        }
        #expect(RecipeError(file: "r.json", problems: [.init(field: "quantize.group", message: "must be 32, 64 or 128, got 48"),
                                                       .init(field: "", message: "x")]).description
                == "r.json: quantize.group: must be 32, 64 or 128, got 48\nr.json: x")
    }

    @Test func loadNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-recipe-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"quantize": {"method": "rtn4", "group": 32}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try OptimizationRecipe.load(path: path).quantize?.groupSize == 32)
        try #"{"quantize": {"method": "rtn4", "group": 33}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RecipeError(file: path, problems: [.init(field: "quantize.group", message: "must be 32, 64 or 128, got 33")])) {
            try OptimizationRecipe.load(path: path)
        }
    }

    /// A calibration text per step: relative paths resolved against the given folder, tokens and damping read.
    @Test func readsCalibration() throws {
        let folder = NSTemporaryDirectory() + "swiftlet-recipe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "calibration text".write(toFile: folder + "/calib.txt", atomically: true, encoding: .utf8)
        let recipe = try OptimizationRecipe(json: [
            "quantize": ["method": "int8", "calibration": "calib.txt", "calibration_tokens": 65536, "damping": 0.02],
            "prune": ["method": "structured", "sparsity": 0.25, "calibration": .string(folder + "/calib.txt")],
        ], relativeTo: folder)
        #expect(recipe.quantize?.calibration == .init(path: folder + "/calib.txt", tokens: 65536))
        #expect(recipe.quantize?.damping == 0.02)
        #expect(recipe.prune?.calibration == .init(path: folder + "/calib.txt", tokens: 2048))
        let hqq = try OptimizationRecipe(json: ["quantize": ["method": "hqq4", "calibration": "calib.txt"]], relativeTo: folder)
        #expect(hqq.quantize?.calibration?.tokens == 2048 && hqq.quantize?.damping == 0.01)
        #expect(try OptimizationRecipe(json: ["quantize": "int8"]).quantize?.calibration == nil)
    }

    @Test func reportsCalibrationProblems() {
        #expect(throws: RecipeError(problems: [
            .init(field: "quantize.damping", message: "only used with a calibration text (GPTQ's damping)"),
            .init(field: "prune.calibration", message: "only used by \"structured\" pruning (to score MLP units), not \"magnitude\""),
        ])) {
            try OptimizationRecipe(json: [
                "quantize": ["method": "hqq4", "damping": 0.1],
                "prune": ["method": "magnitude", "sparsity": 0.5, "calibration": "x.txt"],
            ])
        }
        #expect(throws: RecipeError(problems: [
            .init(field: "quantize.damping", message: "must be positive, got -0.5"),
        ])) {
            try OptimizationRecipe(json: ["quantize": ["method": "rtn4", "calibration": .string(#filePath), "damping": -0.5]])
        }
        let missing = NSTemporaryDirectory() + "swiftlet-no-such-\(UUID().uuidString).txt"
        #expect(throws: RecipeError(problems: [
            .init(field: "quantize.calibration_tokens", message: "only used with \"calibration\" (a text file)"),
            .init(field: "prune.calibration_tokens", message: "must be at least 1, got 0"),
            .init(field: "prune.calibration", message: "cannot read the text file \(missing)"),
        ])) {
            try OptimizationRecipe(json: [
                "quantize": ["method": "int8", "calibration_tokens": 100],
                "prune": ["method": "structured", "sparsity": 0.25, "calibration": .string(missing), "calibration_tokens": 0],
            ])
        }
        let folder = NSTemporaryDirectory()
        #expect(throws: RecipeError(problems: [
            .init(field: "quantize.calibration", message: "expected the path of a text file, got 5"),
            .init(field: "prune.calibration", message: "cannot read the text file \(folder)"),
        ])) {
            try OptimizationRecipe(json: [
                "quantize": ["method": "hqq8", "calibration": 5],
                "prune": ["method": "structured", "sparsity": 0.25, "calibration": .string(folder)],
            ])
        }
    }
}
