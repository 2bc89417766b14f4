/// Answers one request asynchronously: it may await anything (a database query) without holding a libmicrohttpd
/// thread. The server runs it in a child task of its service (``HTTPServer/run()``), at most
/// ``HTTPServerConfiguration/asyncConcurrencyLimit`` at once, and answers 504 when it takes longer than
/// ``HTTPServerConfiguration/asyncTimeout`` (the handler's task is then cancelled). It should honour cancellation.
public typealias AsyncHTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// A path prefix served by an ``AsyncHTTPHandler`` (for example the console at `/ui`): the prefix itself and every
/// path below it (`/ui`, `/ui/jobs`, not `/uix`).
public struct HTTPMount: Sendable {
    public var prefix: String
    public var handler: AsyncHTTPHandler

    /// - Precondition: `prefix` starts with `/` and does not end with one.
    public init(prefix: String, handler: @escaping AsyncHTTPHandler) {
        precondition(prefix.hasPrefix("/") && !prefix.hasSuffix("/"), "a mount prefix looks like /ui")
        self.prefix = prefix
        self.handler = handler
    }

    /// Whether `path` is the prefix or below it.
    public func matches(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix + "/")
    }
}
