// `swiftlet quantize`: every tensor the filter map selects is quantized (int8 per channel, RTN or
// HQQ in groups) into Swiftlet's formats, or into the GGUF types llama.cpp reads where the scheme
// maps onto one; `f32`/`f16` instead dequantize the whole model (a base for comparisons).
import Foundation
import SwiftletCore
import SwiftletFormats
import SwiftletKernels
import SwiftletModels
import SwiftletOptimize

public enum ModelQuantizer {
    /// Methods: the recipe's (int8, rtn4, rtn8, hqq4, hqq8) plus f32 and f16 (dequantize everything).
    public static let methods = ["f32", "f16"] + QuantizationMethod.allCases.map(\.rawValue)

    /// Quantizes `input` into `output`. `llamaCompatible` stores int8 as Q8_0 and 4-bit group-32
    /// results as Q4_1 (GGUF only), so llama.cpp reads the file too.
    /// - calibrationText: the model runs on its first `calibrationTokens` tokens. Every method then rounds its
    ///   codes with GPTQ's error feedback from each input's E[x xᵀ] (`GPTQFactor`), on its own grid (int8's
    ///   row scales, rtn's min-max groups, hqq's groups); hqq first weighs each weight's error by its input
    ///   channel's mean x_j^2 when it fits that grid (`HQQQuantizer`'s channel weights, used as
    ///   `hqqWeighting` says). Weights no observed input feeds are quantized without.
    public static func run(input: String, output: String, method: String, groupSize: Int = 64,
                           filter: FilterMap? = nil, llamaCompatible: Bool = false, threads: Int? = nil,
                           calibrationText: String? = nil, calibrationTokens: Int = 2048,
                           hqqWeighting: HQQParameters.ChannelWeighting = .solver, gptqDamping: Double = 0.01,
                           progress: RewriteProgress = .silent) throws -> RewriteSummary {
        let started = Date()
        guard methods.contains(method) else {
            throw RuntimeError("unknown method '\(method)' (methods: \(methods.joined(separator: ", ")))")
        }
        // With a calibration text every method rounds with GPTQ's error feedback; hqq also weighs its grid.
        let quantizer = QuantizationMethod(rawValue: method)
        if calibrationText != nil && quantizer == nil {
            throw RuntimeError("--calibration rounds a quantizer's codes with GPTQ's error feedback (and weighs hqq's grid by activations); it does not apply to \(method)")
        }
        guard GroupQuantized.groupSizes.contains(groupSize) else {
            throw RuntimeError("--group must be one of \(GroupQuantized.groupSizes.map(String.init).joined(separator: ", ")), got \(groupSize)")
        }
        let source = try RewriteSource(path: input)
        if llamaCompatible && source.isFolder { throw RuntimeError("--llama-compatible writes GGUF types; \(input) is a checkpoint folder") }
        let pool = ThreadPool(threads: threads ?? ThreadPool.coreCount, spinIterations: 0)
        let filter = try filter ?? FilterMap.named("projections")
        let statistics = try calibrationText.map {
            try LinearInputStatistics(model: input, text: $0, tokens: calibrationTokens, secondMoments: true)
        }
        let factors = GPTQFactors(statistics, damping: gptqDamping)
        var plan: [PlannedTensor] = []
        for name in source.names {
            let t = try source.tensor(name)
            var channelWeights: [Float]?
            if quantizer?.weighsGridByActivations == true, let means = statistics?.meanSquare(readBy: name), filter.selects(name, dims: t.dims) {
                guard means.count == t.dims.first else {
                    throw RuntimeError("calibration saw \(means.count) input channels for \(name), whose rows hold \(t.dims.first ?? 0)")
                }
                channelWeights = means.map { Float($0) }
            }
            plan.append(try planTensor(t, method: method, groupSize: groupSize, filter: filter, compatible: llamaCompatible,
                                       folder: source.isFolder, hqq: HQQParameters(channelWeighting: hqqWeighting),
                                       channelWeights: channelWeights,
                                       feedback: factors.has(name) ? { try factors.factor(readBy: name) } : nil, pool: pool))
        }
        var notes: [(String, String)] = [("swiftlet.optimization.method", method), ("swiftlet.optimization.source", input)]
        if let statistics {
            notes.append(("swiftlet.optimization.calibration_tokens", String(statistics.tokens)))
            notes += [("swiftlet.optimization.rounding", "gptq"), ("swiftlet.optimization.gptq_damping", String(gptqDamping))]
            if quantizer?.weighsGridByActivations == true {
                notes.append(("swiftlet.optimization.hqq_weighting", hqqWeighting == .solver ? "solver" : "acceptance"))
            }
        }
        if let q = quantizer {
            if q.isGrouped { notes.append(("swiftlet.optimization.group_size", String(groupSize))) }
            notes.append(("swiftlet.optimization.filter", filter.json.encoded))
        }
        var metadata: [(String, GGUFValue)] = []
        if let g = source.gguf {
            metadata = g.metadataKeys.filter { !["general.alignment", "general.file_type"].contains($0) && !$0.hasPrefix("swiftlet.") }
                .compactMap { k in g.metadata[k].map { (k, $0) } }
            if let type = fileType(method, compatible: llamaCompatible) {
                metadata.append(("general.file_type", .uint32(type)))
            }
        }
        try RewriteWriter.write(plan, source: source, to: output, metadata: metadata, config: nil, notes: notes, progress: progress)
        return RewriteSummary(output: output, tensors: plan.count,
                              changed: plan.filter { $0.action != "kept" }.map { ($0.name, $0.action) },
                              inputBytes: try source.weightBytes(), outputBytes: try ModelSize.bytes(output),
                              seconds: Date().timeIntervalSince(started))
    }

    /// llama.cpp's general.file_type for the outputs it reads (ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_1).
    static func fileType(_ method: String, compatible: Bool) -> UInt32? {
        switch method {
        case "f32": return 0
        case "f16": return 1
        case "int8" where compatible: return 7
        case "rtn4" where compatible, "hqq4" where compatible: return 3
        default: return nil
        }
    }

    /// `channelWeights`: hqq's per-input-channel weights for this tensor (from calibration), if any;
    /// `feedback`: the GPTQ factor of this tensor's inputs, if any (asked for when the tensor is written).
    static func planTensor(_ t: SourceTensor, method: String, groupSize: Int, filter: FilterMap, compatible: Bool,
                           folder: Bool, hqq: HQQParameters = HQQParameters(), channelWeights: [Float]? = nil,
                           feedback: (() throws -> GPTQFactor)? = nil, pool: ThreadPool) throws -> PlannedTensor {
        let k = t.dims.first ?? 0
        let rows = t.dims.dropFirst().reduce(1, *)
        let kept = PlannedTensor.kept(t)
        // Dequantize: quantized and 2-D float tensors become f32/f16; 1-D f32 (norms, biases) stays f32.
        if method == "f32" || method == "f16" {
            let target: GGMLType = method == "f16" && t.dims.count > 1 ? .f16 : .f32
            if t.type == target { return kept }
            guard t.type != .f32 || target != .f32 else { return kept }
            return PlannedTensor(name: t.name, dims: t.dims, type: target, action: "\(t.type) -> \(target)") {
                try TensorFloats.encode(try TensorFloats.read(t), as: target)
            }
        }
        guard let q = QuantizationMethod(rawValue: method), filter.selects(t.name, dims: t.dims) else { return kept }
        let type: GGMLType
        let action: String
        if q == .int8 {
            guard k % 32 == 0 else { return kept }   // SW_I8_ROW rows (and Q8_0 blocks) come in 32s
            type = compatible ? .q8_0 : .swI8Row
            action = "int8 per channel" + (feedback != nil ? " gptq" : "") + (compatible ? " as Q8_0" : "")
        } else {
            guard k % groupSize == 0 else { return kept }   // rows that do not split into groups stay as they are
            if compatible {
                guard q.bits == 4, groupSize == 32 else {
                    throw RuntimeError("--llama-compatible: only int8 (as Q8_0) and 4-bit methods with --group 32 (as Q4_1) map onto GGUF types")
                }
                type = .q4_1
            } else {
                guard let g = GGMLType.swiftletGroup(bits: q.bits, group: groupSize) else {
                    throw RuntimeError("no \(q.bits)-bit format with groups of \(groupSize)")
                }
                type = g
            }
            action = "\(method) g\(groupSize)" + (channelWeights != nil ? " calibrated" : "") + (feedback != nil ? " gptq" : "")
                + (compatible ? " as Q4_1" : "")
        }
        return PlannedTensor(name: t.name, dims: t.dims, type: type, action: action) {
            let values = try TensorFloats.read(t)
            return try pack(values, rows: rows, k: k, method: q, groupSize: groupSize, type: type, hqq: hqq,
                            channelWeights: channelWeights, feedback: try feedback?(), pool: pool)
        }
    }

    /// Quantizes `rows` x `k` values with `method` (hqq with `hqq` and `channelWeights`) and packs them as `type`.
    static func pack(_ values: [Float], rows: Int, k: Int, method: QuantizationMethod, groupSize: Int,
                     type: GGMLType, hqq: HQQParameters = HQQParameters(), channelWeights: [Float]? = nil,
                     feedback: GPTQFactor? = nil, pool: ThreadPool) throws -> [UInt8] {
        guard let rowBytes = type.rowBytes(k) else { throw RuntimeError("\(type) cannot hold rows of \(k)") }
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        if method == .int8 {
            let c = try Int8ChannelQuantizer.quantize(values, rows: rows, k: k, feedback: feedback, pool: pool)
            var row = [UInt8](repeating: 0, count: GGMLType.swI8Row.rowBytes(k)!)
            c.codes.withUnsafeBufferPointer { codes in
                codes.withMemoryRebound(to: UInt8.self) { u in
                    out.withUnsafeMutableBytes { o in
                        row.withUnsafeMutableBytes { r in
                            for i in 0..<rows {
                                var scale = c.scales[i]
                                let dst = type == .swI8Row ? o.baseAddress! + i * rowBytes : r.baseAddress!
                                QuantPacking.packRow(.swI8Row, codes: u.baseAddress! + i * k, scales: &scale, mins: &scale, k: k, into: dst)
                                if type == .q8_0 { QuantPacking.i8RowToQ8_0(r.baseAddress!, o.baseAddress! + i * rowBytes, k) }
                            }
                        }
                    }
                }
            }
            return out
        }
        var g: GroupQuantized
        switch method {
        case .hqq4, .hqq8:
            g = try HQQQuantizer.quantize(values, rows: rows, k: k, bits: method.bits, groupSize: groupSize, parameters: hqq,
                                          channelWeights: channelWeights, pool: pool)
        default: g = try RTNQuantizer.quantize(values, rows: rows, k: k, bits: method.bits, groupSize: groupSize, pool: pool)
        }
        // GPTQ keeps the grid (static groups) and chooses the codes again.
        if let feedback { g = try g.roundedWithFeedback(values, feedback: feedback, pool: pool) }
        let packAs: GGMLType = type == .q4_1 ? .swA4G32 : type   // byte for byte the same layout
        let groups = k / groupSize
        g.codes.withUnsafeBufferPointer { codes in
            g.scales.withUnsafeBufferPointer { scales in
                g.mins.withUnsafeBufferPointer { mins in
                    out.withUnsafeMutableBytes { o in
                        for i in 0..<rows {
                            QuantPacking.packRow(packAs, codes: codes.baseAddress! + i * k, scales: scales.baseAddress! + i * groups,
                                                 mins: mins.baseAddress! + i * groups, k: k, into: o.baseAddress! + i * rowBytes)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// GPTQ factors from calibration statistics, computed when a tensor asks and shared by the tensors that
/// read the same input (q, k and v; gate and up): one factor per input matrix, kept for the next tensor.
final class GPTQFactors {
    private let statistics: LinearInputStatistics?
    private let damping: Double
    private var last: (input: LinearInput, layer: Int, factor: GPTQFactor)?

    init(_ statistics: LinearInputStatistics?, damping: Double) {
        self.statistics = statistics
        self.damping = damping
    }

    /// Whether the calibration saw the input `tensor` reads.
    func has(_ tensor: String) -> Bool { statistics?.secondMoments(readBy: tensor) != nil }

    func factor(readBy tensor: String) throws -> GPTQFactor {
        guard let at = LinearInputStatistics.input(readBy: tensor), let moments = statistics?.secondMoments(readBy: tensor) else {
            throw RuntimeError("no calibration inputs for \(tensor)")
        }
        if let last, last.input == at.input, last.layer == at.layer { return last.factor }
        let k = Int(Double(moments.count).squareRoot())
        let factor = try GPTQFactor(secondMoments: moments.map(Double.init), k: k, damping: damping)
        last = (at.input, at.layer, factor)
        return factor
    }
}
