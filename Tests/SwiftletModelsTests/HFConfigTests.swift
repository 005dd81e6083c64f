// config.json parsing: transformers' defaults, both rope forms, clear errors.
import Foundation
import Testing
import SwiftletModels

private func data(_ s: String) -> Data { Data(s.utf8) }

@Test func llamaConfigDefaultsAndRopeForms() throws {
    // SmolLM2-135M's config (old rope form).
    let smol = data("""
    {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":576,"intermediate_size":1536,
     "num_hidden_layers":30,"num_attention_heads":9,"num_key_value_heads":3,"max_position_embeddings":8192,
     "rms_norm_eps":1e-05,"rope_theta":100000,"tie_word_embeddings":true,"vocab_size":49152,"rope_scaling":null}
    """)
    #expect(try HFConfigLoader.modelType(smol, path: "c") == "llama")
    let c = try HFConfigLoader.decode(LlamaConfiguration.self, from: smol, path: "c").decoderConfig()
    #expect(c.headDim == 64 && c.kvHeadCount == 3 && c.ropeBase == 100_000 && c.tiedEmbeddings && c.ropeLayout == .halves)
    #expect(c.normEps == 1e-5 && c.contextLength == 8192 && c.slidingWindow == nil)

    // Defaults of an almost empty config, and the v5 rope_parameters form with linear scaling.
    let v5 = data(#"{"model_type":"llama","rope_parameters":{"rope_type":"linear","factor":2.0,"rope_theta":500000}}"#)
    let d = try HFConfigLoader.decode(LlamaConfiguration.self, from: v5, path: "c").decoderConfig()
    #expect(d.hiddenSize == 4096 && d.layerCount == 32 && d.kvHeadCount == 32 && d.ropeBase == 500_000)
    #expect(d.ropeFrequencies?.inverse.first == 0.5 && d.ropeFrequencies?.inverse.count == 64)
    #expect(d.contextLength == 2048 && !d.tiedEmbeddings)

    // Mistral: a sliding window on every layer.
    let mistral = data(#"{"model_type":"mistral","sliding_window":4096,"rope_theta":1000000.0}"#)
    let m = try HFConfigLoader.decode(MistralConfiguration.self, from: mistral, path: "c").decoderConfig()
    #expect(m.slidingWindow == 4096 && (0..<m.layerCount).allSatisfy(m.isSliding))
    // Absent: transformers' 4096; null: no window.
    #expect(try HFConfigLoader.decode(MistralConfiguration.self, from: data("{}"), path: "c").decoderConfig().slidingWindow == 4096)
    #expect(try HFConfigLoader.decode(MistralConfiguration.self, from: data(#"{"sliding_window":null}"#), path: "c")
        .decoderConfig().slidingWindow == nil)
}

@Test func unsupportedLlamaVariantsAreClearErrors() throws {
    let dynamic = data(#"{"rope_scaling":{"type":"dynamic","factor":4.0}}"#)
    #expect { try HFConfigLoader.decode(LlamaConfiguration.self, from: dynamic, path: "c").decoderConfig() } throws: {
        "\($0)".contains("rope scaling \"dynamic\" is not supported")
    }
    let yarn = data(#"{"rope_scaling":{"type":"yarn","factor":4.0}}"#)
    #expect { try HFConfigLoader.decode(LlamaConfiguration.self, from: yarn, path: "c").decoderConfig() } throws: {
        "\($0)".contains("rope_type yarn needs original_max_position_embeddings")
    }
    let gelu = data(#"{"hidden_act":"gelu"}"#)
    #expect { try HFConfigLoader.decode(LlamaConfiguration.self, from: gelu, path: "c").decoderConfig() } throws: {
        "\($0)".contains("hidden_act gelu is not supported")
    }
    let wrong = data(#"{"hidden_size":"big"}"#)
    #expect { _ = try HFConfigLoader.decode(LlamaConfiguration.self, from: wrong, path: "cfg.json") } throws: {
        "\($0)".contains("cfg.json: hidden_size has the wrong type")
    }
    #expect { _ = try HFConfigLoader.modelType(data("[1]"), path: "c") } throws: { "\($0)".contains("not a JSON object") }
}

@Test func gemma3ConfigMatchesTheGGUFModel() throws {
    // Gemma 3 270M's text config; the same hyperparameters the GGUF gives (gemma3.swift).
    let json = data("""
    {"model_type":"gemma3_text","hidden_size":640,"intermediate_size":2048,"num_hidden_layers":18,
     "num_attention_heads":4,"num_key_value_heads":1,"head_dim":256,"max_position_embeddings":32768,
     "query_pre_attn_scalar":256,"sliding_window":512,"rope_theta":1000000.0,"rope_local_base_freq":10000.0,
     "vocab_size":262144,"rope_scaling":null,"final_logit_softcapping":null}
    """)
    let c = try HFConfigLoader.decode(Gemma3TextConfiguration.self, from: json, path: "c").decoderConfig()
    #expect(c.slidingRopeBase == 10_000 && c.ropeBase == 1_000_000 && c.slidingWindow == 512)
    #expect(c.slidingLayers == (0..<18).map { ($0 + 1) % 6 != 0 })
    #expect(c.attentionScale == 1 / 16 && c.finalLogitSoftcap == nil && c.tiedEmbeddings && c.qkNorm && c.postNorms)
    #expect(abs(c.embeddingScale! - Float(640).squareRoot()) < 1e-4)

    // The multimodal wrapper: model_type gemma3 with the text model in text_config; v5 rope per kind.
    let wrapped = data("""
    {"model_type":"gemma3","text_config":{"model_type":"gemma3_text","num_hidden_layers":2,"layer_types":["sliding_attention","full_attention"],
     "rope_parameters":{"full_attention":{"rope_type":"linear","factor":8.0,"rope_theta":1000000.0},
                        "sliding_attention":{"rope_type":"default","rope_theta":10000.0}}}}
    """)
    #expect(try HFConfigLoader.modelType(wrapped, path: "c") == "gemma3_text")
    let w = try HFConfigLoader.decode(Gemma3TextConfiguration.self, from: wrapped, path: "c").decoderConfig()
    #expect(w.slidingLayers == [true, false] && w.ropeFrequencies?.inverse.first == 0.125 && w.slidingRopeBase == 10_000)
    #expect(w.slidingRopeFrequencies?.inverse.first == 1 && w.hiddenSize == 2304)
}
