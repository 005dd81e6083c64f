// Architecture registry: general.architecture -> how to build its configuration.
import Foundation
import SwiftletFormats

/// How a GGUF file of one architecture loads: its configuration and its weight names.
public struct GGUFLayout: Sendable {
    public var config: DecoderConfig
    public var names: [TensorRole: String]
}

public enum ArchitectureRegistry {
    /// GGUF `general.architecture` values and how each builds its configuration and names.
    public static let gguf: [String: @Sendable (GGUFFile) throws -> GGUFLayout] = [
        "llama": LlamaArchitecture.layout,
        "gemma3": Gemma3Architecture.layout,
        "qwen2": Qwen2Architecture.layout,
        "qwen3": Qwen3Architecture.layout,
        "phi3": Phi3Architecture.layout,
    ]

    public static var supported: [String] { gguf.keys.sorted() }

    /// The configuration and weight names of a GGUF file's architecture, from its metadata.
    public static func layout(gguf file: GGUFFile) throws -> GGUFLayout {
        guard let arch = file.architecture else { throw ModelError("\(file.path): no general.architecture in the metadata") }
        guard let build = gguf[arch] else {
            throw ModelError("\(file.path): architecture \(arch) is not supported (supported: \(supported.joined(separator: ", ")))")
        }
        return try build(file)
    }

    /// Loads a decoder from a GGUF file, detecting the architecture from its metadata.
    public static func load(gguf file: GGUFFile) throws -> DecoderModel {
        try load(gguf: file, tensors: file)
    }

    /// Loads a decoder configured by `file`'s metadata whose weights come from `tensors` (the
    /// file itself, or the parts of a split folder whose `model.gguf` is `file`).
    public static func load(gguf file: GGUFFile, tensors: TensorSource) throws -> DecoderModel {
        var layout = try layout(gguf: file)
        // The tensors, not the metadata file, say whether the output is tied (model.gguf holds none).
        layout.config.tiedEmbeddings = tensors.tensor(WeightNames.name(layout.names, .output)) == nil
        let weights = try DecoderWeights(config: layout.config, source: tensors, names: layout.names, ignored: WeightNames.ggufIgnored)
        return DecoderModel(config: layout.config, weights: weights)
    }

    /// How a Hugging Face checkpoint of one `model_type` loads: its configuration, its weight
    /// names, and the offset its norm weights need (Gemma stores w for a scale of 1 + w).
    public struct CheckpointLayout: Sendable {
        public var config: DecoderConfig
        public var names: [TensorRole: String]
        public var normOffset: Float = 0
    }

    /// Reads config.json as `T` and describes the checkpoint with `names` (one registry entry).
    static func layout<T: Decodable>(_: T.Type, names: [TensorRole: String], normOffset: Float = 0,
                                     _ config: @escaping @Sendable (T) throws -> DecoderConfig)
        -> @Sendable (Data, String) throws -> CheckpointLayout {
        { json, path in
            CheckpointLayout(config: try config(HFConfigLoader.decode(T.self, from: json, path: path)), names: names, normOffset: normOffset)
        }
    }

    /// Hugging Face `model_type` values whose config.json and safetensors weights load.
    public static let huggingFace: [String: @Sendable (Data, String) throws -> CheckpointLayout] = [
        "llama": layout(LlamaConfiguration.self, names: WeightNames.huggingFaceLlama) { try $0.decoderConfig() },
        "mistral": layout(MistralConfiguration.self, names: WeightNames.huggingFaceLlama) { try $0.decoderConfig() },
        "qwen2": layout(Qwen2Configuration.self, names: WeightNames.huggingFaceLlama) { try $0.decoderConfig() },
        "qwen3": layout(Qwen3Configuration.self, names: WeightNames.huggingFaceLlama) { try $0.decoderConfig() },
        "phi3": layout(Phi3Configuration.self, names: WeightNames.huggingFacePhi3) { try $0.decoderConfig() },
        "mixtral": layout(MixtralConfiguration.self, names: WeightNames.huggingFaceMixtral) { try $0.decoderConfig() },
        "smollm3": layout(SmolLM3Configuration.self, names: WeightNames.huggingFaceLlama) { try $0.decoderConfig() },
        // Gemma stores norm weights as w for a scale of 1 + w.
        "gemma3_text": layout(Gemma3TextConfiguration.self, names: WeightNames.huggingFaceGemma3, normOffset: 1) { try $0.decoderConfig() },
    ]

    /// The configuration and weight names of a Hugging Face checkpoint folder, from its config.json.
    /// An embedding model (BERT) or an unknown `model_type` is an error saying so.
    public static func layout(checkpoint folder: String) throws -> CheckpointLayout {
        let configPath = folder + "/config.json"
        guard let json = FileManager.default.contents(atPath: configPath) else {
            throw ModelError("\(folder): no readable config.json")
        }
        let type = try HFConfigLoader.modelType(json, path: configPath)
        if type == "bert" {
            throw ModelError("\(folder): model_type bert is an embedding model, not a text generator: use `swiftlet embed` (BertModel)")
        }
        guard let build = huggingFace[type] else {
            throw ModelError("\(configPath): model_type \(type) is not supported (supported: \(huggingFace.keys.sorted().joined(separator: ", ")), and bert for embeddings)")
        }
        return try build(json, configPath)
    }

    /// Loads a decoder from a Hugging Face checkpoint folder (config.json + safetensors). With
    /// `tensors`, the weights come from there instead of the folder's safetensors (a split folder
    /// of a checkpoint: config.json beside the part files); they go through the same sanitize step.
    public static func load(checkpoint folder: String, tensors: TensorSource? = nil) throws -> DecoderModel {
        var layout = try layout(checkpoint: folder)
        let base: TensorSource
        if let tensors {
            base = tensors
        } else {
            do { base = try SafetensorsCheckpoint(path: folder) } catch { throw ModelError("\(error)") }
        }
        let source = SanitizedTensorSource(base, renames: WeightNames.huggingFaceRenames,
                                           ignoredPrefixes: WeightNames.huggingFaceIgnoredPrefixes)
        // A checkpoint without lm_head ties the output to the embeddings, whatever the flag says.
        layout.config.tiedEmbeddings = source.tensor(WeightNames.name(layout.names, .output)) == nil
        // Full-precision checkpoints keep keys and values in f32, as transformers computes them.
        if source.tensor(WeightNames.name(layout.names, .tokenEmbedding))?.type == .f32 { layout.config.cacheType = .f32 }
        let weights = try DecoderWeights(config: layout.config, source: source, names: layout.names,
                                         ignored: WeightNames.huggingFaceIgnored(layers: layout.config.layerCount),
                                         normOffset: layout.normOffset)
        return DecoderModel(config: layout.config, weights: weights)
    }
}
