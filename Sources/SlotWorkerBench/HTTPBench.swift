import Foundation
import HTTPServer
import Logging
import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient

/// `http`: the monitoring endpoints under `wrk`, and `/livez` under abuse.
///
/// - `/metrics` with ≥ 2,000 series, wrk with 8 connections for 10 s: p99 latency (goal ≤ 10 ms).
/// - `/livez`, same load: requests per second (goal ≥ 20,000).
/// - 1,000 idle connections and a slow-loris client from 127.0.0.1 while a probe from 127.0.0.2 asks `/livez`:
///   the slowest probe answer (goal ≤ 100 ms). The per-IP connection limit is what keeps the probe served.
enum HTTPBench {
    static func run(_ arguments: BenchArguments) async throws {
        guard let wrk = arguments.values["wrk"] else { throw BenchFailure("--wrk PATH is required") }
        let seconds = arguments.int("seconds", default: 10)
        let registry = MetricsRegistry(logger: Logger(label: "bench"))
        let metrics = RepositoryMetrics(registry: registry)
        // 13 repositories × 4 operations × (16 buckets + sum + count) histogram series + failure counters.
        for repository in 0..<13 {
            metrics.prepare(repository: "repository_\(repository)", operations: ["get", "add", "update", "delete"])
        }
        let processMetrics = ProcessMetrics(registry: registry)
        registry.addPreScrapeHook { processMetrics.refresh() }
        let health = HealthState(checks: ["database"])
        health.update(check: "database", ok: true, detail: "bench")
        let endpoints = MonitoringEndpoints(registry: registry, health: health)
        let series = registry.renderString().split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        let renderStart = ContinuousClock.now
        for _ in 0..<50 { _ = registry.render() }
        let renderMilliseconds = (ContinuousClock.now - renderStart).seconds * 1000 / 50

        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                threadPoolSize: arguments.int("threads", default: HTTPServerConfiguration().threadPoolSize)),
            logger: Logger(label: "bench"),
            handler: endpoints.handler
        )
        let port = try server.start()
        FileHandle.standardError.write(
            Data(
                "http bench: /metrics has \(series) series, one render takes \(renderMilliseconds) ms, port \(port)\n"
                    .utf8)
        )

        let metricsRun = try runWrk(wrk, url: "http://127.0.0.1:\(port)/metrics", seconds: seconds)
        BenchFigure(
            bench: "http-metrics-p99", value: metricsRun.p99Milliseconds, unit: "ms", baseline: 10,
            higherIsBetter: false
        ).print()
        BenchFigure(bench: "http-metrics-series", value: Double(series), unit: "series", baseline: 2000).print()
        let livezRun = try runWrk(wrk, url: "http://127.0.0.1:\(port)/livez", seconds: seconds)
        BenchFigure(
            bench: "http-livez-throughput", value: livezRun.requestsPerSecond, unit: "requests/s", baseline: 20_000
        ).print()

        let slowest = try await abuse(port: port)
        BenchFigure(
            bench: "http-livez-under-abuse-max", value: slowest, unit: "ms", baseline: 100, higherIsBetter: false
        ).print()
        await server.stop()
    }

    struct WrkResult {
        var requestsPerSecond: Double
        var p99Milliseconds: Double
    }

    static func runWrk(_ wrk: String, url: String, seconds: Int) throws -> WrkResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t", "2", "-c", "8", "-d", "\(seconds)s", "--latency", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        FileHandle.standardError.write(Data(output.utf8))
        var result = WrkResult(requestsPerSecond: 0, p99Milliseconds: 0)
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "Requests/sec:", fields.count > 1 { result.requestsPerSecond = Double(fields[1]) ?? 0 }
            if fields.first == "99%", fields.count > 1 { result.p99Milliseconds = milliseconds(String(fields[1])) }
        }
        return result
    }

    /// wrk prints latencies as `812.00us`, `1.23ms` or `2.01s`.
    static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? 0) * 1000 }
        return 0
    }

    /// Holds 1,000 idle connections and a slow-loris client open from 127.0.0.1, probes `/livez` from 127.0.0.2
    /// twenty times, and returns the slowest probe in milliseconds.
    static func abuse(port: Int) async throws -> Double {
        var idle: [Int32] = []
        for _ in 0..<1000 {
            if let socket = try? RawSocket.connect(port: port, source: "127.0.0.1") { idle.append(socket) }
        }
        let loris = try RawSocket.connect(port: port, source: "127.0.0.1")
        defer {
            idle.forEach { close($0) }
            close(loris)
        }
        var slowest = 0.0
        for index in 0..<20 {
            _ = RawSocket.send(loris, index == 0 ? "GET /livez HTTP/1.1\r\n" : "X-Slow-\(index): y\r\n")
            let start = ContinuousClock.now
            let answer = try RawSocket.request(port: port, source: "127.0.0.2", path: "/livez")
            let elapsed = (ContinuousClock.now - start).seconds * 1000
            guard answer.hasPrefix("HTTP/1.1 200") else { throw BenchFailure("probe got: \(answer.prefix(60))") }
            slowest = max(slowest, elapsed)
            try await Task.sleep(for: .milliseconds(100))
        }
        FileHandle.standardError.write(Data("http bench: \(idle.count) idle connections opened\n".utf8))
        return slowest
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
