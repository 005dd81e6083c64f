// Split folders over time: an interrupted split resumes keeping its finished parts and ends
// identical to an uninterrupted one; a complete split is verified, left alone or repaired; splits of
// another source or with other options are refused; damaged parts and manifests are clear errors
// naming the file.
import Foundation
import Testing
import SwiftletCore
import SwiftletFormats
@testable import SwiftletRuntime
import SwiftletTestSupport

private let fm = FileManager.default

/// Inode and modification date: the same file, not rewritten.
private func identity(_ path: String) throws -> [String] {
    let a = try fm.attributesOfItem(atPath: path)
    return ["\(a[.systemFileNumber] ?? "?")", "\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"]
}

private func contents(_ path: String) -> Data? { fm.contents(atPath: path) }

@Suite struct SplitResumeTests {
    @Test func interruptedSplitResumesKeepingFinishedParts() throws {
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder(), whole = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(whole); SplitFixtures.remove(source) }
        try ModelSplitter.run(input: source, output: whole)

        #expect {
            try ModelSplitter.run(input: source, output: out, compression: .none, restart: false, threads: nil, progress: .silent,
                                  stopAfterParts: 2)
        } throws: { "\($0)".contains("stopped after 2 parts") }
        // As a kill would leave it: two finished parts on record, no manifest, and a half-written third part.
        #expect(!fm.fileExists(atPath: out + "/split.json"))
        let progress = try SplitManifest.read(path: out + "/split.progress.json", format: SplitManifest.progressFormatName)
        #expect(progress.parts.map(\.file) == ["embedding.gguf", "layer-000.gguf"])
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: out + "/layer-001.gguf.partial"))
        #expect { _ = try Engine(path: out) } throws: { "\($0)".contains("no readable config.json") }
        let before = try ["embedding.gguf", "layer-000.gguf"].map { try identity(out + "/" + $0) }

        let s = try ModelSplitter.run(input: source, output: out)
        #expect(s.reused == 2 && s.written == 3 && !s.alreadyComplete)
        #expect(try ["embedding.gguf", "layer-000.gguf"].map { try identity(out + "/" + $0) } == before, "finished parts were rewritten")
        let files = try fm.contentsOfDirectory(atPath: out)
        #expect(!files.contains { $0.hasSuffix(".partial") } && !files.contains(SplitManifest.progressFileName))
        // The same folder an uninterrupted split writes, byte for byte.
        #expect(Set(files) == Set(try fm.contentsOfDirectory(atPath: whole)))
        for name in files { #expect(contents(out + "/" + name) == contents(whole + "/" + name), "\(name)") }
        #expect(try Engine(path: out, threads: 2).logits(tokens: SplitFixtures.tokens, all: true)
            == Engine(path: source, threads: 2).logits(tokens: SplitFixtures.tokens, all: true))
    }

    @Test func splitsOfAnotherSourceOrWithOtherOptionsAreRefused() throws {
        let source = try SplitFixtures.tinyGGUF(), other = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source); SplitFixtures.remove(other) }
        #expect(throws: (any Error).self) {
            try ModelSplitter.run(input: source, output: out, compression: .none, restart: false, threads: nil, progress: .silent,
                                  stopAfterParts: 1)
        }
        #expect { try ModelSplitter.run(input: source, output: out, compression: .bits8) } throws: {
            "\($0)".contains("holds a split with compression none, not 8bit") && "\($0)".contains("--restart")
        }
        #expect { try ModelSplitter.run(input: other, output: out) } throws: { "\($0)".contains("holds a split of \(source), not of \(other)") }
        // The same file, changed since (here only its modification date).
        try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: source)
        #expect { try ModelSplitter.run(input: source, output: out) } throws: { "\($0)".contains("as it was before it changed") }
        // --restart throws the old split away.
        let s = try ModelSplitter.run(input: other, output: out, compression: .bits8, restart: true)
        #expect(s.written == 5 && s.reused == 0)
        let m = try SplitManifest.read(path: out + "/split.json")
        #expect(m.source.path == other && m.compression == .bits8)
        // A complete split of other options is refused too.
        #expect { try ModelSplitter.run(input: other, output: out) } throws: { "\($0)".contains("compression 8bit, not none") }
    }

    @Test func outputsThatAreNotSplitFoldersAreRefused() throws {
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source) }
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        for restart in [false, true] {
            #expect { try ModelSplitter.run(input: source, output: out, restart: restart) } throws: {
                "\($0)".contains("\(out) exists, is not empty and is not a split folder")
            }
        }
        #expect(try fm.contentsOfDirectory(atPath: out) == ["notes.txt"])
        #expect { try ModelSplitter.run(input: source, output: out + "/notes.txt") } throws: { "\($0)".contains("exists and is not a folder") }
        // Nor may a split land inside the checkpoint folder it copies files from.
        let checkpoint = SplitFixtures.hf + "/qwen2-chat"
        #expect { try ModelSplitter.run(input: checkpoint, output: checkpoint + "/split") } throws: {
            "\($0)".contains("lies inside the checkpoint folder")
        }
        #expect(!fm.fileExists(atPath: checkpoint + "/split"))
    }

    @Test func onlyDecoderModelsAreSplit() throws {
        let dir = SplitFixtures.folder("bert")
        defer { SplitFixtures.remove(dir) }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"model_type": "bert"}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect { try ModelSplitter.run(input: dir, output: SplitFixtures.folder()) } throws: {
            "\($0)".contains("is an embedding model: swiftlet split splits text generators")
        }
        #expect { try ModelSplitter.run(input: dir + "-missing", output: SplitFixtures.folder()) } throws: {
            "\($0)".contains("no such model file or checkpoint folder")
        }
        // A split folder is not a source: the error names the model it came from.
        let source = try SplitFixtures.tinyGGUF()
        let split = SplitFixtures.folder()
        defer { SplitFixtures.remove(split); SplitFixtures.remove(source) }
        try ModelSplitter.run(input: source, output: split)
        #expect { try ModelSplitter.run(input: split, output: SplitFixtures.folder()) } throws: {
            "\($0)".contains("\(split) is a split folder") && "\($0)".contains(source)
        }
        #expect { try ModelQuantizer.run(input: split, output: SplitFixtures.folder(), method: "int8") } throws: {
            "\($0)".contains("is a split folder")
        }
    }

    @Test func aCompleteSplitIsVerifiedThenLeftAloneOrRepaired() throws {
        let source = try SplitFixtures.tinyGGUF()
        let out = SplitFixtures.folder()
        defer { SplitFixtures.remove(out); SplitFixtures.remove(source) }
        try ModelSplitter.run(input: source, output: out)
        let manifest = contents(out + "/split.json")
        let files = try fm.contentsOfDirectory(atPath: out).sorted()
        let before = try files.map { try identity(out + "/" + $0) }
        let again = try ModelSplitter.run(input: source, output: out)
        #expect(again.alreadyComplete && again.written == 0 && again.reused == 5)
        #expect(try files.map { try identity(out + "/" + $0) } == before)

        // A part damaged since: found by its checksum, and only it is written again.
        try flipByte(in: out + "/layer-001.gguf")
        let repaired = try ModelSplitter.run(input: source, output: out)
        #expect(!repaired.alreadyComplete && repaired.written == 1 && repaired.reused == 4)
        #expect(contents(out + "/split.json") == manifest)
        #expect(try identity(out + "/layer-002.gguf") == before[files.firstIndex(of: "layer-002.gguf")!])
        _ = try Engine(path: out, threads: 2)
    }

    @Test func notEnoughDiskSpaceIsAClearError() throws {
        #expect { try DiskSpace.check(needed: 2_500_000_000, available: 1_200_000_000, at: "/data/out") } throws: {
            "\($0)" == "/data/out: the split needs 2.33 GB, 1.12 GB free on that disk"
        }
        try DiskSpace.check(needed: 10, available: 10, at: "/data/out")
        #expect(try DiskSpace.available(at: NSTemporaryDirectory()) > 0)
        #expect { _ = try DiskSpace.available(at: "/nonexistent/folder") } throws: { "\($0)".contains("/nonexistent/folder") }
    }
}

/// Flips one byte in the middle of a file, keeping its size.
private func flipByte(in path: String) throws {
    var data = try Data(contentsOf: URL(fileURLWithPath: path))
    data[data.count / 2] ^= 0xFF
    try data.write(to: URL(fileURLWithPath: path))
}

@Suite struct SplitDamageTests {
    /// A complete split of the tiny model, copied fresh for each damage.
    static func damaged(_ damage: (String) throws -> Void) throws -> String {
        let source = try SplitFixtures.tinyGGUF()
        defer { SplitFixtures.remove(source) }
        let out = SplitFixtures.folder()
        try ModelSplitter.run(input: source, output: out)
        try damage(out)
        return out
    }

    @Test func damagedPartsAreErrorsNamingTheFile() throws {
        var full = 0
        let truncated = try Self.damaged { out in
            let path = out + "/layer-001.gguf"
            full = try SplitFixtures.size(path)
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try h.truncate(atOffset: UInt64(full / 2))
            try h.close()
        }
        defer { SplitFixtures.remove(truncated) }
        #expect { _ = try Engine(path: truncated) } throws: {
            "\($0)".contains("\(truncated)/layer-001.gguf: \(full / 2) bytes, split.json records \(full) (truncated)")
        }
        let flipped = try Self.damaged { try flipByte(in: $0 + "/layer-002.gguf") }
        defer { SplitFixtures.remove(flipped) }
        #expect { _ = try Engine(path: flipped) } throws: {
            "\($0)".contains("\(flipped)/layer-002.gguf: checksum") && "\($0)".contains("the file changed or is corrupt since the split")
                && "\($0)".contains("re-run `swiftlet split`")
        }
        let missing = try Self.damaged { try fm.removeItem(atPath: $0 + "/head.gguf") }
        defer { SplitFixtures.remove(missing) }
        #expect { _ = try Engine(path: missing) } throws: { "\($0)".contains("\(missing)/head.gguf: missing") }
        // Opening without verification still checks sizes and the tensors each part holds.
        let swapped = try Self.damaged { out in
            var m = try SplitManifest.read(path: out + "/split.json")
            m.parts[1].tensors.reverse()
            try m.write(to: out + "/split.json")
        }
        defer { SplitFixtures.remove(swapped) }
        #expect { _ = try SplitStore(folder: swapped, verify: false) } throws: {
            "\($0)".contains("\(swapped)/layer-000.gguf: holds other tensors than split.json lists (a different order)")
        }
    }

    /// A manifest edited by hand or damaged: the error names split.json and the field.
    @Test(arguments: [
        (#""version": 1"#, #""version": 2"#, "version: 2 is not supported"),
        (#""format": "swiftlet-split""#, #""format": "other""#, #"format: "other", expected "swiftlet-split""#),
        (#""layers": 3"#, #""layers": 0"#, "layers: must be at least 1"),
        (#""compression": "none""#, #""compression": "2bit""#, #"compression: "2bit" is not one of none, 4bit, 8bit"#),
        (#""kind":"head""#, #""kind":"tail""#, #"parts[4].kind: "tail" is not one of embedding, layer, head"#),
        (#""file":"layer-001.gguf""#, #""file":"../layer-001.gguf""#, #"parts[2].file: "../layer-001.gguf" is not a file name in the folder"#),
        (#""layer":2"#, #""layer":1"#, "parts[3]: layer 1 where layer 2 belongs"),
        (#""bytes":"#, #""bytes":-"#, "source.bytes: must be a whole number >= 0"),
        (#""xxh64":""#, #""xxh64":"z"#, "parts[0].xxh64: \"z"),
        (#""tensors":["token_embd.weight"]"#, #""tensors":[]"#, "parts[0].tensors: a part holds at least one tensor"),
        ("\n}", "", "not JSON"),
    ])
    func badManifestFieldsAreNamed(find: String, replace: String, message: String) throws {
        let out = try Self.damaged { out in
            let text = try String(contentsOfFile: out + "/split.json", encoding: .utf8)
            guard let r = text.range(of: find) else { throw SplitError(out, "\(find) is not in split.json") }
            try text.replacingCharacters(in: r, with: replace).write(toFile: out + "/split.json", atomically: true, encoding: .utf8)
        }
        defer { SplitFixtures.remove(out) }
        #expect { _ = try Engine(path: out) } throws: { "\($0)".hasPrefix("\(out)/split.json: \(message)") }
    }
}
