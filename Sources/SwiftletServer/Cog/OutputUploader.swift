// --upload-url: each file a prediction writes is PUT to <upload URL><file name> (with its content
// type and the prediction's id, as coglet does), and the prediction lists the uploaded URL.
import AsyncHTTPClient
import Foundation
import NIOCore

public struct OutputUploader: Sendable {
    /// The prefix every file name is appended to, e.g. "http://host/upload/".
    public let baseURL: String
    let client: HTTPClient
    static let timeout: TimeAmount = .seconds(30)

    public init(baseURL: String, client: HTTPClient = .shared) throws {
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw PredictionError("--upload-url must be an http(s) URL, got '\(baseURL)'")
        }
        self.baseURL = baseURL
        self.client = client
    }

    /// Uploads the file at `path`; returns its URL (the server's Location header when it gives one).
    public func upload(_ path: String, predictionID: String) async throws -> String {
        let name = (path as NSString).lastPathComponent
        let url = baseURL + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)
        guard let data = FileManager.default.contents(atPath: path) else { throw PredictionError("cannot read output \(path)") }
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: Self.contentType(of: name))
        request.headers.add(name: "X-Prediction-ID", value: predictionID)
        request.body = .bytes(ByteBuffer(bytes: data))
        let response: HTTPClientResponse
        do { response = try await client.execute(request, timeout: Self.timeout) } catch {
            throw PredictionError("uploading \(name) to \(url) failed: \(error)")
        }
        _ = try? await response.body.collect(upTo: 1 << 16)
        guard (200..<300).contains(response.status.code) else {
            throw PredictionError("uploading \(name) to \(url) failed: the server answered \(response.status.code)")
        }
        if let location = response.headers.first(name: "Location"), !location.isEmpty { return location }
        // A signed URL's query is the upload's, not the file's.
        return url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "txt": return "text/plain"
        case "json": return "application/json"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        default: return "application/octet-stream"
        }
    }
}
