// RoPE settings from config.json in both forms transformers reads: `rope_parameters` (v5) and the
// older `rope_theta` + `rope_scaling`, and the inverse frequencies each rope type computes.
import Foundation
import SwiftletKernels

/// The rope base and scaling of one attention kind.
public struct RopeParameters: Decodable, Sendable, Equatable {
    public var ropeType: String = "default"
    public var ropeTheta: Double?
    public var factor: Double?
    public var originalMaxPositionEmbeddings: Int?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var partialRotaryFactor: Double?
    public var attentionFactor: Double?
    public var betaFast: Double?
    public var betaSlow: Double?
    public var mscale: Double?
    public var mscaleAllDim: Double?
    public var truncate: Bool?
    public var shortFactor: [Double]?
    public var longFactor: [Double]?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
        case partialRotaryFactor = "partial_rotary_factor", attentionFactor = "attention_factor"
        case betaFast = "beta_fast", betaSlow = "beta_slow", mscale, mscaleAllDim = "mscale_all_dim", truncate
        case shortFactor = "short_factor", longFactor = "long_factor"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `type` is the older spelling of `rope_type`.
        ropeType = try c.decodeIfPresent(String.self, forKey: .ropeType) ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        factor = try c.decodeIfPresent(Double.self, forKey: .factor)
        originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        lowFreqFactor = try c.decodeIfPresent(Double.self, forKey: .lowFreqFactor)
        highFreqFactor = try c.decodeIfPresent(Double.self, forKey: .highFreqFactor)
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        attentionFactor = try c.decodeIfPresent(Double.self, forKey: .attentionFactor)
        betaFast = try c.decodeIfPresent(Double.self, forKey: .betaFast)
        betaSlow = try c.decodeIfPresent(Double.self, forKey: .betaSlow)
        mscale = try c.decodeIfPresent(Double.self, forKey: .mscale)
        mscaleAllDim = try c.decodeIfPresent(Double.self, forKey: .mscaleAllDim)
        truncate = try c.decodeIfPresent(Bool.self, forKey: .truncate)
        shortFactor = try c.decodeIfPresent([Double].self, forKey: .shortFactor)
        longFactor = try c.decodeIfPresent([Double].self, forKey: .longFactor)
        // Phi-3's older configs spell longrope "su" (or "yarn" with short/long factors).
        if ropeType == "su" || (ropeType == "yarn" && shortFactor != nil) { ropeType = "longrope" }
    }

    /// The rope settings of a config: `rope_parameters` when present (either one object, or one per
    /// attention kind keyed "full_attention"/"sliding_attention"), else `rope_theta`/`rope_scaling`.
    static func read<K: CodingKey>(_ c: KeyedDecodingContainer<K>, parameters: K, theta: K, scaling: K,
                                   kind: String = "full_attention", defaultTheta: Double) throws -> RopeParameters {
        if c.contains(parameters) {
            if let perKind = try? c.decode([String: RopeParameters].self, forKey: parameters), let p = perKind[kind] {
                var p = p
                if p.ropeTheta == nil { p.ropeTheta = defaultTheta }
                return p
            }
            var p = try c.decode(RopeParameters.self, forKey: parameters)
            if p.ropeTheta == nil { p.ropeTheta = try c.decodeIfPresent(Double.self, forKey: theta) ?? defaultTheta }
            return p
        }
        var p = try c.decodeIfPresent(RopeParameters.self, forKey: scaling) ?? RopeParameters()
        p.ropeTheta = try c.decodeIfPresent(Double.self, forKey: theta) ?? defaultTheta
        return p
    }

    /// Applies this to a decoder configuration: the base, the rotated dimensions (partial rotary
    /// factor) and transformers' inverse frequencies for the rope type. `maxPositions` is the
    /// config's max_position_embeddings (yarn and longrope derive their factor from it).
    func apply(to config: inout DecoderConfig, maxPositions: Int) throws {
        let base = ropeTheta ?? Double(config.ropeBase)
        config.ropeBase = Float(base)
        if let f = partialRotaryFactor {
            config.ropeDims = Int(Double(config.headDim) * f)
        }
        config.ropeFrequencies = try frequencies(dims: config.ropeDims, maxPositions: maxPositions, architecture: config.architecture)
    }

    /// Inverse frequencies (dims/2) of this rope type, computed in f32 as transformers does.
    func frequencies(dims: Int, maxPositions: Int, architecture: String) throws -> RopeFrequencies {
        func need<T>(_ v: T?, _ key: String) throws -> T {
            guard let v else { throw ModelError("\(architecture): rope_type \(ropeType) needs \(key)") }
            return v
        }
        let base = Float(ropeTheta ?? 10000)
        let half = dims / 2
        // transformers: 1 / base ** (arange(0, dim, 2).float() / dim), in f32.
        let plain = (0..<half).map { i in 1 / powf(base, Float(2 * i) / Float(dims)) }
        switch ropeType {
        case "default":
            return RopeFrequencies(inverse: plain)
        case "linear":
            let factor = Float(try need(factor, "factor"))
            return RopeFrequencies(inverse: plain.map { $0 / factor })
        case "llama3":
            let factor = Float(try need(factor, "factor"))
            let low = Float(try need(lowFreqFactor, "low_freq_factor")), high = Float(try need(highFreqFactor, "high_freq_factor"))
            let old = Float(try need(originalMaxPositionEmbeddings, "original_max_position_embeddings"))
            let lowWavelength = old / low, highWavelength = old / high
            return RopeFrequencies(inverse: plain.map { f in
                let wavelength = 2 * Float.pi / f
                let scaled = wavelength > lowWavelength ? f / factor : f
                if wavelength < highWavelength || wavelength > lowWavelength { return scaled }
                let smooth = (old / wavelength - low) / (high - low)
                return (1 - smooth) * scaled / factor + smooth * scaled
            })
        case "yarn":
            let original = try need(originalMaxPositionEmbeddings, "original_max_position_embeddings")
            let factor = self.factor ?? Double(maxPositions) / Double(original)
            func mscaleOf(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * Foundation.log(scale) + 1 }
            var attention = attentionFactor
            if attention == nil {
                if let m = mscale, let all = mscaleAllDim, m != 0, all != 0 {
                    attention = mscaleOf(factor, m) / mscaleOf(factor, all)
                } else {
                    attention = mscaleOf(factor)
                }
            }
            let fast = betaFast ?? 32, slow = betaSlow ?? 1
            func correctionDim(_ rotations: Double) -> Double {
                Double(dims) * Foundation.log(Double(original) / (rotations * 2 * Double.pi)) / (2 * Foundation.log(Double(base)))
            }
            var low = correctionDim(fast), high = correctionDim(slow)
            if truncate ?? true { low = low.rounded(.down); high = high.rounded(.up) }
            low = max(low, 0); high = min(high, Double(dims - 1))
            if low == high { high += 0.001 }
            let f = Float(factor)
            let inverse = (0..<half).map { i -> Float in
                let position = powf(base, Float(2 * i) / Float(dims))
                let ramp = min(max((Float(i) - Float(low)) / Float(high - low), 0), 1)
                let extrapolation = 1 - ramp
                return (1 / (f * position)) * (1 - extrapolation) + (1 / position) * extrapolation
            }
            return RopeFrequencies(inverse: inverse, attentionFactor: Float(attention!))
        case "longrope":
            let short = try need(shortFactor, "short_factor"), long = try need(longFactor, "long_factor")
            guard short.count == half, long.count == half else {
                throw ModelError("\(architecture): longrope factors need \(half) entries, got \(short.count) and \(long.count)")
            }
            let original = originalMaxPositionEmbeddings ?? maxPositions
            let factor = self.factor ?? Double(maxPositions) / Double(original)
            let attention = attentionFactor ?? (factor <= 1 ? 1 : (1 + Foundation.log(factor) / Foundation.log(Double(original))).squareRoot())
            // Short factors up to the original context, long ones past it (transformers switches the
            // whole sequence at once; a cache cannot, so the switch is per position here).
            return RopeFrequencies(inverse: (0..<half).map { plain[$0] / Float(short[$0]) },
                                   long: (0..<half).map { plain[$0] / Float(long[$0]) },
                                   longFrom: original, attentionFactor: Float(attention))
        default:
            throw ModelError("\(architecture): rope scaling \"\(ropeType)\" is not supported (default, linear, llama3, yarn and longrope are)")
        }
    }
}
