// Split folders (swiftlet split): a split model is the model it came from, bit for bit (a GGUF
// source, every checkpoint family's name table, a multimodal wrapper, the real models); --compress
// quantizes the projections only and stays close; the command writes and reports the split.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletModels
@testable import SwiftletRuntime
import SwiftletTestSupport

/// Sources and folders the split tests share.
enum SplitFixtures {
    static let hf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf").path
    static let tokens: [Int32] = [1, 5, 9, 2, 17, 30, 4, 11, 8, 23, 6, 3]

    /// A path in a fresh temporary folder (the path itself not created); `remove` it when done.
    static func folder(_ name: String = "split") -> String {
        NSTemporaryDirectory() + "swiftlet-split-\(UUID().uuidString)/\(name)"
    }

    /// Removes the temporary folder `folder` made `path` in.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    /// A small Llama GGUF: 3 layers, rows of 64 (so --compress applies), an untied output, one F16
    /// projection per layer, llama.cpp's rope_freqs table (a non-layer tensor the loader ignores),
    /// a SentencePiece vocabulary of 32 tokens and a chat template.
    static func tinyGGUF() throws -> String {
        let h = 64, f = 128, v = 32, layers = 3
        var w = GGUFWriter()
        w.metadata = [
            ("general.architecture", .string("llama")), ("general.name", .string("tiny split test")),
            ("llama.embedding_length", .uint32(UInt32(h))), ("llama.block_count", .uint32(UInt32(layers))),
            ("llama.feed_forward_length", .uint32(UInt32(f))), ("llama.attention.head_count", .uint32(4)),
            ("llama.attention.head_count_kv", .uint32(2)), ("llama.context_length", .uint32(128)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .array(.string, (0..<v).map { .string("t\($0)") })),
            ("tokenizer.ggml.scores", .array(.float32, (0..<v).map { .float32(-Float($0)) })),
            ("tokenizer.ggml.token_type", .array(.int32, (0..<v).map { _ in .int32(1) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)), ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.chat_template", .string("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}")),
        ]
        var rng = SplitMix64(seed: 7)
        func values(_ n: Int, around center: Float = 0) -> [Float] {
            (0..<n).map { _ in center + Float(Double(rng.next() % 10_000) / 10_000 - 0.5) * (center == 0 ? 1 : 0.2) }
        }
        func t(_ name: String, _ dims: [Int], center: Float = 0) -> GGUFWriter.Tensor {
            GGUFWriter.f32Tensor(name, dims: dims, values(dims.reduce(1, *), around: center))
        }
        func f16(_ name: String, _ dims: [Int]) -> GGUFWriter.Tensor {
            var bytes: [UInt8] = []
            for x in values(dims.reduce(1, *)) { withUnsafeBytes(of: floatToHalf(x).littleEndian) { bytes += $0 } }
            return GGUFWriter.Tensor(name: name, dims: dims, type: .f16, data: bytes)
        }
        w.tensors = [t("token_embd.weight", [h, v]), t("rope_freqs.weight", [8], center: 1)]
        for l in 0..<layers {
            w.tensors += [t("blk.\(l).attn_norm.weight", [h], center: 1), f16("blk.\(l).attn_q.weight", [h, h]),
                          t("blk.\(l).attn_k.weight", [h, 32]), t("blk.\(l).attn_v.weight", [h, 32]),
                          t("blk.\(l).attn_output.weight", [h, h]), t("blk.\(l).ffn_norm.weight", [h], center: 1),
                          t("blk.\(l).ffn_gate.weight", [h, f]), t("blk.\(l).ffn_up.weight", [h, f]), t("blk.\(l).ffn_down.weight", [f, h])]
        }
        w.tensors += [t("output_norm.weight", [h], center: 1), t("output.weight", [h, v])]
        return try GGUFWriter.temporaryFile(w.bytes(), name: "tiny.gguf")
    }

    /// Logits of every position of `tokens` from a model (FamilyFixtureTests' helper).
    static func logits(_ m: DecoderModel, _ tokens: [Int32]) throws -> [[Float]] {
        try allLogits(m, tokens, batch: tokens.count, pool: ThreadPool(threads: 2))
    }

    /// Positions where two logit rows pick the same top token.
    static func top1Agreement(_ a: [[Float]], _ b: [[Float]]) -> Int {
        func top(_ r: [Float]) -> Int { r.indices.max { r[$0] < r[$1] }! }
        return zip(a, b).filter { top($0) == top($1) }.count
    }

    static func size(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }
}

@Suite struct SplitTests {
    @Test func ggufSplitIsTheSameModel() throws {
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source) }
        let s = try ModelSplitter.run(input: source, output: out)
        #expect(s.parts == 5 && s.written == 5 && s.reused == 0 && !s.alreadyComplete && s.tensors == 31 && s.changed.isEmpty)

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(files == ["split.json", "model.gguf", "embedding.gguf", "layer-000.gguf", "layer-001.gguf", "layer-002.gguf", "head.gguf"])
        let m = try SplitManifest.read(path: out + "/split.json")
        #expect(m.container == .gguf && m.architecture == "llama" && m.layerCount == 3 && m.compression == .none)
        let sourceBytes = try SplitFixtures.size(source)
        #expect(m.source.path == source && m.source.bytes == sourceBytes && m.metadataFiles == ["model.gguf"])
        #expect(m.parts.map(\.tensors.count) == [1, 9, 9, 9, 3])
        #expect(m.parts[4].tensors == ["rope_freqs.weight", "output_norm.weight", "output.weight"])
        for l in 0..<3 { #expect(m.parts[1 + l].tensors.allSatisfy { $0.hasPrefix("blk.\(l).") }) }

        // Parts: their tensors byte for byte in their stored type, and no model metadata.
        let original = try GGUFFile(path: source)
        for part in m.parts {
            let file = try GGUFFile(path: out + "/" + part.file)
            #expect(file.metadataKeys == [ModelSplitter.partKey], "\(part.file)")
            // The size the writer plans up front (for the free-space check) is the size it writes.
            #expect(try GGUFFileWriter.fileSize(metadata: [(ModelSplitter.partKey, file[ModelSplitter.partKey]!)],
                                                tensors: file.tensors.map { .init(name: $0.name, dims: $0.dims, type: $0.type) }) == part.bytes)
            #expect(file.file.count == part.bytes && XXH64.hash(UnsafeRawBufferPointer(start: file.file.base, count: file.file.count)) == part.xxh64)
            for t in file.tensors {
                let o = original.tensorsByName[t.name]!
                #expect(t.type == o.type && t.dims == o.dims && memcmp(file.data(t), original.data(o), o.byteCount) == 0, "\(t.name)")
            }
        }
        // model.gguf: every metadata key of the source, no tensors.
        let meta = try GGUFFile(path: out + "/model.gguf")
        #expect(meta.tensors.isEmpty && meta.metadataKeys == original.metadataKeys && meta.metadata == original.metadata)

        let a = try Engine(path: source, threads: 2), b = try Engine(path: out, threads: 2)
        #expect(try a.logits(tokens: SplitFixtures.tokens, all: true) == b.logits(tokens: SplitFixtures.tokens, all: true))
        #expect(b.chatTemplateSource == a.chatTemplateSource && b.tokenize("t3t4") == a.tokenize("t3t4") && !b.config.tiedEmbeddings)
        #expect(b.model.weights.source.mappedFiles.map(\.path) == m.parts.map { out + "/" + $0.file })
        #expect(b.describe().hasPrefix("split folder: \(out) (5 parts: embedding, 3 layers, head"))
        #expect(try ModelKind.of(out) == .decoder)
        #expect(try ModelSize.bytes(out) == m.parts.reduce(0) { $0 + $1.bytes } + SplitFixtures.size(out + "/model.gguf"))
    }

    /// The per-layer prefix comes from each name table; a tensor's layer is the index after it.
    @Test func layersComeFromTheNameTables() {
        for table in [WeightNames.gguf, WeightNames.ggufPhi3, WeightNames.ggufMoE] { #expect(WeightNames.layerPrefix(table) == "blk.%d.") }
        for table in [WeightNames.huggingFaceLlama, WeightNames.huggingFaceGemma3, WeightNames.huggingFacePhi3, WeightNames.huggingFaceMixtral] {
            #expect(WeightNames.layerPrefix(table) == "model.layers.%d.")
        }
        #expect(WeightNames.layer(of: "blk.12.attn_q.weight", in: WeightNames.gguf) == 12)
        #expect(WeightNames.layer(of: "blk.3.attn_q.bias", in: WeightNames.gguf) == 3)
        #expect(WeightNames.layer(of: "model.layers.7.block_sparse_moe.experts.5.w1.weight", in: WeightNames.huggingFaceMixtral) == 7)
        for outside in ["token_embd.weight", "output.weight", "rope_freqs.weight", "blk.x.attn_q.weight", "blk.12", "blk..attn_q.weight"] {
            #expect(WeightNames.layer(of: outside, in: WeightNames.gguf) == nil, "\(outside)")
        }
        #expect(WeightNames.layer(of: "model.layers.1.mlp.up_proj.weight", in: WeightNames.gguf) == nil)
    }

    /// Every family's name table puts each tensor in its layer, and the split loads to the same model.
    @Test(arguments: ["llama", "mistral", "qwen2", "qwen3", "gemma3_text", "phi3", "mixtral", "smollm3"])
    func checkpointSplitIsTheSameModel(family: String) throws {
        let folder = SplitFixtures.hf + "/" + family
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out) }
        try ModelSplitter.run(input: folder, output: out)
        let m = try SplitManifest.read(path: out + "/split.json")
        #expect(m.container == .checkpoint && m.metadataFiles == ["config.json", "expected.json"])
        for l in 0..<m.layerCount { #expect(m.parts[1 + l].tensors.allSatisfy { $0.hasPrefix("model.layers.\(l).") }, "layer \(l)") }
        #expect(m.parts[0].tensors == ["model.embed_tokens.weight"])
        #expect(m.parts.last!.tensors.allSatisfy { !$0.hasPrefix("model.layers.") })
        let base = try ArchitectureRegistry.load(checkpoint: folder)
        let split = try ArchitectureRegistry.load(checkpoint: out, tensors: try SplitTensorSource(folder: out))
        #expect(try SplitFixtures.logits(base, SplitFixtures.tokens) == SplitFixtures.logits(split, SplitFixtures.tokens))
    }

    @Test func checkpointSplitRunsInTheEngine() throws {
        let folder = SplitFixtures.hf + "/qwen2-chat"
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out) }
        try ModelSplitter.run(input: folder, output: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".safetensors") }.isEmpty)
        let a = try Engine(path: folder, threads: 2), b = try Engine(path: out, threads: 2)
        #expect(b.gguf == nil && b.config.architecture == "qwen2" && b.config.cacheType == a.config.cacheType)
        let chat = [(role: "user", content: "Hello there")]
        #expect(try b.chatPrompt(chat) == a.chatPrompt(chat))
        let ids = a.tokenize(try a.chatPrompt(chat))
        #expect(b.tokenize(try b.chatPrompt(chat)) == ids)
        #expect(try a.logits(tokens: ids, all: true) == b.logits(tokens: ids, all: true))
        #expect(b.describe().contains("metadata from config.json, expected.json, tokenizer.json, tokenizer_config.json"))
    }

    /// A multimodal Gemma 3 checkpoint: the text model's tensors split by their sanitized names
    /// (stored under their own), the vision tower and projector left out.
    @Test func multimodalWrapperSplitsItsTextModel() throws {
        let fixture = SplitFixtures.hf + "/gemma3_text"
        let source = try SafetensorsCheckpoint(path: fixture)
        var tensors: [(String, [Int], [Float])] = source.tensorNames.map { name in
            let info = source.info(name)!
            return ("language_model." + name, info.shape,
                    Array(UnsafeBufferPointer(start: source.data(name)!.assumingMemoryBound(to: Float.self), count: info.elementCount)))
        }
        tensors.append(("vision_tower.embeddings.patch_embedding.weight", [4, 3], Array(repeating: 0.5, count: 12)))
        let dir = SplitFixtures.folder("wrapped"), out = SplitFixtures.folder()
        defer { SplitFixtures.remove(dir); SplitFixtures.remove(out) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        let textConfig = try String(contentsOfFile: fixture + "/config.json", encoding: .utf8)
        try #"{"model_type": "gemma3", "text_config": \#(textConfig)}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)

        try ModelSplitter.run(input: dir, output: out)
        let m = try SplitManifest.read(path: out + "/split.json")
        #expect(m.parts[0].tensors == ["language_model.model.embed_tokens.weight"])
        #expect(m.parts[1].tensors.allSatisfy { $0.hasPrefix("language_model.model.layers.0.") })
        #expect(!m.parts.flatMap(\.tensors).contains { $0.hasPrefix("vision_tower.") })
        let split = try ArchitectureRegistry.load(checkpoint: out, tensors: try SplitTensorSource(folder: out))
        let base = try ArchitectureRegistry.load(checkpoint: fixture)
        #expect(try SplitFixtures.logits(base, SplitFixtures.tokens) == SplitFixtures.logits(split, SplitFixtures.tokens))
    }

    /// --compress: projections become SW_A8_G64 / SW_A4_G64, everything else keeps its type.
    @Test(arguments: [SplitManifest.Compression.bits8, .bits4])
    func compressedSplitQuantizesTheProjections(compression: SplitManifest.Compression) throws {
        let folder = SplitFixtures.hf + "/qwen2-chat"
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out) }
        let s = try ModelSplitter.run(input: folder, output: out, compression: compression)
        #expect(s.changed.count == 14, "2 layers x 7 projections")
        let want: GGMLType = compression == .bits8 ? .swA8G64 : .swA4G64
        let original = try SafetensorsCheckpoint(path: folder)
        let split = try SplitTensorSource(folder: out)
        for name in split.tensorNames {
            let t = split.tensor(name)!
            let isProjection = name.contains("_proj.weight")
            #expect(t.type == (isProjection ? want : original.tensor(name)!.type), "\(name): \(t.type)")
        }
        #expect(split.store.manifest.compression == compression)
        let base = try Engine(path: folder, threads: 2).logits(tokens: SplitFixtures.tokens, all: true)
        let got = try Engine(path: out, threads: 2).logits(tokens: SplitFixtures.tokens, all: true)
        let err = Rewrite.maxRelativeError(base, got)
        // As for `quantize` (ModelRewriteTests): the fixture's logits are spread wide, so 8 bits lands
        // near 4% and 4 bits near 40% of the largest logit.
        let bound: Float = compression == .bits4 ? 0.6 : 0.06
        #expect(err > 0 && err < bound, "\(compression.rawValue): max relative logit error \(err)")
    }

    /// On a real model, the compressed split mostly predicts the same next token as the original.
    @Test(arguments: [SplitManifest.Compression.bits8, .bits4])
    func compressedRealModelAgreesOnTheTopToken(compression: SplitManifest.Compression) throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out) }
        try ModelSplitter.run(input: path, output: out, compression: compression)
        let base = try Engines.get(path), split = try Engine(path: out)
        let ids = base.tokenize("The quick brown fox jumps over the lazy dog. Paris is the capital of France, and Berlin is the capital of", bos: true)
        let agree = SplitFixtures.top1Agreement(try base.logits(tokens: ids, all: true), try split.logits(tokens: ids, all: true))
        // SmolLM2's projections are Q4_1 already: 8 bits adds little error, 4 bits in groups of 64 more.
        let needed = compression == .bits8 ? ids.count * 9 / 10 : ids.count * 6 / 10
        #expect(agree >= needed, "\(compression.rawValue): top-1 equal on \(agree) of \(ids.count) positions")
    }

    /// A split folder runs under a memory budget (layer streaming) like the model it came from.
    @Test func splitFolderStreamsUnderABudget() throws {
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source) }
        try ModelSplitter.run(input: source, output: out)
        let expected = try Engine(path: source, threads: 2).logits(tokens: SplitFixtures.tokens, all: true)
        let split = try Engine(path: out, threads: 2)
        let whole = try split.streamWeights(budget: Int.max / 2)
        for budget in [whole.slotBytes, whole.modelBytes / 2] {
            for prefetch in [true, false] {
                let plan = try split.streamWeights(budget: budget, prefetch: prefetch)
                #expect(plan.streamedBytesPerPass > 0)
                #expect(try split.logits(tokens: SplitFixtures.tokens, all: true) == expected, "budget \(budget), prefetch \(prefetch)")
            }
        }
    }

    @Test(.serialized, arguments: [TestModels.smollm2, TestModels.gemma3])
    func realModelSplitIsTheSameModel(path: String) throws {
        guard let path = try TestModels.require(path) else { return }
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out) }
        try ModelSplitter.run(input: path, output: out)
        let base = try Engines.get(path), split = try Engine(path: out)
        let ids = base.tokenize("The capital of France is", bos: true)
        #expect(try base.logits(tokens: ids, all: true) == split.logits(tokens: ids, all: true))
        let a = try base.generate(prompt: ids, maxNewTokens: 8, sampling: .greedy)
        let b = try split.generate(prompt: ids, maxNewTokens: 8, sampling: .greedy)
        #expect(a.tokens == b.tokens && a.text == b.text && !a.tokens.isEmpty)
    }

    /// The command: a split, a summary as JSON, a second run that finds it complete, clear errors.
    @Test func commandSplitsAndReports() throws {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("swiftlet").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            Issue.record("the swiftlet executable is not beside the test bundle at \(exe)")
            return
        }
        func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = arguments
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
        }
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source) }
        let first = try run(["split", source, out, "--compress", "8bit", "--json"])
        #expect(first.status == 0, "\(first.err)")
        let json = try JSONValue.parse(first.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["parts"]?.int == 5 && json["written"]?.int == 5 && json["changed"]?.int == 21 && json["compression"]?.string == "8bit")
        let bytes = try ModelSize.bytes(out)
        #expect(json["already_complete"]?.bool == false && json["output_bytes"]?.int == bytes)
        let again = try run(["split", source, out, "--compress", "8bit"])
        #expect(again.status == 0 && again.out.contains("already a complete split") && again.out.contains("5 parts verified"))
        let other = try run(["split", source, out])
        #expect(other.status != 0 && other.err.contains("compression 8bit, not none") && other.err.contains("--restart"))
        let bad = try run(["split", source, out, "--compress", "3bit"])
        #expect(bad.status != 0 && bad.err.contains("--compress must be 4bit or 8bit"))
        let inspect = try run(["inspect", out])
        #expect(inspect.status == 0 && inspect.out.contains("compression 8bit") && inspect.out.contains("SW_A8_G64"))
    }
}
