// Layer streaming: a model run under a memory budget gives the same bits as the model fully
// mapped, at every budget from one layer to the whole model, with prefetch on and off; the
// budget is checked, the units read once per pass, and streamed pages really leave memory.
import Foundation
import Testing
import SwiftletCore
import SwiftletModels
import SwiftletRuntime
import SwiftletTestSupport

private let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf").path

/// Logits of every position of `tokens` (one batch), with `residency` told about each part.
private func logits(_ m: DecoderModel, _ tokens: [Int32], residency: WeightResidency?, pool: ThreadPool) throws -> [[Float]] {
    let cache = m.makeCache(capacity: 64)
    let scratch = m.makeScratch(maxBatch: tokens.count, contextCapacity: 64, threads: pool.threadCount, logitRows: 4)
    var rows: [[Float]] = []
    try tokens.withUnsafeBufferPointer { b in
        try m.forward(b, cache: cache, scratch: scratch, pool: pool, logits: .all, residency: residency) { _, r in rows.append(Array(r)) }
    }
    return rows
}

/// Budgets from one unit to the whole model, each with prefetch on and off.
private func budgets(_ m: DecoderModel) throws -> [(Int, Bool)] {
    let whole = try LayerStreamer(model: m, budget: Int.max / 2, prefetch: true).plan
    let sizes = [whole.slotBytes, 2 * whole.slotBytes, 3 * whole.slotBytes, whole.modelBytes / 2, whole.modelBytes]
    return sizes.flatMap { [($0, true), ($0, false)] }
}

@Test(arguments: ["llama", "gemma3_text", "phi3", "mixtral", "qwen3"])
func streamedFamiliesGiveTheSameLogits(_ family: String) throws {
    let m = try ArchitectureRegistry.load(checkpoint: fixtureRoot + "/" + family)
    let pool = ThreadPool(threads: 2)
    let tokens: [Int32] = [1, 5, 9, 2, 7, 3, 11, 4]
    let expected = try logits(m, tokens, residency: nil, pool: pool)
    for (budget, prefetch) in try budgets(m) {
        let s = try LayerStreamer(model: m, budget: budget, prefetch: prefetch)
        // Several passes: the prefetch thread runs on into the next pass's first layer.
        for pass in 0..<3 {
            let got = try logits(m, tokens, residency: s, pool: pool)
            #expect(got == expected, "\(family), budget \(budget), prefetch \(prefetch), pass \(pass): logits differ")
        }
        #expect(s.stats.passes == 3)
    }
}

@Test func budgetBelowOneLayerIsAClearError() throws {
    let m = try ArchitectureRegistry.load(checkpoint: fixtureRoot + "/llama")
    let slot = try LayerStreamer(model: m, budget: Int.max / 2, prefetch: true).plan.slotBytes
    #expect { try LayerStreamer(model: m, budget: slot - 1, prefetch: true) } throws: { e in
        "\(e)".contains("below the largest layer") && "\(e)".contains("raise it to")
    }
    // One unit's room: streaming works, but there is no room to prefetch.
    let one = try LayerStreamer(model: m, budget: slot, prefetch: true).plan
    #expect(!one.prefetch && one.streamedBytesPerPass > 0)
    let two = try LayerStreamer(model: m, budget: 2 * slot, prefetch: true).plan
    #expect(two.prefetch && two.pinnedBytes + 2 * two.slotBytes <= two.budgetBytes)
    let all = try LayerStreamer(model: m, budget: Int.max / 2, prefetch: true).plan
    #expect(all.streamedBytesPerPass == 0 && all.pinnedBytes == all.modelBytes && all.layersPinned == all.layers)
}

@Test func byteSizesParse() throws {
    #expect(try ByteSize.parse("67108864") == 67_108_864)
    #expect(try ByteSize.parse("64M") == 64 << 20)
    #expect(try ByteSize.parse("64MiB") == 64 << 20)
    #expect(try ByteSize.parse("64mb") == 64 << 20)
    #expect(try ByteSize.parse("1.5G") == 3 << 29)
    #expect(try ByteSize.parse("2K") == 2048)
    for bad in ["", "M", "-1", "0", "abc", "12Q", "1e30"] {
        #expect(throws: RuntimeError.self, "\(bad)") { try ByteSize.parse(bad) }
    }
}

/// The real models under small budgets: the same greedy tokens and logits as fully mapped, and
/// every streamed unit read once per pass.
@Test(arguments: ["smollm2", "gemma3"])
func realModelsStreamToTheSameTokens(_ name: String) throws {
    guard let path = try TestModels.require(name == "smollm2" ? TestModels.smollm2 : TestModels.gemma3) else { return }
    let reference = try Engine(path: path, threads: 2)
    let prompt = reference.tokenize("The three primary colours are", bos: name == "gemma3")
    let expectedLogits = try reference.logits(tokens: prompt, all: true)
    let expected = try reference.generate(prompt: prompt, maxNewTokens: 12, sampling: .greedy)
    let engine = try Engine(path: path, threads: 2)
    let whole = try engine.streamWeights(budget: Int.max / 2)
    for (budget, prefetch) in [(whole.slotBytes, false), (2 * whole.slotBytes, true), (64 << 20, true)] {
        let plan = try engine.streamWeights(budget: budget, prefetch: prefetch)
        #expect(plan.streamedBytesPerPass > 0, "\(name): \(plan.summary) streams nothing")
        #expect(try engine.logits(tokens: prompt, all: true) == expectedLogits, "\(name): \(plan.summary): logits differ")
        let before = engine.streamer!.stats
        let got = try engine.generate(prompt: prompt, maxNewTokens: 12, sampling: .greedy)
        #expect(got.tokens == expected.tokens, "\(name): \(plan.summary): tokens differ")
        let d = engine.streamer!.stats - before
        // Each pass reads every streamed unit once. The prefetch thread reads the next pass's first
        // unit as a pass ends, so one unit may be counted before the window (read at the end of
        // the logits call) or after it (read for a pass that never comes).
        let perPass = d.passes * plan.streamedBytesPerPass
        #expect(d.bytesLoaded >= perPass - plan.slotBytes && d.bytesLoaded <= perPass + plan.slotBytes,
                "\(name): \(d.bytesLoaded) bytes read in \(d.passes) passes of \(plan.streamedBytesPerPass)")
    }
}

/// After a pass, the streamed units' pages are out of the process (the resident pages of each
/// part file's mapping, from /proc/self/smaps, which is what VmRSS and VmHWM count), and the
/// pinned ones are in.
@Test func streamedPagesLeaveMemory() throws {
    guard let source = try TestModels.require(TestModels.smollm2) else { return }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-stream-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = try ModelSplitter.run(input: source, output: dir)
    let engine = try Engine(path: dir, threads: 2)
    let slot = try engine.streamWeights(budget: Int.max / 2).slotBytes
    for prefetch in [false, true] {
        let plan = try engine.streamWeights(budget: 4 * slot, prefetch: prefetch)
        _ = try engine.logits(tokens: engine.tokenize("Hello there"), all: false)
        let files = engine.model.weights.source.mappedFiles
        let resident = try files.reduce(0) { $0 + (try MappingResidency.bytes($1)) }
        // The pinned units, the unit prefetched for the next pass, each part's header page and
        // the pages units share at their ends.
        let allowance = plan.pinnedBytes + (prefetch ? slot : 0) + (files.count + plan.outputChunks) * 2 * MappedFile.pageSize
        #expect(resident <= allowance, "\(resident) bytes of the model resident after a pass under \(plan.summary)")
        #expect(resident >= plan.pinnedBytes / 2, "the pinned units are not resident")
    }
}

/// Resident bytes of one file's mapping in this process, from /proc/self/smaps.
private enum MappingResidency {
    static func bytes(_ f: MappedFile) throws -> Int {
        // Read to the end (procfs files report a size of 0).
        guard let h = FileHandle(forReadingAtPath: "/proc/self/smaps"), let data = try h.readToEnd() else {
            throw RuntimeError("cannot read /proc/self/smaps")
        }
        let smaps = String(decoding: data, as: UTF8.self)
        let start = String(UInt(bitPattern: f.base), radix: 16)
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit) {
                inMapping = line[..<dash].drop { $0 == "0" } == start.drop { $0 == "0" }
            } else if inMapping, line.hasPrefix("Rss:") {
                return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
            }
        }
        throw RuntimeError("no mapping of \(f.path) at 0x\(start) in /proc/self/smaps")
    }
}
