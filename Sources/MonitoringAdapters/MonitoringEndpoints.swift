public import HTTPServer
public import Monitoring

/// The monitoring HTTP endpoints, as one pure ``handle(_:)`` function for ``HTTPServer``.
///
/// | route | answer |
/// |---|---|
/// | `GET /metrics` | 200, Prometheus text 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`) for every `Accept` (OpenMetrics is never offered: swift-prometheus cannot write it), gzip-encoded when `Accept-Encoding` allows it (Prometheus always asks), always with `Vary: Accept-Encoding`; 401 with `WWW-Authenticate: Bearer` when a token is configured and the request lacks it |
/// | `GET /livez`, `GET /healthz` | 200 `ok`: the process serves HTTP; never looks at the database |
/// | `GET /readyz` | 200 or 503 with the JSON of ``ReadinessReport/json`` |
/// | other paths | 404 |
/// | other methods on a known path | 405 with `Allow: GET, HEAD` |
///
/// `HEAD` is answered like `GET` (the server sends no body). Everything is answered from memory: the registry's
/// pre-scrape hooks and ``HealthState`` snapshots, never a database call, so it is safe on libmicrohttpd's threads.
/// The bearer token is compared in constant time and never logged or echoed.
public struct MonitoringEndpoints: Sendable {
    /// The known routes.
    public static let metricsPath = "/metrics"
    public static let livenessPath = "/livez"
    public static let healthzPath = "/healthz"
    public static let readinessPath = "/readyz"

    private let registry: MetricsRegistry
    private let health: HealthState
    private let token: [UInt8]?
    private let requests: HTTPRequestMetrics
    /// Compresses each render of `/metrics`, reusing the compressed parts that did not change since the last one.
    private let gzipChunks = GzipChunkCache()

    /// - Parameters:
    ///   - registry: rendered by `/metrics`; also receives `slotworker_http_requests_total`.
    ///   - health: evaluated by `/readyz`.
    ///   - metricsBearerToken: when non-nil and non-empty, `/metrics` requires `Authorization: Bearer <token>`.
    public init(registry: MetricsRegistry, health: HealthState, metricsBearerToken: String? = nil) {
        self.registry = registry
        self.health = health
        self.token = metricsBearerToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.requests = HTTPRequestMetrics(
            registry: registry,
            routes: [
                Self.metricsPath: self.token == nil ? [200] : [200, 401],
                Self.livenessPath: [200],
                Self.healthzPath: [200],
                Self.readinessPath: [200, 503],
            ]
        )
    }

    /// The handler to give ``HTTPServer``.
    public var handler: HTTPHandler {
        { request in self.handle(request) }
    }

    /// Answers one request (see the type's documentation).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let response = self.route(request)
        self.requests.record(path: request.path, code: response.status)
        return response
    }

    private func route(_ request: HTTPRequest) -> HTTPResponse {
        let known = [Self.metricsPath, Self.livenessPath, Self.healthzPath, Self.readinessPath]
        guard known.contains(request.path) else {
            return Self.plain("not found\n", status: 404)
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = Self.plain("method not allowed\n", status: 405)
            response.headers.add(name: "Allow", value: "GET, HEAD")
            return response
        }
        switch request.path {
        case Self.metricsPath:
            if let failure = self.authorizationFailure(request) { return failure }
            let gzip: @Sendable ([UInt8]) -> [UInt8]? = { [gzipChunks] bytes in gzipChunks.compress(bytes) }
            let exposition = self.registry.renderExposition(compressor: request.acceptsGzip ? gzip : nil)
            return HTTPResponse(
                status: 200,
                headers: ["Content-Type": MetricsRegistry.contentType, "Cache-Control": "no-store"],
                body: exposition.bytes
            ).encoded(for: request) { _ in exposition.compressed }
        case Self.readinessPath:
            let report = self.health.report()
            return HTTPResponse(
                status: report.isReady ? 200 : 503,
                headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
                body: Array(report.json.utf8)
            )
        default:
            return Self.plain("ok\n", status: 200)
        }
    }

    /// nil when `/metrics` may be served, else the 401 answer.
    private func authorizationFailure(_ request: HTTPRequest) -> HTTPResponse? {
        guard let token = self.token else { return nil }
        guard let presented = Self.bearerToken(request.headers["Authorization"]) else {
            var response = Self.plain("unauthorized\n", status: 401)
            response.headers.add(name: "WWW-Authenticate", value: #"Bearer realm="slotworker-metrics""#)
            return response
        }
        guard Self.constantTimeEquals(Array(presented.utf8), token) else {
            var response = Self.plain("unauthorized\n", status: 401)
            response.headers.add(
                name: "WWW-Authenticate",
                value: #"Bearer realm="slotworker-metrics", error="invalid_token""#
            )
            return response
        }
        return nil
    }

    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive), or nil.
    static func bearerToken(_ authorization: String?) -> Substring? {
        guard let authorization else { return nil }
        let trimmed = authorization.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).drop { $0 == " " }
        var end = token.endIndex
        while end > token.startIndex, token[token.index(before: end)] == " " { end = token.index(before: end) }
        return token[..<end].isEmpty ? nil : token[..<end]
    }

    /// Compares `presented` with `expected` in time that depends only on `expected`'s length.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in expected.indices {
            let byte = index < presented.count ? presented[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }

    private static func plain(_ text: String, status: Int) -> HTTPResponse {
        var response = HTTPResponse.text(text, status: status)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }
}
