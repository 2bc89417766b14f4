import Foundation
import HTTPServer
import Prometheus
import Testing

@testable import Monitoring
@testable import MonitoringAdapters

#if canImport(Glibc)
    import Glibc
#endif

enum HTTPRequestFixture {
    static func get(_ path: String, method: String = "GET", headers: HTTPHeaders = HTTPHeaders()) -> HTTPRequest {
        HTTPRequest(method: method, path: path, headers: headers)
    }
}

@Suite("MonitoringEndpoints")
struct MonitoringEndpointsTests {
    @Test("/metrics answers Prometheus text 0.0.4 whatever the Accept header asks for")
    func metrics() throws {
        let registry = makeRegistry()
        registry.gauge("demo_value", help: "Demo.").set(to: 5)
        let endpoints = MonitoringEndpoints(registry: registry, health: HealthState())
        for accept in [nil, "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"] {
            var headers = HTTPHeaders()
            if let accept { headers.add(name: "Accept", value: accept) }
            let response = endpoints.handle(HTTPRequestFixture.get("/metrics", headers: headers))
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
            let exposition = try Exposition(String(decoding: response.body, as: UTF8.self))
            #expect(exposition.value("demo_value") == 5)
        }
    }

    @Test("/livez and /healthz answer ok without any check; unknown paths 404; other methods 405 with Allow")
    func routing() {
        let health = HealthState(checks: ["database"])
        let endpoints = MonitoringEndpoints(registry: makeRegistry(), health: health)
        for path in ["/livez", "/healthz"] {
            let response = endpoints.handle(HTTPRequestFixture.get(path))
            #expect(response.status == 200)
            #expect(response.body == Array("ok\n".utf8))
        }
        #expect(endpoints.handle(HTTPRequestFixture.get("/nope")).status == 404)
        #expect(endpoints.handle(HTTPRequestFixture.get("/metrics/")).status == 404)
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let response = endpoints.handle(HTTPRequestFixture.get("/readyz", method: method))
            #expect(response.status == 405)
            #expect(response.headers["Allow"] == "GET, HEAD")
        }
        #expect(endpoints.handle(HTTPRequestFixture.get("/livez", method: "HEAD")).status == 200)
    }

    @Test("/readyz is 503 until every check reported ok, 200 then, 503 again when shutting down")
    func readiness() throws {
        let health = HealthState(checks: ["database"], workerProgressStaleness: .seconds(60))
        let endpoints = MonitoringEndpoints(registry: makeRegistry(), health: health)
        func readyz() throws -> (Int, [String: Any]) {
            let response = endpoints.handle(HTTPRequestFixture.get("/readyz"))
            #expect(response.headers["Content-Type"] == "application/json")
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
            return (response.status, json)
        }
        var (status, json) = try readyz()
        #expect(status == 503)
        #expect(json["status"] as? String == "fail")
        var checks = json["checks"] as? [String: [String: Any]] ?? [:]
        #expect(Set(checks.keys) == ["database", "worker", "shutdown"])
        #expect(checks["database"]?["status"] as? String == "fail")
        #expect(checks["database"]?["detail"] as? String == "not yet measured")
        #expect(checks["database"]?["age_seconds"] is NSNull)

        health.update(check: "database", ok: true, detail: "SELECT 1 ok")
        (status, _) = try readyz()
        #expect(status == 503)  // the worker has not made progress yet
        health.recordProgress()
        (status, json) = try readyz()
        #expect(status == 200)
        #expect(json["status"] as? String == "ok")
        checks = json["checks"] as? [String: [String: Any]] ?? [:]
        #expect(checks["database"]?["status"] as? String == "ok")
        #expect((checks["database"]?["age_seconds"] as? Double).map { $0 >= 0 && $0 < 5 } == true)

        health.markShuttingDown()
        (status, json) = try readyz()
        #expect(status == 503)
        checks = json["checks"] as? [String: [String: Any]] ?? [:]
        #expect(checks["shutdown"]?["status"] as? String == "fail")
        #expect(checks["shutdown"]?["detail"] as? String == "shutting down")
        // Liveness does not care.
        #expect(endpoints.handle(HTTPRequestFixture.get("/livez")).status == 200)
    }

    @Test("the bearer token protects /metrics only; wrong or missing tokens get 401 with WWW-Authenticate")
    func bearerToken() {
        let endpoints = MonitoringEndpoints(
            registry: makeRegistry(),
            health: HealthState(checks: []),
            metricsBearerToken: "s3cret-token"
        )
        func metrics(_ authorization: String?) -> HTTPResponse {
            var headers = HTTPHeaders()
            if let authorization { headers.add(name: "authorization", value: authorization) }
            return endpoints.handle(HTTPRequestFixture.get("/metrics", headers: headers))
        }
        let missing = metrics(nil)
        #expect(missing.status == 401)
        #expect(missing.headers["WWW-Authenticate"] == #"Bearer realm="slotworker-metrics""#)
        for wrong in [
            "Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer ", "Basic czNjcmV0LXRva2Vu", "s3cret-token",
        ] {
            let response = metrics(wrong)
            #expect(response.status == 401, "\(wrong)")
            #expect(response.headers["WWW-Authenticate"]?.hasPrefix("Bearer realm=") == true)
            #expect(!String(decoding: response.body, as: UTF8.self).contains("s3cret"))
        }
        #expect(metrics("Bearer s3cret-token").status == 200)
        #expect(metrics("bearer  s3cret-token ").status == 200)
        #expect(endpoints.handle(HTTPRequestFixture.get("/readyz")).status == 200)
        #expect(endpoints.handle(HTTPRequestFixture.get("/livez")).status == 200)
    }

    @Test("constant-time comparison is exact")
    func constantTime() {
        let token = Array("abc".utf8)
        #expect(MonitoringEndpoints.constantTimeEquals(Array("abc".utf8), token))
        #expect(!MonitoringEndpoints.constantTimeEquals(Array("abd".utf8), token))
        #expect(!MonitoringEndpoints.constantTimeEquals(Array("ab".utf8), token))
        #expect(!MonitoringEndpoints.constantTimeEquals(Array("abc\0".utf8), token))
        #expect(!MonitoringEndpoints.constantTimeEquals([], token))
    }

    @Test("slotworker_http_requests_total counts by bounded path and code")
    func requestMetrics() throws {
        let registry = makeRegistry()
        let endpoints = MonitoringEndpoints(registry: registry, health: HealthState(checks: ["database"]))
        var exposition = try registry.parsed()
        #expect(exposition.value("slotworker_http_requests_total", ["path": "/readyz", "code": "503"]) == 0)
        #expect(exposition.value("slotworker_http_requests_total", ["path": "other", "code": "404"]) == 0)
        _ = endpoints.handle(HTTPRequestFixture.get("/readyz"))
        _ = endpoints.handle(HTTPRequestFixture.get("/livez"))
        _ = endpoints.handle(HTTPRequestFixture.get("/a"))
        _ = endpoints.handle(HTTPRequestFixture.get("/b"))
        _ = endpoints.handle(HTTPRequestFixture.get("/livez", method: "POST"))
        exposition = try registry.parsed()
        #expect(exposition.value("slotworker_http_requests_total", ["path": "/readyz", "code": "503"]) == 1)
        #expect(exposition.value("slotworker_http_requests_total", ["path": "/livez", "code": "200"]) == 1)
        #expect(exposition.value("slotworker_http_requests_total", ["path": "/livez", "code": "405"]) == 1)
        #expect(exposition.value("slotworker_http_requests_total", ["path": "other", "code": "404"]) == 2)
        #expect(exposition.value("slotworker_http_requests_total", ["path": "/metrics", "code": "200"]) == 0)
        #expect(
            exposition.samples(named: "slotworker_http_requests_total").allSatisfy {
                ["/metrics", "/livez", "/healthz", "/readyz", "other"].contains($0.labels["path"] ?? "")
            })
    }

    @Test("served over HTTPServer: GET and HEAD /metrics, /readyz reflects the shutdown hook")
    func overHTTP() async throws {
        let (registry, _) = makeFullRegistry()
        let health = HealthState(checks: [])
        let endpoints = MonitoringEndpoints(registry: registry, health: health)
        let server = HTTPServer(
            logger: quietLogger,
            onShutdown: { health.markShuttingDown() },
            handler: endpoints.handler
        )
        let port = try server.start()
        let (get, head, ready) = try await onThread {
            (
                try httpRequest(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                try httpRequest(port: port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                try httpRequest(port: port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            )
        }
        #expect(get.hasPrefix("HTTP/1.1 200"))
        #expect(get.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(get.contains("# TYPE slotworker_repository_operation_duration_seconds histogram\n"))
        #expect(head.hasPrefix("HTTP/1.1 200"))
        #expect(head.hasSuffix("\r\n\r\n"))  // headers only
        #expect(head.contains("Content-Length: "))
        #expect(ready.hasPrefix("HTTP/1.1 200"))
        #expect(
            ready.hasSuffix(
                #"{"status":"ok","checks":{"shutdown":{"status":"ok","detail":"serving","age_seconds":null}}}"#))
        await server.stop()
        #expect(health.isShuttingDown)
        #expect(!health.isReady())
    }

    @Test("served over HTTPServer: /metrics is gzip-encoded for a scraper that asks, with Vary; plain otherwise")
    func gzipOverHTTP() async throws {
        let (registry, _) = makeFullRegistry()
        let endpoints = MonitoringEndpoints(registry: registry, health: HealthState(checks: []))
        let server = HTTPServer(logger: quietLogger, handler: endpoints.handler)
        let port = try server.start()
        // What Prometheus sends (its scrape requests always offer gzip).
        let prometheusLike =
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"
            + "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n"
        let (gzipped, plain) = try await onThread {
            (
                try httpExchange(port: port, prometheusLike),
                try httpExchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            )
        }
        await server.stop()
        #expect(gzipped.head.hasPrefix("HTTP/1.1 200"))
        #expect(gzipped.head.contains("\r\nContent-Encoding: gzip"))
        #expect(gzipped.head.contains("\r\nVary: Accept-Encoding"))
        #expect(gzipped.head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(gzipped.head.contains("\r\nContent-Length: \(gzipped.body.count)"))
        #expect(!plain.head.contains("Content-Encoding"))
        #expect(plain.head.contains("\r\nVary: Accept-Encoding"))
        #expect(gzipped.body.count * 4 < plain.body.count)
        let text = String(decoding: try gunzip(gzipped.body), as: UTF8.self)
        let exposition = try Exposition(text)
        #expect(exposition.types["slotworker_repository_operation_duration_seconds"] == "histogram")
        #expect(try Exposition(String(decoding: plain.body, as: UTF8.self)).samples.count == exposition.samples.count)
        try expectPromtoolAccepts(text)
    }
}

/// Sends `request` on a new connection and reads until the server closes it.
func httpRequest(port: Int, _ request: String) throws -> String {
    String(decoding: try httpRequestBytes(port: port, request), as: UTF8.self)
}

/// ``httpRequest(port:_:)`` as raw bytes, split into the head (status line and headers) and the body.
func httpExchange(port: Int, _ request: String) throws -> (head: String, body: [UInt8]) {
    let bytes = try httpRequestBytes(port: port, request)
    let marker: [UInt8] = [13, 10, 13, 10]
    guard let end = bytes.indices.dropLast(3).first(where: { Array(bytes[$0..<$0 + 4]) == marker }) else {
        throw ExpositionError(description: "no end of head in \(bytes.count) bytes")
    }
    return (String(decoding: bytes[..<end], as: UTF8.self), Array(bytes[(end + 4)...]))
}

/// Sends `request` on a new connection and reads every byte until the server closes it.
func httpRequestBytes(port: Int, _ request: String) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw ExpositionError(description: "connect failed: errno \(errno)") }
    let bytes = Array(request.utf8)
    guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
        throw ExpositionError(description: "write failed")
    }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else {
            if count < 0 { throw ExpositionError(description: "read failed: errno \(errno)") }
            break
        }
        response += chunk[..<count]
    }
    return response
}

/// gunzip with Python's `gzip` module (independent of the server's zlib call; checks the CRC and length trailer).
func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c", "import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))",
    ]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: Data(bytes))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ExpositionError(description: "gzip.decompress failed") }
    return Array(data)
}

/// Runs blocking socket work on its own thread, off Swift's cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
