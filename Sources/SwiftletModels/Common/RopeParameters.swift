// RoPE settings from config.json in both forms transformers reads: `rope_parameters` (v5) and the
// older `rope_theta` + `rope_scaling`.

/// The rope base and scaling of one attention kind.
public struct RopeParameters: Decodable, Sendable, Equatable {
    public var ropeType: String = "default"
    public var ropeTheta: Double?
    public var factor: Double?
    public var originalMaxPositionEmbeddings: Int?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
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

    /// Applies this to a decoder configuration; scalings the forward pass lacks are an error.
    func apply(to config: inout DecoderConfig) throws {
        config.ropeBase = Float(ropeTheta ?? Double(config.ropeBase))
        switch ropeType {
        case "default": break
        case "linear": config.ropeScale = Float(factor ?? 1)
        default:
            throw ModelError("\(config.architecture): rope scaling \"\(ropeType)\" is not supported yet (default and linear are)")
        }
    }
}
