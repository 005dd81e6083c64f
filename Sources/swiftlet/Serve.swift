// `swiftlet serve [DEPLOYMENT]`: the Cog prediction API for one deployment and the
// OpenAI-compatible API on one port.
import ArgumentParser
import Foundation
import Logging
import SwiftletRuntime
import SwiftletServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a deployment over HTTP: Cog predictions and OpenAI-compatible routes on one port.")
    @Argument(help: "A deployment name from deployments/ (or a manifest path). Default: smollm3.") var deployment = "smollm3"
    @Option(name: .long, help: "A GGUF model file, checkpoint folder or split folder (default: the deployment's model, else SmolLM2-135M-Instruct).")
    var model: String?
    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on.") var port = 5000
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Keep at most this many bytes of weights in memory (K/M/G suffixes), streaming the rest layer by layer.")
    var maxMemory: String?
    @Flag(name: .long, help: "With --max-memory: no background prefetch of the next layer.") var noPrefetch = false
    @Option(name: .long, help: "Most requests queued or running; more get an at-capacity answer at once.") var queue = 8
    @Option(name: .long, help: "Directory for output artifacts (default: the deployment's).") var outputs: String?
    @Option(name: .long, help: "PUT each output file to this URL + its file name and return the uploaded URL (Cog's --upload-url).")
    var uploadURL: String?
    @Option(name: .long, help: "Require 'Authorization: Bearer KEY' (default: $SWIFTLET_API_KEY; health checks stay open).")
    var apiKey: String?
    @Option(name: .long, help: "Log format: text or json (one JSON object per line).") var logFormat = "text"
    @Option(name: .long, help: "Seconds in-flight requests get to finish on SIGTERM or POST /shutdown.") var grace = 30.0
    @Option(name: .long, help: "The deployments folder.") var deployments = "deployments"

    func validate() throws {
        if !(1...65535).contains(port) { throw ValidationError("--port must be in 1...65535") }
        if queue < 1 || queue > 4096 { throw ValidationError("--queue must be in 1...4096") }
        if logFormat != "text" && logFormat != "json" { throw ValidationError("--log-format must be text or json") }
        if !(grace >= 0 && grace <= 3600) { throw ValidationError("--grace must be in 0...3600 seconds") }
    }

    func run() async throws {
        if logFormat == "json" { LoggingSystem.bootstrap(JSONLogHandler.init) }
        let manifest = deployment.hasSuffix(".json")
            ? try DeploymentManifest.load(path: deployment)
            : try DeploymentCatalog(directory: deployments).manifest(named: deployment)
        var config = ServerConfiguration(deployment: manifest, modelPath: model,
                                         defaultModelPath: ModelOptions.modelsDirectory + "/SmolLM2-135M-Instruct.Q4_1.gguf")
        config.host = host
        config.port = port
        config.threads = threads
        do { config.maxMemory = try maxMemory.map { try ByteSize.parse($0) } } catch { throw ValidationError("--max-memory: \(error)") }
        config.prefetch = !noPrefetch
        config.queueCapacity = queue
        config.outputsDirectory = outputs
        if let uploadURL {
            do { _ = try OutputUploader(baseURL: uploadURL) } catch { throw ValidationError("\(error)") }
            config.uploadURL = uploadURL
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["SWIFTLET_API_KEY"]
        config.apiKey = key?.isEmpty == false ? key : nil
        config.gracePeriod = grace
        try await ServerApplication.run(config, logger: Logger(label: "swiftlet"))
    }
}
