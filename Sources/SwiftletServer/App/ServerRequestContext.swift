// The request context of every route: Hummingbird's basics plus the connection, so a handler that
// waits for a whole (non-streamed) answer can stop the work when its client goes away.
import Hummingbird
import NIOCore
import NIOConcurrencyHelpers
import HummingbirdCore

public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Runs `body`; if the client disconnects first, `onDisconnect` is called (once) so the work
    /// can be cancelled. Without the connection watcher in the pipeline (tests without sockets)
    /// the body simply runs.
    public func whileConnected<T: Sendable>(onDisconnect: @escaping @Sendable () -> Void,
                                            _ body: () async throws -> T) async rethrows -> T {
        let watcher = try? await channel.pipeline.handler(type: ClientDisconnectWatcher.self).get()
        let token = watcher?.add(onDisconnect)
        defer { if let token { watcher?.remove(token) } }
        return try await body()
    }
}

/// Watches a connection for the client going away: end of input (the client closed its side; an
/// HTTP/1 client that half-closes before reading its answer is treated as gone, like uvicorn does)
/// or the connection closing. Sits after the HTTP codec and passes every request part through.
public final class ClientDisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    public typealias InboundIn = Any  // passed through untouched (HTTP request parts)
    public typealias InboundOut = Any

    private struct State {
        var gone = false
        var next = 0
        var callbacks: [Int: @Sendable () -> Void] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Calls `callback` when the client goes away (at once if it already has); returns a token for `remove`.
    func add(_ callback: @escaping @Sendable () -> Void) -> Int {
        let (token, gone) = state.withLockedValue { s -> (Int, Bool) in
            s.next += 1
            if !s.gone { s.callbacks[s.next] = callback }
            return (s.next, s.gone)
        }
        if gone { callback() }
        return token
    }

    func remove(_ token: Int) { state.withLockedValue { _ = $0.callbacks.removeValue(forKey: token) } }

    private func clientWent() {
        let callbacks = state.withLockedValue { s -> [@Sendable () -> Void] in
            guard !s.gone else { return [] }
            s.gone = true
            defer { s.callbacks = [:] }
            return Array(s.callbacks.values)
        }
        for c in callbacks { c() }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { clientWent() }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        clientWent()
        context.fireChannelInactive()
    }
}
