extension HTTPRequest {
    /// Whether the client accepts a gzip-encoded response (RFC 9110 §12.5.3): `Accept-Encoding` lists `gzip` (or
    /// `x-gzip`) with a weight above 0, or lists `*` with a weight above 0 and does not refuse gzip by name
    /// (`gzip;q=0`). Without the header, or with a malformed weight, the answer is no.
    public var acceptsGzip: Bool {
        var named: Bool?
        var wildcard: Bool?
        for value in headers.values(for: "Accept-Encoding") {
            for element in value.split(separator: ",") {
                let parts = element.split(separator: ";")
                guard let coding = parts.first?.trimmingSpaces.lowercased(), !coding.isEmpty else { continue }
                var weight = 1.0
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" else { continue }
                    weight = Double(pair[1].trimmingSpaces) ?? 0
                }
                switch coding {
                case "gzip", "x-gzip": named = (named ?? false) || weight > 0
                case "*": wildcard = (wildcard ?? false) || weight > 0
                default: continue
                }
            }
        }
        return named ?? wildcard ?? false
    }
}

extension HTTPResponse {
    /// This response as `request` should get it: the body gzip-encoded (``Gzip``) with `Content-Encoding: gzip` when
    /// the client accepts gzip (``HTTPRequest/acceptsGzip``), and `Vary: Accept-Encoding` either way, so a cache never
    /// hands one client's encoding to another.
    ///
    /// The body stays as it is when it is shorter than `minimumBytes` (compression would not pay), when the
    /// response already has a `Content-Encoding`, or when `compress` fails (returns nil). The server sets
    /// `Content-Length` from the body it is given, so it is the encoded length (also for `HEAD`).
    ///
    /// - Parameter compress: the body's gzip encoding; ``Gzip/compress(_:level:)`` unless the caller has it at hand
    ///   (a cache of an encoding shared by several responses). Called only when the encoding is used.
    public func encoded(
        for request: HTTPRequest, minimumBytes: Int = 1024,
        compress: ([UInt8]) -> [UInt8]? = { Gzip.compress($0) }
    ) -> HTTPResponse {
        var response = self
        if !response.headers.values(for: "Vary").contains(where: { $0.lowercased().contains("accept-encoding") }) {
            response.headers.add(name: "Vary", value: "Accept-Encoding")
        }
        guard body.count >= minimumBytes, !headers.contains("Content-Encoding"), request.acceptsGzip,
            let compressed = compress(body)
        else { return response }
        response.body = compressed
        response.headers.add(name: "Content-Encoding", value: "gzip")
        return response
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs (optional whitespace in HTTP fields).
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[first...last]
    }
}
