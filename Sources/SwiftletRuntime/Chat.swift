// Chat prompts: a model's own chat template (from its GGUF metadata or its checkpoint folder) applied to messages.
import Foundation
import SwiftletTokenizers

extension Engine {
    /// The model's chat template, or nil when its file carries none.
    public func chatTemplate() throws -> ChatTemplate? {
        guard let source = chatTemplateSource else { return nil }
        return try ChatTemplate(source: source)
    }

    /// Renders `messages` (role, content) with the model's template, ending with the prompt for the
    /// assistant's turn. `options` reach the template as variables (e.g. enable_thinking).
    public func chatPrompt(_ messages: [(role: String, content: String)], options: [String: JinjaValue] = [:]) throws -> String {
        guard let template = try chatTemplate() else {
            throw RuntimeError("\(path) has no chat template (GGUF tokenizer.chat_template, chat_template.jinja or tokenizer_config.json); pass a raw prompt instead")
        }
        var context = options
        context["add_generation_prompt"] = .bool(true)
        if let b = tokenizer.bos { context["bos_token"] = .string(tokenizer.tokenText(b)) }
        if let e = tokenizer.eos { context["eos_token"] = .string(tokenizer.tokenText(e)) }
        let values = messages.map { m in JinjaValue.object(JinjaObject([("role", .string(m.role)), ("content", .string(m.content))])) }
        return try template.render(messages: values, context: context)
    }
}
