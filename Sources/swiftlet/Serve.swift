// `swiftlet serve`: the Cog prediction API and the OpenAI-compatible API on one port.
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwiftletServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve a model over HTTP (Cog predictions and OpenAI-compatible routes).")
    @Option(name: .long, help: "A GGUF model file or checkpoint folder (default: SmolLM2-135M-Instruct).") var model: String?
    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on.") var port = 5000
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Most requests queued or running; more get an at-capacity answer at once.") var queue = 8

    func validate() throws {
        if !(1...65535).contains(port) { throw ValidationError("--port must be in 1...65535") }
        if queue < 1 || queue > 4096 { throw ValidationError("--queue must be in 1...4096") }
    }

    func run() async throws {
        var config = ServerConfiguration(modelPath: model ?? ModelOptions.modelsDirectory + "/SmolLM2-135M-Instruct.Q4_1.gguf")
        config.host = host
        config.port = port
        config.threads = threads
        config.queueCapacity = queue
        let app = ServerApplication.make(config, logger: Logger(label: "swiftlet"))
        try await app.runService()
    }
}
