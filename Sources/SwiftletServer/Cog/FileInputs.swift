// File inputs of predictions: http(s) URLs and data URIs, fetched to a local file with a size
// cap and a timeout before the predictor runs.
import AsyncHTTPClient
import Foundation
import NIOCore

public enum FileInputs {
    public static let maxBytes = 64 << 20
    public static let timeout: TimeAmount = .seconds(30)

    /// Fetches `value` (a URL or data URI) into a new temporary file and returns its path.
    public static func fetch(_ value: String, client: HTTPClient) async throws -> String {
        let bytes: [UInt8]
        var suffix = ""
        if value.hasPrefix("data:") {
            guard let comma = value.firstIndex(of: ",") else { throw PredictionError("malformed data URI") }
            let header = value[value.index(value.startIndex, offsetBy: 5)..<comma]
            let payload = String(value[value.index(after: comma)...])
            if header.hasSuffix(";base64") {
                guard let d = Data(base64Encoded: payload) else { throw PredictionError("data URI is not valid base64") }
                bytes = Array(d)
            } else {
                bytes = Array((payload.removingPercentEncoding ?? payload).utf8)
            }
            suffix = extensionFor(mime: String(header.split(separator: ";").first ?? ""))
        } else if value.hasPrefix("http://") || value.hasPrefix("https://") {
            var request = HTTPClientRequest(url: value)
            request.method = .GET
            let response: HTTPClientResponse
            do { response = try await client.execute(request, timeout: timeout) } catch {
                throw PredictionError("cannot fetch \(value): \(error)")
            }
            guard response.status.code == 200 else { throw PredictionError("fetching \(value) answered \(response.status.code)") }
            do { bytes = Array(buffer: try await response.body.collect(upTo: maxBytes)) } catch {
                throw PredictionError("\(value) is larger than \(maxBytes / (1 << 20)) MB or could not be read")
            }
            suffix = URL(string: value).map { $0.pathExtension.isEmpty ? "" : "." + $0.pathExtension } ?? ""
        } else {
            throw PredictionError("a file input must be an http(s) URL or a data URI")
        }
        guard bytes.count <= maxBytes else { throw PredictionError("file input larger than \(maxBytes / (1 << 20)) MB") }
        let path = NSTemporaryDirectory() + "swiftlet-input-\(UUID().uuidString)\(suffix)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw PredictionError("cannot store the file input")
        }
        return path
    }

    static func extensionFor(mime: String) -> String {
        [("text/plain", ".txt"), ("image/png", ".png"), ("image/jpeg", ".jpg"), ("image/webp", ".webp"),
         ("application/json", ".json")].first { $0.0 == mime }?.1 ?? ""
    }
}
