// The families llama.cpp defines GGUF names for, from GGUF: each tiny transformers fixture is
// rewritten as the GGUF llama.cpp's converter would make (its names, Llama's Q/K rows permuted,
// Gemma's norms with the 1 folded in, Mixtral's experts stacked) and must give transformers'
// greedy tokens and logits close to its own (the GGUF path keeps an f16 cache like llama.cpp).
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
import SwiftletModels
import SwiftletTestSupport

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf").path

private struct Expected: Decodable {
    let input_ids: [Int32]
    let logits: [[Float]]
    let greedy: [Int32]
}

private struct Family {
    let fixture: String
    let arch: String
    let hfNames: [TensorRole: String]
    let ggufNames: [TensorRole: String]
}

private let families: [Family] = [
    Family(fixture: "llama", arch: "llama", hfNames: WeightNames.huggingFaceLlama, ggufNames: WeightNames.gguf),
    Family(fixture: "mistral", arch: "llama", hfNames: WeightNames.huggingFaceLlama, ggufNames: WeightNames.gguf),
    Family(fixture: "mixtral", arch: "llama", hfNames: WeightNames.huggingFaceMixtral, ggufNames: WeightNames.ggufMoE),
    Family(fixture: "qwen2", arch: "qwen2", hfNames: WeightNames.huggingFaceLlama, ggufNames: WeightNames.gguf),
    Family(fixture: "qwen3", arch: "qwen3", hfNames: WeightNames.huggingFaceLlama, ggufNames: WeightNames.gguf),
    Family(fixture: "phi3", arch: "phi3", hfNames: WeightNames.huggingFacePhi3, ggufNames: WeightNames.ggufPhi3),
    Family(fixture: "gemma3_text", arch: "gemma3", hfNames: WeightNames.huggingFaceGemma3, ggufNames: WeightNames.gguf),
]

/// The fixture checkpoint as a GGUF file, converted through the two name tables.
private func convert(_ f: Family) throws -> String {
    let folder = root + "/" + f.fixture
    let hf = try ArchitectureRegistry.load(checkpoint: folder)
    let c = hf.config
    let source = try SafetensorsCheckpoint(path: folder)
    func values(_ name: String) -> [Float]? {
        guard let info = source.info(name), let data = source.data(name) else { return nil }
        return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: info.shape.reduce(1, *)))
    }
    var w = GGUFWriter()
    let a = f.arch
    w.metadata = [
        ("general.architecture", .string(a)), ("\(a).embedding_length", .uint32(UInt32(c.hiddenSize))),
        ("\(a).block_count", .uint32(UInt32(c.layerCount))), ("\(a).feed_forward_length", .uint32(UInt32(c.ffnSize))),
        ("\(a).attention.head_count", .uint32(UInt32(c.headCount))), ("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount))),
        ("\(a).attention.key_length", .uint32(UInt32(c.headDim))), ("\(a).attention.value_length", .uint32(UInt32(c.valueDim))),
        ("\(a).context_length", .uint32(UInt32(c.contextLength))), ("\(a).rope.freq_base", .float32(c.ropeBase)),
        ("\(a).rope.dimension_count", .uint32(UInt32(c.ropeDims))), ("\(a).vocab_size", .uint32(UInt32(c.vocabSize))),
        ("\(a).attention.layer_norm_rms_epsilon", .float32(c.normEps)),
    ]
    if let window = c.slidingWindow { w.metadata.append(("\(a).attention.sliding_window", .uint32(UInt32(window)))) }
    if c.isMoE {
        w.metadata += [("\(a).expert_count", .uint32(UInt32(c.expertCount))), ("\(a).expert_used_count", .uint32(UInt32(c.expertsPerToken)))]
    }
    if a == "gemma3" {
        let pattern = c.slidingLayers.firstIndex(of: false)! + 1
        w.metadata.append(("\(a).attention.sliding_window_pattern", .uint32(UInt32(pattern))))
    }
    func add(_ ggufName: String, _ shape: [Int], _ v: [Float]) {
        w.tensors.append(GGUFWriter.f32Tensor(ggufName, dims: shape.reversed(), v))
    }
    /// HF rows (heads, 2, hd/2) -> llama.cpp's (heads, hd/2, 2), as its converter permutes Llama's q/k.
    func permute(_ v: [Float], heads: Int, cols: Int) -> [Float] {
        var out = v
        let hd = c.headDim
        for h in 0..<heads { for i in 0..<hd / 2 { for k in 0..<2 {
            let src = h * hd + k * (hd / 2) + i, dst = h * hd + 2 * i + k
            for j in 0..<cols { out[dst * cols + j] = v[src * cols + j] }
        } } }
        return out
    }
    for (role, pattern) in f.hfNames.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
        guard let target = f.ggufNames[role] else { continue }
        for layer in role.perLayer ? Array(0..<c.layerCount) : [0] {
            let l: Int? = role.perLayer ? layer : nil
            if pattern.contains("%e") {  // experts -> one stacked tensor
                var all: [Float] = []
                var shape: [Int] = []
                for e in 0..<c.expertCount {
                    let name = WeightNames.name(f.hfNames, role, layer: l, expert: e)
                    all += values(name)!
                    shape = source.info(name)!.shape
                }
                add(WeightNames.name(f.ggufNames, role, layer: l), [c.expertCount] + shape, all)
                continue
            }
            let name = WeightNames.name(f.hfNames, role, layer: l)
            guard var v = values(name), let shape = source.info(name)?.shape else { continue }
            if a == "gemma3" && shape.count == 1 { v = v.map { $0 + 1 } }
            if a == "llama" && role == .attnQ { v = permute(v, heads: c.headCount, cols: c.hiddenSize) }
            if a == "llama" && role == .attnK { v = permute(v, heads: c.kvHeadCount, cols: c.hiddenSize) }
            add(WeightNames.name(f.ggufNames, role, layer: l), shape, v)
            if let bias = values(WeightNames.biasName(of: name)) {
                add(WeightNames.biasName(of: WeightNames.name(f.ggufNames, role, layer: l)), [bias.count], bias)
            }
        }
    }
    return try GGUFWriter.temporaryFile(w.bytes(), name: "\(f.fixture).gguf")
}

private func argmax(_ row: UnsafeBufferPointer<Float>) -> Int32 { Int32(row.indices.max { row[$0] < row[$1] }!) }

@Test(arguments: families.map(\.fixture))
func familyFromGGUFMatchesTransformers(_ fixture: String) throws {
    let f = families.first { $0.fixture == fixture }!
    let path = try convert(f)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let model = try ArchitectureRegistry.load(gguf: GGUFFile(path: path))
    #expect(model.config.cacheType == .f16)
    let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/\(fixture)/expected.json")))
    let pool = ThreadPool(threads: 2)
    let cache = model.makeCache(capacity: 64)
    let scratch = model.makeScratch(maxBatch: 32, contextCapacity: 64, threads: 2, logitRows: 32)
    var worst: Float = 0
    var next: Int32 = 0
    try expected.input_ids.withUnsafeBufferPointer { b in
        try model.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .all) { i, row in
            let theirs = expected.logits[i]
            let scale = theirs.map(abs).max()!
            worst = max(worst, zip(row, theirs).map { abs($0 - $1) }.max()! / scale)
            next = argmax(row)
        }
    }
    print("\(fixture) from GGUF: max relative logit error \(worst)")
    #expect(worst < 5e-3, "\(fixture) from GGUF: logits differ from transformers by \(worst) (relative)")
    var generated: [Int32] = []
    for _ in expected.greedy.indices {
        generated.append(next)
        try [next].withUnsafeBufferPointer { b in
            try model.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .last) { _, row in next = argmax(row) }
        }
    }
    #expect(generated == expected.greedy)
}
