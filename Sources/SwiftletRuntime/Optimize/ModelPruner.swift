// `swiftlet prune`: linear weights the filter map selects lose their smallest entries (magnitude),
// or whole units (structured): an MLP's intermediate units are cut out of gate/up (rows) and down
// (columns), so the matrices really shrink and the model config says the new size; other selected
// matrices have their weakest output rows zeroed.
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletOptimize

public enum ModelPruner {
    /// One MLP: its gate (absent in BERT), up and down weights, and up's bias when it has one.
    struct MLPUnitNames {
        var gate: String?
        var up: String
        var down: String
        var upBias: String?
    }

    /// The MLP naming schemes: (up suffix, gate suffix, down suffix, up-bias suffix), sharing a layer prefix.
    static let mlpSchemes: [(up: String, gate: String?, down: String, upBias: String?)] = [
        ("ffn_up.weight", "ffn_gate.weight", "ffn_down.weight", nil),                          // GGUF
        ("mlp.up_proj.weight", "mlp.gate_proj.weight", "mlp.down_proj.weight", nil),           // Hugging Face decoders
        ("intermediate.dense.weight", nil, "output.dense.weight", "intermediate.dense.bias"),  // BERT
    ]

    /// Prunes `input` into `output` at `sparsity` with `method` (gradual is magnitude at the given
    /// step's sparsity: the caller walks the schedule).
    public static func run(input: String, output: String, method: PruningMethod, sparsity: Double,
                           granularity: Int = 32, filter: FilterMap? = nil, calibrationText: String? = nil,
                           calibrationTokens: Int = 2048, progress: RewriteProgress = .silent) throws -> RewriteSummary {
        let started = Date()
        guard sparsity >= 0 && sparsity < 1 else { throw RuntimeError("--sparsity must be in [0, 1), got \(sparsity)") }
        let source = try RewriteSource(path: input)
        let filter = try filter ?? FilterMap.named("gemma3")
        let names = Set(source.names)
        // Structured: the MLPs whose up and down the filter selects shrink together.
        var units: [MLPUnitNames] = []
        if method == .structured {
            for name in source.names {
                for s in mlpSchemes where name.hasSuffix(s.up) {
                    let prefix = String(name.dropLast(s.up.count))
                    let unit = MLPUnitNames(gate: s.gate.map { prefix + $0 }.flatMap { names.contains($0) ? $0 : nil },
                                            up: name, down: prefix + s.down, upBias: s.upBias.map { prefix + $0 }.flatMap { names.contains($0) ? $0 : nil })
                    guard names.contains(unit.down) else { continue }
                    let upT = try source.tensor(unit.up), downT = try source.tensor(unit.down)
                    if filter.selects(unit.up, dims: upT.dims) && filter.selects(unit.down, dims: downT.dims) { units.append(unit) }
                }
            }
        }
        var intermediate: Int?
        var planFor: [String: MLPUnitNames] = [:]   // tensor name -> its MLP
        for u in units {
            for n in [u.gate, u.up, u.down, u.upBias].compactMap({ $0 }) { planFor[n] = u }
            let i = try source.tensor(u.up).dims.dropFirst().reduce(1, *)
            if let known = intermediate, known != i { throw RuntimeError("MLPs of different sizes (\(known), \(i)) are not supported") }
            intermediate = i
        }
        let keepCount = try intermediate.map { try MLPShrinkPlan.keepCount(intermediate: $0, sparsity: sparsity, granularity: granularity) }
        if let keepCount, let intermediate, units.count < layerCount(source) {
            throw RuntimeError("structured MLP pruning shrinks every layer's MLP to \(keepCount) of \(intermediate) units, but the filter "
                + "selects \(units.count) of \(layerCount(source)) MLPs (up and down must both be selected in every layer)")
        }
        // With a calibration text, units are scored by their measured contribution (mean |h_i| * ||down_:,i||).
        var means: [[Double]]?
        if let calibrationText, !units.isEmpty {
            let statistics = try LinearInputStatistics(model: input, text: calibrationText, tokens: calibrationTokens)
            guard let m = statistics.meanAbsolute(.mlpHidden) else {
                throw RuntimeError("the model has no dense MLP in every layer to calibrate (mixture-of-experts layers are not supported)")
            }
            means = m
        }
        let cache = PlanCache()
        func plan(_ u: MLPUnitNames) throws -> MLPShrinkPlan {
            if let p = cache.plans[u.up] { return p }
            let up = try source.tensor(u.up)
            let hidden = up.dims[0], inter = up.dims.dropFirst().reduce(1, *)
            if let means {
                guard let l = WeightNames.locate(u.up)?.layer, l < means.count, means[l].count == inter else {
                    throw RuntimeError("no calibration statistics for \(u.up)")
                }
                let p = try MLPShrinkPlan(down: try TensorFloats.read(try source.tensor(u.down)), hidden: hidden, intermediate: inter,
                                          activationMeans: means[l], sparsity: sparsity, granularity: granularity)
                cache.plans[u.up] = p
                return p
            }
            let p = try MLPShrinkPlan(gate: try u.gate.map { try TensorFloats.read(try source.tensor($0)) }, up: try TensorFloats.read(up),
                                      down: try TensorFloats.read(try source.tensor(u.down)), hidden: hidden, intermediate: inter,
                                      sparsity: sparsity, granularity: granularity)
            cache.plans[u.up] = p
            return p
        }
        var out: [PlannedTensor] = []
        for name in source.names {
            let t = try source.tensor(name)
            let k = t.dims.first ?? 0, rows = t.dims.dropFirst().reduce(1, *)
            let floatType: GGMLType = t.type == .f16 || t.type == .bf16 ? t.type : .f32
            if let u = planFor[name], let keepCount {
                if name == u.down {
                    out.append(PlannedTensor(name: name, dims: [keepCount] + t.dims.dropFirst(), type: floatType,
                                             action: "MLP columns \(k) -> \(keepCount)") {
                        try TensorFloats.encode(try plan(u).gatherColumns(try TensorFloats.read(t), rows: rows), as: floatType)
                    })
                } else if name == u.upBias {
                    out.append(PlannedTensor(name: name, dims: [keepCount], type: floatType, action: "MLP bias \(k) -> \(keepCount)") {
                        try TensorFloats.encode(try plan(u).gatherRows(try TensorFloats.read(t), k: 1), as: floatType)
                    })
                } else {
                    out.append(PlannedTensor(name: name, dims: [k, keepCount], type: floatType, action: "MLP rows \(rows) -> \(keepCount)") {
                        try TensorFloats.encode(try plan(u).gatherRows(try TensorFloats.read(t), k: k), as: floatType)
                    })
                }
                continue
            }
            guard filter.selects(name, dims: t.dims) else {
                out.append(.kept(t))
                continue
            }
            let action = method == .structured ? "rows zeroed \(Int((sparsity * 100).rounded()))%" : "magnitude \(Int((sparsity * 100).rounded()))%"
            out.append(PlannedTensor(name: name, dims: t.dims, type: floatType, action: action) {
                var w = try TensorFloats.read(t)
                if method == .structured { StructuredPruning.pruneRows(&w, rows: rows, k: k, sparsity: sparsity) }
                else { _ = MagnitudePruning.prune(&w, sparsity: sparsity) }
                return try TensorFloats.encode(w, as: floatType)
            })
        }
        var notes: [(String, String)] = [("swiftlet.optimization.prune", method.rawValue),
                                         ("swiftlet.optimization.sparsity", String(sparsity)),
                                         ("swiftlet.optimization.filter", filter.json.encoded),
                                         ("swiftlet.optimization.source", input)]
        if means != nil { notes.append(("swiftlet.optimization.calibration_tokens", String(calibrationTokens))) }
        var metadata: [(String, GGUFValue)] = []
        var config: JSONValue?
        if let g = source.gguf {
            let ffKey = (g.architecture ?? "") + ".feed_forward_length"
            metadata = g.metadataKeys.filter { $0 != "general.alignment" && !$0.hasPrefix("swiftlet.") }.compactMap { key in
                guard let v = g.metadata[key] else { return nil }
                if key == ffKey, let keepCount { return (key, .uint32(UInt32(keepCount))) }
                return (key, v)
            }
        } else if let keepCount {
            let c = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: input + "/config.json"))))
            guard var members = c.members else { throw RuntimeError("\(input)/config.json is not a JSON object") }
            guard let i = members.firstIndex(where: { $0.0 == "intermediate_size" }) else {
                throw RuntimeError("\(input)/config.json has no intermediate_size to shrink")
            }
            members[i].1 = .int(keepCount)
            config = .object(members)
        }
        try RewriteWriter.write(out, source: source, to: output, metadata: metadata, config: config, notes: notes, progress: progress)
        return RewriteSummary(output: output, tensors: out.count, changed: out.filter { $0.action != "kept" }.map { ($0.name, $0.action) },
                              inputBytes: try source.weightBytes(), outputBytes: try ModelSize.bytes(output),
                              seconds: Date().timeIntervalSince(started))
    }

    /// Layers of the model (GGUF block_count, or config.json's num_hidden_layers).
    static func layerCount(_ source: RewriteSource) -> Int {
        if let g = source.gguf, let n = g.metadata[(g.architecture ?? "") + ".block_count"]?.int { return n }
        if let data = FileManager.default.contents(atPath: source.path + "/config.json"),
           let c = try? JSONValue.parse(Array(data)), let n = c["num_hidden_layers"]?.int { return n }
        return 0
    }

    final class PlanCache { var plans: [String: MLPShrinkPlan] = [:] }
}
