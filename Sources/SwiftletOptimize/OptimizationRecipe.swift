// An optimization recipe: how to quantize and/or prune a model, and which tensors each step touches.
//   {"quantize": {"method": "hqq4", "group": 64, "filter": "projections"},
//    "prune": {"method": "gradual", "sparsity": 0.5, "steps": 4, "filter": {"allow": [...], "deny": [...]}}}
// `"quantize": "int8"` is short for `"quantize": {"method": "int8"}`. A calibration text (quantization,
// structured pruning) is `"calibration": "file.txt", "calibration_tokens": 65536` in either step.
import Foundation
import SwiftletCore

/// A quantization method named in a recipe.
public enum QuantizationMethod: String, Sendable, CaseIterable {
    /// Int8 per output channel, symmetric (`Int8ChannelQuantizer`); takes no group.
    case int8
    /// Min-max round to nearest in groups (`RTNQuantizer`).
    case rtn4, rtn8
    /// Half-quadratic quantization in groups (`HQQQuantizer`).
    case hqq4, hqq8

    /// Bits per code.
    public var bits: Int {
        switch self {
        case .rtn4, .hqq4: return 4
        case .int8, .rtn8, .hqq8: return 8
        }
    }

    /// Whether the method works in groups of a row (all but int8).
    public var isGrouped: Bool { self != .int8 }

    /// Whether a calibration text also weighs its grid by the activations (hqq), on top of GPTQ's rounding.
    public var weighsGridByActivations: Bool { self == .hqq4 || self == .hqq8 }
}

/// A pruning method named in a recipe.
public enum PruningMethod: String, Sendable, CaseIterable {
    /// Smallest |w| per matrix, at once (`MagnitudePruning.prune`).
    case magnitude
    /// Smallest |w| per matrix on the cubic schedule (`MagnitudePruning.gradualSchedule`), `steps` steps.
    case gradual
    /// Whole units: MLP intermediate units (`MLPShrinkPlan`, a multiple of `granularity`), or output
    /// rows of other matrices (`StructuredPruning.pruneRows`).
    case structured
}

/// What to do to a model. Read from JSON with `init(json:)`, which reports every problem at once.
public struct OptimizationRecipe: Sendable, Equatable {
    /// A text the model runs on before a step, to measure its layers' inputs.
    public struct Calibration: Sendable, Equatable {
        /// The text file (a relative path in a recipe is resolved against the recipe's or manifest's folder).
        public var path: String
        /// How many of its tokens the model runs on (default 2048).
        public var tokens: Int

        public init(path: String, tokens: Int = 2048) {
            self.path = path
            self.tokens = tokens
        }
    }

    public struct Quantization: Sendable, Equatable {
        public var method: QuantizationMethod
        /// Group size of grouped methods: 32, 64 or 128 (default 64). Not used by int8.
        public var groupSize: Int
        /// Tensors to quantize (default: the built-in "projections").
        public var filter: FilterMap
        /// Codes rounded with GPTQ's error feedback; hqq4/hqq8 also weigh their grid by activations.
        public var calibration: Calibration?
        /// With calibration: GPTQ's damping, a fraction of the mean of H's diagonal (default 0.01).
        public var damping: Double

        public init(method: QuantizationMethod, groupSize: Int = 64, filter: FilterMap, calibration: Calibration? = nil,
                    damping: Double = 0.01) {
            self.method = method
            self.groupSize = groupSize
            self.filter = filter
            self.calibration = calibration
            self.damping = damping
        }
    }

    public struct Pruning: Sendable, Equatable {
        public var method: PruningMethod
        /// The final sparsity, in [0, 1).
        public var sparsity: Double
        /// Gradual only: steps of the schedule (>= 1, default 4) and the sparsity it starts from
        /// (in [0, sparsity], default 0).
        public var steps: Int
        public var initialSparsity: Double
        /// Structured only: the kept unit count is a multiple of this (default 32).
        public var granularity: Int
        /// Tensors to prune (default: the built-in "gemma3").
        public var filter: FilterMap
        /// Structured only: score MLP units by their measured contribution instead of weight norms.
        public var calibration: Calibration?

        public init(method: PruningMethod, sparsity: Double, steps: Int = 4, initialSparsity: Double = 0,
                    granularity: Int = 32, filter: FilterMap, calibration: Calibration? = nil) {
            self.method = method
            self.sparsity = sparsity
            self.steps = steps
            self.initialSparsity = initialSparsity
            self.granularity = granularity
            self.filter = filter
            self.calibration = calibration
        }

        /// The sparsity to reach at each step: the cubic schedule for gradual, else just `sparsity`.
        public var targets: [Double] {
            method == .gradual
                ? MagnitudePruning.gradualSchedule(initial: initialSparsity, final: sparsity, steps: steps)
                : [sparsity]
        }
    }

    public var quantize: Quantization?
    public var prune: Pruning?

    public init(quantize: Quantization? = nil, prune: Pruning? = nil) {
        self.quantize = quantize
        self.prune = prune
    }

    /// Reads a recipe object. Unknown keys are errors; every problem is listed in one RecipeError.
    /// Relative calibration paths are resolved against `directory` (default: the working directory), and
    /// must name a readable file.
    public init(json: JSONValue, relativeTo directory: String? = nil) throws(RecipeError) {
        try self.init(json: json, file: nil, directory: directory)
    }

    /// Reads a recipe from a JSON file; errors name the file, and calibration paths are relative to its folder.
    public static func load(path: String) throws(RecipeError) -> OptimizationRecipe {
        try OptimizationRecipe(json: RecipeReader.document(path: path), file: path,
                               directory: (path as NSString).deletingLastPathComponent)
    }

    init(json: JSONValue, file: String?, directory: String?) throws(RecipeError) {
        var reader = RecipeReader()
        let top = reader.object(json, at: "", keys: ["quantize", "prune"])
        let quantize = top?["quantize"].flatMap { Self.readQuantization($0, directory, &reader) }
        let prune = top?["prune"].flatMap { Self.readPruning($0, directory, &reader) }
        try reader.check(file: file)
        self.init(quantize: quantize, prune: prune)
    }

    static func readQuantization(_ json: JSONValue, _ directory: String?, _ reader: inout RecipeReader) -> Quantization? {
        let before = reader.problems.count
        // "quantize": "int8" is short for {"method": "int8"} (the form the deployment manifests show).
        let json: JSONValue = json.string != nil ? ["method": json] : json
        let keys = ["method", "group", "filter", "calibration", "calibration_tokens", "damping"]
        guard let m = reader.object(json, at: "quantize", keys: keys) else { return nil }
        let method = reader.choice(m["method"], at: "quantize.method", from: QuantizationMethod.allCases.map(\.rawValue))
            .flatMap(QuantizationMethod.init(rawValue:))
        var group = 64
        if let value = m["group"] {
            if method == .int8 {
                reader.fail("quantize.group", "int8 is per output channel and takes no group")
            } else if let n = reader.integer(value, at: "quantize.group") {
                if GroupQuantized.groupSizes.contains(n) { group = n } else { reader.fail("quantize.group", "must be 32, 64 or 128, got \(n)") }
            }
        }
        let filter = readFilter(m["filter"], at: "quantize.filter", default: "projections", &reader)
        let calibration = readCalibration(m, at: "quantize", directory, &reader)
        var damping = 0.01
        if let value = m["damping"] {
            if m["calibration"] == nil {
                reader.fail("quantize.damping", "only used with a calibration text (GPTQ's damping)")
            } else if let d = reader.number(value, at: "quantize.damping") {
                if d > 0 && d.isFinite { damping = d } else { reader.fail("quantize.damping", "must be positive, got \(RecipeReader.describe(value))") }
            }
        }
        guard reader.problems.count == before, let method, let filter else { return nil }
        return Quantization(method: method, groupSize: group, filter: filter, calibration: calibration, damping: damping)
    }

    /// `calibration` (a readable text file) and `calibration_tokens` (>= 1, only with a file) of `object`.
    static func readCalibration(_ object: [String: JSONValue], at step: String, _ directory: String?,
                                _ reader: inout RecipeReader) -> Calibration? {
        var tokens = 2048
        if let value = object["calibration_tokens"] {
            if object["calibration"] == nil {
                reader.fail("\(step).calibration_tokens", "only used with \"calibration\" (a text file)")
            } else if let n = reader.integer(value, at: "\(step).calibration_tokens") {
                if n >= 1 { tokens = n } else { reader.fail("\(step).calibration_tokens", "must be at least 1, got \(n)") }
            }
        }
        guard let value = object["calibration"] else { return nil }
        guard let path = value.string, !path.isEmpty else {
            reader.fail("\(step).calibration", "expected the path of a text file, got \(RecipeReader.describe(value))")
            return nil
        }
        let resolved = path.hasPrefix("/") || directory == nil ? path : ((directory! as NSString).appendingPathComponent(path))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: resolved) else {
            reader.fail("\(step).calibration", "cannot read the text file \(resolved)")
            return nil
        }
        return Calibration(path: resolved, tokens: tokens)
    }

    static func readPruning(_ json: JSONValue, _ directory: String?, _ reader: inout RecipeReader) -> Pruning? {
        let before = reader.problems.count
        let keys = ["method", "sparsity", "steps", "initial_sparsity", "granularity", "filter", "calibration", "calibration_tokens"]
        guard let m = reader.object(json, at: "prune", keys: keys) else { return nil }
        let method = reader.choice(m["method"], at: "prune.method", from: PruningMethod.allCases.map(\.rawValue))
            .flatMap(PruningMethod.init(rawValue:))
        var sparsity: Double?
        if let value = m["sparsity"] {
            sparsity = reader.number(value, at: "prune.sparsity")
            if let s = sparsity, !(s >= 0 && s < 1) {
                reader.fail("prune.sparsity", "must be in [0, 1), got \(RecipeReader.describe(value))")
                sparsity = nil
            }
        } else {
            reader.fail("prune.sparsity", "missing (a number in [0, 1))")
        }
        // A key only one method takes: reported when given with another.
        func only(_ key: String, for owner: PruningMethod) -> JSONValue? {
            guard let value = m[key] else { return nil }
            if let method, method != owner {
                reader.fail("prune.\(key)", "only used by \"\(owner.rawValue)\" pruning, not \"\(method.rawValue)\"")
                return nil
            }
            return value
        }
        var steps = 4, initial = 0.0, granularity = 32
        if let value = only("steps", for: .gradual), let n = reader.integer(value, at: "prune.steps") {
            if n >= 1 { steps = n } else { reader.fail("prune.steps", "must be at least 1, got \(n)") }
        }
        if let value = only("initial_sparsity", for: .gradual), let s = reader.number(value, at: "prune.initial_sparsity") {
            if s >= 0, s <= (sparsity ?? 1), s < 1 {
                initial = s
            } else {
                reader.fail("prune.initial_sparsity", "must be in [0, sparsity], got \(RecipeReader.describe(value))")
            }
        }
        if let value = only("granularity", for: .structured), let n = reader.integer(value, at: "prune.granularity") {
            if n >= 1 { granularity = n } else { reader.fail("prune.granularity", "must be at least 1, got \(n)") }
        }
        let filter = readFilter(m["filter"], at: "prune.filter", default: "gemma3", &reader)
        var calibration: Calibration?
        if m["calibration"] != nil, let method, method != .structured {
            reader.fail("prune.calibration", "only used by \"structured\" pruning (to score MLP units), not \"\(method.rawValue)\"")
        } else {
            calibration = readCalibration(m, at: "prune", directory, &reader)
        }
        guard reader.problems.count == before, let method, let sparsity, let filter else { return nil }
        return Pruning(method: method, sparsity: sparsity, steps: steps, initialSparsity: initial,
                       granularity: granularity, filter: filter, calibration: calibration)
    }

    /// A built-in map's name or an inline map; absent means the built-in `defaultName`.
    static func readFilter(_ json: JSONValue?, at field: String, default defaultName: String,
                           _ reader: inout RecipeReader) -> FilterMap? {
        guard let json else { return try? FilterMap.named(defaultName) }
        if let name = json.string {
            do {
                return try FilterMap.named(name)
            } catch {
                reader.fail(field, error.problems.map(\.message).joined(separator: "; "))
                return nil
            }
        }
        if json.members != nil { return FilterMap.read(json, at: field, &reader) }
        reader.fail(field, "expected a built-in map name (\(FilterMap.builtInNames.joined(separator: ", "))) "
            + "or an object with \"allow\" and \"deny\", got \(RecipeReader.describe(json))")
        return nil
    }
}
