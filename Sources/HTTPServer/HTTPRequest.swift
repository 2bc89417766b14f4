/// An HTTP request as seen by an ``HTTPHandler``.
///
/// The server reads bodies up to ``HTTPServerConfiguration/maxRequestBodyBytes`` into ``body`` and rejects larger
/// ones with 413.
public struct HTTPRequest: Sendable {
    /// The request method as sent, for example `GET` or `HEAD` (methods are case-sensitive in HTTP).
    public var method: String
    /// The percent-decoded path, without the query string, for example `/metrics`.
    public var path: String
    /// The raw query string after `?` (not decoded), or nil when the target had no `?`.
    public var query: String?
    /// The request header fields (case-insensitive lookup).
    public var headers: HTTPHeaders
    /// The protocol version, for example `HTTP/1.1`.
    public var version: String
    /// The request body (empty for most `GET`s).
    public var body: [UInt8]

    public init(
        method: String,
        path: String,
        query: String? = nil,
        headers: HTTPHeaders = HTTPHeaders(),
        version: String = "HTTP/1.1",
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.version = version
        self.body = body
    }
}

/// Answers one request.
///
/// Contract: the handler runs synchronously on one of the server's libmicrohttpd threads and holds that thread until
/// it returns. It must be fast and must never block: no database calls, no waiting for locks held across I/O, no
/// `await` bridging. Serve data from snapshots that other parts of the process keep current.
public typealias HTTPHandler = @Sendable (HTTPRequest) -> HTTPResponse
