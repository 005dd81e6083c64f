// The swiftlet command-line tool: argument parsing only; the work happens in SwiftletRuntime.
import ArgumentParser

@main
struct Swiftlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "Run optimized language models on the CPU.",
        subcommands: [Inspect.self, Tokenize.self, Generate.self, Perplexity.self, Bench.self, Logits.self, Embed.self,
                      Quantize.self, Prune.self, Split.self, Eval.self, Serve.self])
}
