// The optional API key: requests must carry `Authorization: Bearer <key>` (401 envelope otherwise).
import Hummingbird

/// Refuses requests without the right bearer token. The comparison takes the same time wherever
/// the first difference is.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return OpenAIError.unauthorized("missing API key: send the header 'Authorization: Bearer <key>'").response
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.equal(Array(header.utf8.dropFirst(prefix.utf8.count)), Array(key.utf8)) else {
            return OpenAIError.unauthorized("incorrect API key in the Authorization header").response
        }
        return try await next(request, context)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }
}
