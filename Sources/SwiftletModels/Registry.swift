// Architecture registry: general.architecture -> how to build its configuration.
import SwiftletFormats

public enum ArchitectureRegistry {
    /// GGUF `general.architecture` values and their configuration builders.
    public static let gguf: [String: @Sendable (GGUFFile) throws -> DecoderConfig] = [
        "llama": LlamaArchitecture.config,
        "gemma3": Gemma3Architecture.config,
    ]

    public static var supported: [String] { gguf.keys.sorted() }

    /// Loads a decoder from a GGUF file, detecting the architecture from its metadata.
    public static func load(gguf file: GGUFFile) throws -> DecoderModel {
        guard let arch = file.architecture else { throw ModelError("\(file.path): no general.architecture in the metadata") }
        guard let build = gguf[arch] else {
            throw ModelError("\(file.path): architecture \(arch) is not supported (supported: \(supported.joined(separator: ", ")))")
        }
        let config = try build(file)
        let weights = try DecoderWeights(config: config, source: file, names: WeightNames.gguf, ignored: WeightNames.ggufIgnored)
        return DecoderModel(config: config, weights: weights)
    }
}
