// XXH64 against the reference implementation (Python's xxhash 3.x, which wraps libxxhash): known
// vectors across every tail length, fed whole and in pieces, and the file checksum.
import Foundation
import Testing
import SwiftletCore

@Suite struct XXH64Tests {
    /// Bytes (i * 31 + 7) & 0xff, i = 0..<n.
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    /// n -> (seed 0, seed 2654435761), from xxhash.xxh64(pattern(n), seed=...).hexdigest().
    static let vectors: [(Int, String, String)] = [
        (0, "ef46db3751d8e999", "ac75fda2929b17ef"), (1, "a96c7f0ce858bbb7", "84e535b36672440d"),
        (3, "56e6957632a487f9", "d095a9239060f0a3"), (4, "c60d15b1e3ff8f04", "d4e4b946fb0bfbb4"),
        (5, "808815858624dd4e", "840b6a418001cba3"), (7, "afbefc3d6c6f9a8e", "38386302628c52dc"),
        (8, "3da5c7aa269683e0", "3748218f9083d1c1"), (9, "4b17a9ba9e215c09", "6b8304f6e0246c53"),
        (15, "ae2a37eb9357caa7", "283deb489df92be1"), (16, "a19ad429b02bc413", "06f2d4c8d982f096"),
        (31, "4a74f3a1a39ad4a1", "b806f858c84789ea"), (32, "8d57d6a4671cc43d", "8ef2e38dde10f162"),
        (33, "62c9fd21ed857664", "5a653650552f822c"), (63, "5c320a0d2707057f", "cdec73bbccfd2d50"),
        (64, "7bbabbc45729d17e", "861fd034d84dab20"), (65, "f3980c34bae65dc1", "31a55de20688e18d"),
        (100, "efa0ad2d3e70c151", "4ac13414471c7284"), (1000, "99594f4828043d35", "f8735ce614aeb002"),
        (4099, "98531e44aa4f969d", "04ac251d81d7d0eb"),
    ]

    @Test func knownVectors() {
        #expect(XXH64.hex(XXH64.hash(Array("abc".utf8))) == "44bc2cf5ad770999")
        let text = Array("Nobody inspects the spammish repetition".utf8)
        #expect(XXH64.hex(XXH64.hash(text)) == "fbcea83c8a378bf1")
        #expect(XXH64.hex(XXH64.hash(text, seed: 0x9E37_79B9_7F4A_7C15)) == "eb8b157ca26cbf34")
        for (n, unseeded, seeded) in Self.vectors {
            #expect(XXH64.hex(XXH64.hash(Self.pattern(n))) == unseeded, "\(n) bytes")
            #expect(XXH64.hex(XXH64.hash(Self.pattern(n), seed: 2_654_435_761)) == seeded, "\(n) bytes, seeded")
        }
    }

    @Test func streamingInAnyPiecesGivesTheSameDigest() {
        let bytes = Self.pattern(4099)
        for piece in [1, 3, 7, 31, 32, 33, 100, 4098] {
            var h = XXH64(seed: 2_654_435_761)
            var i = 0
            while i < bytes.count {
                h.update(Array(bytes[i..<min(i + piece, bytes.count)]))
                i += piece
            }
            #expect(XXH64.hex(h.digest) == "04ac251d81d7d0eb", "pieces of \(piece)")
        }
        // Uneven pieces, and digest in the middle does not end the stream.
        var h = XXH64()
        h.update(Array(bytes[0..<5]))
        _ = h.digest
        h.update(Array(bytes[5..<70]))
        h.update(Array(bytes[70..<1000]))
        #expect(XXH64.hex(h.digest) == "99594f4828043d35")
    }

    @Test func fileChecksumReadsInChunks() throws {
        let path = NSTemporaryDirectory() + "xxh64-\(UUID().uuidString).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.pattern(4099)).write(to: URL(fileURLWithPath: path))
        for chunk in [64, 1000, 1 << 20] {
            let (digest, bytes) = try XXH64.file(path, chunk: chunk)
            #expect(bytes == 4099 && XXH64.hex(digest) == "98531e44aa4f969d", "chunks of \(chunk)")
        }
        #expect { _ = try XXH64.file(path + ".missing") } throws: { "\($0)".contains("cannot open \(path).missing") }
    }
}
