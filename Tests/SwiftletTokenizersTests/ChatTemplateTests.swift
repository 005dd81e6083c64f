// Chat templates must render every golden case from transformers' apply_chat_template byte for byte.
import Foundation
import Testing
import SwiftletTokenizers

@Suite struct ChatTemplateTests {
    /// Templates whose goldens must all pass.
    static let supportedTemplates = [
        "HuggingFaceTB-SmolLM2-135M-Instruct",
        "HuggingFaceTB-SmolLM3-3B",
        "Qwen-Qwen3-0.6B",
        "google-gemma-3-4b-it",
        "microsoft-phi-4",
        "microsoft-Phi-4-reasoning-plus",
        "Qwen-Qwen2.5-7B-Instruct",
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
        "meta-llama-Llama-3.1-8B-Instruct",
        "meta-llama-Llama-3.2-3B-Instruct",
        "mistralai-Mistral-Nemo-Instruct-2407",
    ]

    static let templatesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/templates").standardized

    static func date(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.date(from: text)
    }

    @Test(arguments: supportedTemplates)
    func goldenRenderings(template name: String) throws {
        let folder = Self.templatesFolder
        guard FileManager.default.fileExists(atPath: folder.path) else {
            Issue.record("shared templates folder missing at \(folder.path)")
            return
        }
        let source = try String(contentsOf: folder.appendingPathComponent("\(name).jinja"), encoding: .utf8)
        let template = try ChatTemplate(source: source)
        let goldenText = try String(contentsOf: folder.appendingPathComponent("golden/\(name).json"), encoding: .utf8)
        guard case .array(let cases) = try JinjaValue(json: goldenText) else {
            Issue.record("golden/\(name).json is not a list")
            return
        }
        #expect(!cases.isEmpty)
        for c in cases {
            guard case .object(let golden) = c, case .string(let caseName)? = golden["case"],
                  case .array(let messages)? = golden["messages"] else {
                Issue.record("malformed golden case in \(name)")
                continue
            }
            var context: [String: JinjaValue] = [:]
            if case .object(let kwargs)? = golden["kwargs"] { for (k, v) in kwargs.pairs { context[k] = v } }
            var now: Date? = nil
            if case .string(let n)? = golden["now"] { now = Self.date(n) }
            do {
                let rendered = try template.render(messages: messages, context: context, now: now)
                if case .string(let expected)? = golden["rendered"] {
                    #expect(rendered == expected, "\(name) / \(caseName)")
                } else {
                    Issue.record("\(name) / \(caseName): expected an error, rendered \(rendered.debugDescription)")
                }
            } catch let error as ChatTemplateError {
                if golden["error"] == nil {
                    Issue.record("\(name) / \(caseName): \(error)")
                }
            }
        }
    }

    /// Older or edited revisions (no goldens): they must parse and render a plain exchange.
    @Test func variantsRender() throws {
        let folder = Self.templatesFolder.appendingPathComponent("variants")
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            Issue.record("shared templates variants folder missing at \(folder.path)")
            return
        }
        let messages: [JinjaValue] = [
            .object(JinjaObject([("role", .string("user")), ("content", .string("Hello!"))])),
            .object(JinjaObject([("role", .string("assistant")), ("content", .string("Hi."))])),
            .object(JinjaObject([("role", .string("user")), ("content", .string("Bye!"))])),
        ]
        let context: [String: JinjaValue] = [
            "add_generation_prompt": .bool(true), "bos_token": .string("<s>"), "eos_token": .string("</s>"),
        ]
        for file in files.sorted() where file.hasSuffix(".jinja") {
            let source = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let rendered = try ChatTemplate(source: source).render(messages: messages, context: context, now: Self.date("2025-01-15T12:00:00"))
            #expect(rendered.contains("Hello!") && rendered.contains("Bye!"), "\(file)")
        }
    }

    @Test func errorsNameTheLine() throws {
        #expect(throws: ChatTemplateError.syntax(line: 2, "unknown statement 'frobnicate'")) {
            try ChatTemplate(source: "hello\n{% frobnicate %}")
        }
        let t = try ChatTemplate(source: "{{ raise_exception('nope') }}")
        #expect(throws: ChatTemplateError.raised("nope")) { try t.render(messages: [JinjaValue](), context: [:]) }
    }

    @Test func expressions() throws {
        func r(_ s: String, _ ctx: [String: JinjaValue] = [:]) throws -> String {
            try ChatTemplate(source: s).render(messages: [JinjaValue](), context: ctx)
        }
        #expect(try r("{{ [1,2,3][::-1] }}") == "[3, 2, 1]")
        #expect(try r("{{ {'a': True, 'b': none} | string }}") == "{'a': True, 'b': None}")
        #expect(try r("{{ {'a': 'é', 'b': [1, 2.5]} | tojson }}") == "{\"a\": \"é\", \"b\": [1, 2.5]}")
        #expect(try r("{{ -7 // 2 }} {{ 2.5 | round }} {{ 'ab'[-1] }}") == "-4 2.0 b")
        #expect(try r("{{ 7 // 2 }} {{ -7 % 3 }} {{ 1 / 2 }} {{ 'a' ~ 1 }}") == "3 2 0.5 a1")
        #expect(try r("{% for k, v in {'x': 1, 'y': 2}.items() if v > 1 %}{{ k }}{{ loop.length }}{% endfor %}") == "y1")
        #expect(try r("{% set ns = namespace(a=1) %}{% for i in [1,2] %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}") == "4")
        #expect(try r("{% macro m(x, y='!') %}{{ x }}{{ y }}{% endmacro %}{{ m('hi') }}") == "hi!")
        #expect(try r("  {% if true %}\nyes\n  {% endif %}\nend") == "yes\nend")
        #expect(try r("{{ 'a b'.split(' ') | join('-') | upper }}") == "A-B")
        #expect(try r("{{ x is defined }} {{ 'a' in x }}") == "False False")
    }
}
