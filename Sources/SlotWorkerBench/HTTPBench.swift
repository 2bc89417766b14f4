import Foundation
import HTTPServer
import JobQueue
import Logging
import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient
import Repositories
import SlotWorkerApp
import Synchronization
import Tasks

/// `http`: the monitoring endpoints under `wrk`, and `/livez` under abuse.
///
/// - `/metrics` of a registry defined like a running worker's (every repository operation it can run, the domain
///   tasks', the worker's job kinds, pool, process, build and HTTP metrics) holding recorded values in every series
///   (`http-metrics-series`: more than a running worker shows, which has the series of the operations it ran so
///   far), wrk with 8 connections for 10 s: p99 latency (goal ≤ 5 ms), plain and gzip-encoded (what Prometheus
///   asks for). Meanwhile a thread keeps recording like a busy worker (`--busy-rate`, default 2,000 repository
///   operations per second and a finished job every tenth), so scrapes see changing values; stderr adds the
///   server's CPU per answer (less sensitive to the load of a shared machine than latency).
/// - `/livez`, same load: requests per second (goal ≥ 20,000).
/// - 1,000 idle connections and a slow-loris client from 127.0.0.1 while a probe from 127.0.0.2 asks `/livez`:
///   the slowest probe answer (goal ≤ 100 ms). The per-IP connection limit is what keeps the probe served.
///
/// - `--wrk-threads N` (default 2) sets wrk's threads; the connections stay 8.
/// - With `--nginx PATH`: each of the three wrk runs is followed by the same run against nginx serving the same
///   bytes as static files (see ``StaticFileServer``): `…-vs-static` figures, the p99 with nginx's as the baseline,
///   tell this machine's own latency floor from the answer's cost.
///
/// A wrk run with any non-2xx answer, any socket error or no completed request fails the benchmark.
enum HTTPBench {
    static func run(_ arguments: BenchArguments, configuration: PostgresConfiguration) async throws {
        guard let path = arguments.values["wrk"] else { throw BenchFailure("--wrk PATH is required") }
        let wrk = Wrk(
            path: path, threads: arguments.int("wrk-threads", default: 2),
            seconds: arguments.int("seconds", default: 10))
        let logger = Logger(label: "bench")
        let registry = MetricsRegistry(logger: logger)
        let (endpoints, busy) = try workerLikeEndpoints(
            registry: registry, configuration: configuration, logger: logger)
        let busyRate = arguments.int("busy-rate", default: 2_000)
        let text = registry.renderString()
        let series = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        let zeroHistograms = text.split(separator: "\n").filter { $0.contains("_count") && $0.hasSuffix(" 0") }.count
        // Best and median of 50, so a loaded machine's preemptions show as a spread rather than a bigger mean.
        let renders = timings(50) { _ = registry.render() }
        let body = registry.render()
        var gzipBytes = 0
        let compressions = timings(50) { gzipBytes = Gzip.compress(body)?.count ?? 0 }
        let both = timings(50) { _ = Gzip.compress(registry.render()) }

        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                threadPoolSize: arguments.int("threads", default: HTTPServerConfiguration().threadPoolSize)),
            logger: logger,
            handler: endpoints.handler
        )
        let port = try server.start()
        // The encoding the endpoint serves (changed chunks compressed apart), also nginx's file below.
        let chunked = GzipChunkCache().compress(body) ?? []
        FileHandle.standardError.write(
            Data(
                """
                http bench: /metrics has \(series) series (\(zeroHistograms) histogram series without observations), \
                \(body.count) bytes, \(gzipBytes) gzipped in one piece, \(chunked.count) in chunks; one render \
                takes \(renders.best) ms (median \(renders.median)), gzip \(compressions.best) ms (median \(compressions.median)), both \(both.best) ms (median \(both.median)); port \(port)

                """.utf8)
        )

        let refusedBefore = nonOKAnswers(registry)
        // The same bytes as files, for nginx: the exposition as rendered above, its gzip encoding as the endpoint
        // makes it, and /livez's answer.
        let livez = try RawSocket.request(port: port, source: "127.0.0.1", path: "/livez")
        let files: [String: [UInt8]] = [
            "metrics": body, "metrics.gz": chunked,
            "livez": Array(livez.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n").utf8),
        ]
        let livezRun = try withReference(arguments.values["nginx"], files) { reference in
            let metricsRun = try whileBusy(rate: busyRate, busy) {
                try wrk.run("http://127.0.0.1:\(port)/metrics")
            }
            BenchFigure(
                bench: "http-metrics-p99", value: metricsRun.p99Milliseconds, unit: "ms", baseline: 5,
                higherIsBetter: false
            ).print()
            try reference?.compare("http-metrics-p99-vs-static", metricsRun, path: "/metrics") { url in
                try whileBusy(rate: busyRate, busy) { try wrk.run(url) }
            }
            let gzip = ["Accept-Encoding: gzip"]
            let gzipRun = try whileBusy(rate: busyRate, busy) {
                try wrk.run("http://127.0.0.1:\(port)/metrics", headers: gzip)
            }
            BenchFigure(
                bench: "http-metrics-gzip-p99", value: gzipRun.p99Milliseconds, unit: "ms", baseline: 5,
                higherIsBetter: false
            ).print()
            try reference?.compare("http-metrics-gzip-p99-vs-static", gzipRun, path: "/metrics.gz") { url in
                try whileBusy(rate: busyRate, busy) { try wrk.run(url, headers: gzip) }
            }
            BenchFigure(
                bench: "http-metrics-series", value: Double(series), unit: "series", baseline: 1500,
                higherIsBetter: false
            ).print()
            let livezRun = try wrk.run("http://127.0.0.1:\(port)/livez")
            try reference?.compare("http-livez-p99-vs-static", livezRun, path: "/livez") {
                try wrk.run($0)
            }
            return livezRun
        }
        // wrk does not count 3xx answers as errors; the server's own counter sees every status it sent.
        let refused = nonOKAnswers(registry) - refusedBefore
        guard refused == 0 else { throw BenchFailure("the server answered \(Int(refused)) requests with a non-200") }
        BenchFigure(
            bench: "http-livez-throughput", value: livezRun.requestsPerSecond, unit: "requests/s", baseline: 20_000
        ).print()

        let slowest = try await abuse(port: port)
        BenchFigure(
            bench: "http-livez-under-abuse-max", value: slowest, unit: "ms", baseline: 100, higherIsBetter: false
        ).print()
        await server.stop()
    }

    /// The endpoints of a registry defined as `slot-worker run` defines it, with recorded values in every series.
    ///
    /// Definitions: process and build metrics, pool metrics, the domain tasks' metrics, every repository operation
    /// the worker can run (the queue's, the Telegram limiter's, and the catalog's less the generic CRUD ones), the
    /// job metrics of the worker's registered kinds (handlers registered as the worker does; nothing connects to
    /// the database). A running worker shows fewer: an operation's series appear when it first runs. Values: a
    /// deterministic pseudo-random spread of durations over every repository operation (some failing), transaction,
    /// job kind, claim and pool wait, so buckets, sums and counts are the numbers a busy worker renders rather than
    /// zeros.
    static func workerLikeEndpoints(
        registry: MetricsRegistry,
        configuration: PostgresConfiguration,
        logger: Logger
    ) throws -> (endpoints: MonitoringEndpoints, busy: @Sendable (UInt64) -> Void) {
        _ = ProcessMetrics(registry: registry)  // refreshed by its own pre-scrape hook
        BuildInfo(version: SlotWorkerVersion.current).register(in: registry)
        let pool = PoolMetrics(registry: registry) {
            PostgresPoolStatistics(idle: 7, inUse: 3, waiting: 0, maxConnections: 10)
        }
        let repository = RepositoryMetrics(registry: registry)
        let jobs = PrometheusJobQueueMetrics(registry: registry)
        let domain = PrometheusSlotTasksMetrics(registry: registry)
        var jobRegistry = JobRegistry()
        let database = Database(pool: PostgresPool(configuration: configuration), logger: logger)
        SlotTasks.register(
            in: &jobRegistry, database: database, sender: LoggingMessageSender(logger: logger),
            settings: ReminderSettings(), observer: domain)
        let kinds = jobRegistry.kinds
        jobs.prepare(kinds: kinds)
        let health = HealthState(checks: ["database"])
        health.update(check: "database", ok: true, detail: "bench")
        let endpoints = MonitoringEndpoints(registry: registry, health: health)

        var random = SplitMix64(seed: 0x5107)
        /// Log-uniform between `low` and `high` seconds.
        func duration(_ low: Double, _ high: Double) -> Duration {
            .seconds(exp(log(low) + (log(high) - log(low)) * random.nextUnit()))
        }
        let errors = RepositoryErrorClass.allCases
        // The operations `slot-worker run` can run: its series appear on first use, and the generic CRUD ones
        // serve the demo seed and the tests, not the worker.
        var operations = RepositoryCatalog.operations
        operations[JobTable.repositoryName] = JobTable.operations
        operations[TelegramLimitRepository.repositoryName] = TelegramLimitRepository.operations
        let crud = Set(Repository<JobTable>.crudOperations)
        operations = operations.mapValues { $0.filter { !crud.contains($0) } }
        for (name, names) in operations {
            for operation in names {
                for index in 0..<200 {
                    let error = index % 50 == 0 ? errors[Int(random.next() % UInt64(errors.count))] : nil
                    repository.recordOperation(
                        repository: name, operation: operation, duration: duration(0.00005, 2), error: error)
                }
            }
        }
        for index in 0..<2000 {
            repository.recordTransaction(
                outcome: index % 20 == 0 ? .rolledBack : .committed, duration: duration(0.0005, 5))
            pool.didAcquire(wait: duration(0.000001, 0.5))
        }
        for kind in kinds {
            for index in 0..<500 {
                jobs.started(kind: kind, wait: duration(0.0005, 600))
                let outcome: JobOutcome = index % 25 == 0 ? .retried : .succeeded
                jobs.finished(kind: kind, outcome: outcome, duration: duration(0.001, 120))
            }
        }
        for offset in ReminderSettings().offsets {
            for index in 0..<500 {
                domain.reminderSent(offset: offset, lagSeconds: duration(0.01, 900).seconds)
                domain.reminderFinished(offset: offset, outcome: ReminderOutcome.all[index % ReminderOutcome.all.count])
                domain.telegramRequest(
                    method: "sendMessage", status: index % 50 == 0 ? "429" : "200", duration: duration(0.01, 30))
            }
        }
        for _ in 0..<1000 { jobs.claimed(count: Int(random.next() % 1000) + 1) }
        jobs.capacityChanged(by: 32)
        jobs.pollSucceeded(at: Date())
        let pairs = operations.flatMap { name, names in names.map { (name, $0) } }
        let busy: @Sendable (UInt64) -> Void = { draw in
            let (name, operation) = pairs[Int(draw % UInt64(pairs.count))]
            let seconds = Double(draw >> 40) / Double(1 << 24) * 0.05
            repository.recordOperation(repository: name, operation: operation, duration: .seconds(seconds), error: nil)
            if draw % 10 == 0 {
                let kind = kinds[Int((draw >> 8) % UInt64(kinds.count))]
                jobs.finished(kind: kind, outcome: .succeeded, duration: .seconds(seconds * 10))
            }
        }
        return (endpoints, busy)
    }

    /// Runs `body` while another thread records `rate` events per second through `record` (a repository operation
    /// each, a finished job every tenth), as a busy worker's Units of Work and jobs do between two scrapes.
    static func whileBusy<T>(rate: Int, _ record: @escaping @Sendable (UInt64) -> Void, _ body: () throws -> T) rethrows
        -> T
    {
        let stop = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            var random = SplitMix64(seed: 0xB05E)
            let interval = 1.0 / Double(max(rate, 1))
            var next = Date().timeIntervalSinceReferenceDate
            while !stop.load(ordering: .relaxed) {
                record(random.next())
                next += interval
                let wait = next - Date().timeIntervalSinceReferenceDate
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            finished.signal()
        }
        thread.start()
        defer {
            stop.store(true, ordering: .relaxed)
            finished.wait()
        }
        return try body()
    }

    /// nginx serving the monitoring server's answers as static files, when the benchmark is given `--nginx PATH`.
    struct Reference {
        let server: StaticFileServer

        /// Runs the same load (`run`, given the URL) against nginx's copy of `path` right after the monitoring
        /// server's run, and prints `name`: the monitoring server's p99 with nginx's as its baseline (ratio above 1:
        /// faster than nginx sending the same bytes).
        func compare(_ name: String, _ ours: WrkResult, path: String, _ run: (String) throws -> WrkResult) throws {
            let nginxRun = try run(server.baseURL + path)
            BenchFigure(
                bench: name, value: ours.p99Milliseconds, unit: "ms", baseline: nginxRun.p99Milliseconds,
                higherIsBetter: false
            ).print()
        }
    }

    /// Runs `body` with a ``Reference`` serving `files` when `nginx` is a path, else with nil.
    static func withReference<T>(_ nginx: String?, _ files: [String: [UInt8]], _ body: (Reference?) throws -> T)
        throws -> T
    {
        guard let nginx else { return try body(nil) }
        return try StaticFileServer.serving(files, executable: nginx) { try body(Reference(server: $0)) }
    }

    /// The best and the median time of `count` runs of `work`, in milliseconds.
    static func timings(_ count: Int, _ work: () -> Void) -> (best: Double, median: Double) {
        let milliseconds = (0..<count).map { _ in ContinuousClock().measure(work).seconds * 1000 }.sorted()
        return (milliseconds[0], milliseconds[count / 2])
    }

    /// Requests the monitoring server answered with another status than 200, from its own counter.
    static func nonOKAnswers(_ registry: MetricsRegistry) -> Double {
        registry.renderString().split(separator: "\n")
            .filter { $0.hasPrefix("slotworker_http_requests_total{") && !$0.contains(#"code="200""#) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    struct WrkResult {
        var requestsPerSecond: Double
        var p99Milliseconds: Double
    }

    /// wrk with 8 connections for `seconds`, on `threads` threads (`--wrk-threads`, default 2).
    struct Wrk {
        let path: String
        let threads: Int
        let seconds: Int

        /// Runs wrk against `url` and reads its report.
        ///
        /// - Throws: ``BenchFailure`` when wrk fails, reports non-2xx/3xx answers or socket errors, completes no
        ///   request, or prints no latency distribution.
        func run(_ url: String, headers: [String] = []) throws -> WrkResult {
            let cpuBefore = HTTPBench.processCPUSeconds()

            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            let load = ["-t", "\(threads)", "-c", "8", "-d", "\(seconds)s", "--latency"]
            process.arguments = load + headers.flatMap { ["-H", $0] } + [url]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            FileHandle.standardError.write(Data(output.utf8))
            guard process.terminationStatus == 0 else {
                throw BenchFailure("wrk \(url) exited with status \(process.terminationStatus)")
            }
            let report = WrkReport(output)
            // The server's CPU per answer depends far less on the other load of a shared machine than latency does.
            let cpu = (HTTPBench.processCPUSeconds() - cpuBefore) * 1_000_000 / Double(max(report.requests, 1))
            // Against nginx this is the recording thread's share alone.
            FileHandle.standardError.write(
                Data("http bench: this process's CPU \(Int(cpu)) µs per request (server and recording thread)\n".utf8))
            guard report.problems.isEmpty else {
                throw BenchFailure("wrk \(url) \(headers): \(report.problems.joined(separator: "; "))")
            }
            return WrkResult(requestsPerSecond: report.requestsPerSecond, p99Milliseconds: report.p99Milliseconds)
        }
    }

    /// User and system CPU seconds of this process so far (all its threads: the server's among them).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
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

/// SplitMix64: a tiny deterministic generator, so every run records the same values.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in [0, 1).
    mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}
