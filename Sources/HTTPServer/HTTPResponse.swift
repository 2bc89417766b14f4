/// An HTTP response produced by an ``HTTPHandler``.
///
/// The server sets `Content-Length`, `Date` and `Connection` itself; fields with those names given here are dropped.
/// For `HEAD` requests the server sends the headers (including the `Content-Length` of ``body``) without the body.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code, for example 200.
    public var status: Int
    /// The response header fields.
    public var headers: HTTPHeaders
    /// The body bytes (copied by the server when the response is queued).
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a UTF-8 text body and the given content type.
    public static func text(
        _ text: String,
        status: Int = 200,
        contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }
}
