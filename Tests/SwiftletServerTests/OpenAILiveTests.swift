// The OpenAI-compatible API on a real loopback port: plain and streamed requests over HTTP, and a
// client that hangs up mid-stream cancelling its generation.
import Foundation
import Hummingbird
import HummingbirdTesting
import SwiftletRuntime
import SwiftletTestSupport
import Testing
@testable import SwiftletServer
#if canImport(Glibc)
import Glibc
#endif

private typealias T = OpenAITest

@Suite struct OpenAILiveTests {
    @Test func chatOverHTTPPlainAndStreamed() async throws {
        try await T.app(try T.state(T.qwen2Chat)).test(.live) { c in
            #expect(try await T.send(c, "/health", method: .get).status == .ok)
            let body: JSONValue = ["messages": [["role": "user", "content": "Hello"]], "seed": 11, "max_tokens": 10]
            let whole = try await T.post(c, "/v1/chat/completions", body)
            #expect(whole.status == .ok && whole.json["object"] == "chat.completion")
            let text = try #require(whole.json["choices"]?.array?.first?["message"]?["content"]?.string)
            let streamed = try await T.post(c, "/v1/chat/completions", body.setting("stream", true))
            #expect(streamed.status == .ok && streamed.headers[.contentType] == "text/event-stream")
            let events = T.events(streamed.text)
            #expect(events.last == "[DONE]")
            let pieces = try events.dropLast().compactMap { try JSONValue.parse($0)["choices"]?.array?.first?["delta"]?["content"]?.string }
            #expect(pieces.joined() == text)
            let bad = try await T.send(c, "/v1/chat/completions", method: .post, body: "not json")
            #expect(bad.status == .badRequest && bad.error?.code == "invalid_json")
        }
    }

    @Test func hangingUpMidStreamCancelsTheGeneration() async throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let state = try T.state(path)
        let queue = try #require(state.queue)
        try await T.app(state).test(.live) { c in
            let port = try #require(c.port)
            // Greedy counting goes on for the whole budget: 3000 tokens take ~20 s, far longer than the wait below.
            let body: JSONValue = ["prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9,", "max_tokens": 3000, "temperature": 0, "stream": true]
            let seen = try RawHTTP.postReadingUntil(port: port, path: "/v1/completions", body: body.encoded, marker: "\"text\":")
            #expect(seen.hasPrefix("HTTP/1.1 200"))
            // The socket is closed now: the server's next write fails and the generation ends.
            #expect(try await T.drained(queue), "the generation kept running after the client hung up")
        }
    }
}

extension OpenAILiveTests {
    @Test func hangingUpOnAPlainRequestCancelsTheGeneration() async throws {
        guard let path = try TestModels.require(TestModels.smollm2) else { return }
        let state = try T.state(path)
        let queue = try #require(state.queue)
        try await T.app(state).test(.live) { c in
            let port = try #require(c.port)
            // Not streamed: nothing is written until the end, so only the connection watcher can notice.
            let body: JSONValue = ["prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9,", "max_tokens": 3000, "temperature": 0]
            // Hang up only once the generation runs, so the test cannot pass on a request never served.
            let fd = try RawHTTP.post(port: port, path: "/v1/completions", body: body.encoded)
            #expect(try await RawHTTP.eventually { queue.load > 0 }, "the generation never started")
            close(fd)
            #expect(try await T.drained(queue), "the generation kept running after the client hung up")
        }
    }
}

/// A bare HTTP/1.1 client over a socket, for hanging up in the middle of a response.
enum RawHTTP {
    /// Sends a JSON POST and returns the open socket, unread; the caller closes it to hang up.
    static func post(port: Int, path: String, body: String) throws -> Int32 {
        let fd = try connected(port)
        let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { close(fd); throw T.TestFailure("send failed: errno \(errno)") }
        return fd
    }

    /// Polls `condition` every 20 ms for up to `seconds`; whether it became true.
    static func eventually(_ seconds: Double = 60, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return condition()
    }

    static func connected(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw T.TestFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { close(fd); throw T.TestFailure("connect to port \(port) failed: errno \(errno)") }
        return fd
    }

    /// Sends a JSON POST, reads until `marker` appears in the response, then closes the connection.
    static func postReadingUntil(port: Int, path: String, body: String, marker: String) throws -> String {
        let fd = try connected(port)
        defer { close(fd) }
        let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw T.TestFailure("send failed: errno \(errno)") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw T.TestFailure("the server closed the connection first: \(String(decoding: received, as: UTF8.self))") }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
