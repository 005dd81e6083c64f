// Opt-in stress comparison with llama.cpp on many random texts (see scripts/make-tokenizer-fixtures.py --fuzz).
import Foundation
import Testing
import SwiftletTokenizers

@Suite struct StressTests {
    @Test func randomTextsMatchLlamaCpp() throws {
        guard let path = ProcessInfo.processInfo.environment["SWIFTLET_TOKENIZER_FUZZ"] else { return }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        for key in golden.models.keys.sorted() {
            guard let loaded = try LoadedTokenizers.get(key), let expected = golden.models[key] else { continue }
            var failures = 0
            for (i, c) in golden.cases.enumerated() {
                let ids = loaded.tokenizer.encode(c.text, parseSpecial: c.parse_special)
                if ids != expected.ids[i] {
                    failures += 1
                    if failures <= 3 {
                        let scalars = c.text.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")
                        Issue.record(Comment(rawValue: "\(key) \(c.name) [\(scalars)]: got \(ids) expected \(expected.ids[i])"))
                    }
                }
                if let decoded = expected.decoded?[i], loaded.tokenizer.decode(expected.ids[i]) != decoded {
                    failures += 1
                    if failures <= 3 { Issue.record("\(key) \(c.name): decode differs") }
                }
            }
            print("\(key): \(golden.cases.count - failures)/\(golden.cases.count) random texts match llama.cpp")
            #expect(failures == 0, "\(key)")
        }
    }
}
