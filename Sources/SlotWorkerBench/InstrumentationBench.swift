import Logging
import Monitoring
import MonitoringAdapters
import Persistence
import PostgresClient

/// `instrumentation`: the cost `RepositoryContext.run` adds by timing, classifying and recording an operation
/// into the Prometheus registry, against `runBare` on the same call.
///
/// Two figures: the added cost per call with a body that does no I/O (the instrumentation alone, median of
/// 50 rounds of 10,000 calls), and the median latency of a real `SELECT` repository call instrumented vs. bare
/// (interleaved, 20,000 each), whose difference is within the database's noise.
enum InstrumentationBench {
    static func run(_ arguments: BenchArguments, configuration: PostgresConfiguration) async throws {
        let registry = MetricsRegistry(logger: Logger(label: "bench"))
        let metrics = RepositoryMetrics(registry: registry)
        metrics.prepare(repository: "bench", operations: ["probe"])
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 1))
        try await pool.withConnection { connection in
            let instrumented = RepositoryContext(connection: connection, observer: metrics, unitOfWork: nil)

            // 1. Instrumentation alone.
            let rounds = 50
            let callsPerRound = 10_000
            var addedPerCall: [Double] = []
            for _ in 0..<rounds {
                let bareStart = ContinuousClock.now
                for index in 0..<callsPerRound {
                    _ = await instrumented.runBare(repository: "bench", operation: "probe") { _ in index }
                }
                let bare = (ContinuousClock.now - bareStart).seconds
                let timedStart = ContinuousClock.now
                for index in 0..<callsPerRound {
                    _ = await instrumented.run(repository: "bench", operation: "probe") { _ in index }
                }
                let timed = (ContinuousClock.now - timedStart).seconds
                addedPerCall.append((timed - bare) / Double(callsPerRound) * 1e9)
            }
            addedPerCall.sort()
            BenchFigure(
                bench: "instrumentation-added-per-call",
                value: percentile(addedPerCall, 50),
                unit: "ns",
                baseline: 1000,
                higherIsBetter: false
            ).print()

            // 2. A real repository call, instrumented vs. bare.
            var bareSamples: [Double] = []
            var timedSamples: [Double] = []
            let sql = "SELECT id FROM generate_series(1, 1) AS id WHERE id = $1"
            for index in 0..<20_000 {
                let start = ContinuousClock.now
                if index % 2 == 0 {
                    _ = await instrumented.runBare(repository: "bench", operation: "probe") { connection in
                        try await connection.query(sql, [1], prepared: true)
                    }
                    bareSamples.append((ContinuousClock.now - start).seconds * 1e6)
                } else {
                    _ = await instrumented.run(repository: "bench", operation: "probe") { connection in
                        try await connection.query(sql, [1], prepared: true)
                    }
                    timedSamples.append((ContinuousClock.now - start).seconds * 1e6)
                }
            }
            bareSamples.sort()
            timedSamples.sort()
            BenchFigure(
                bench: "instrumentation-repository-call-p50",
                value: percentile(timedSamples, 50),
                unit: "µs",
                baseline: percentile(bareSamples, 50),
                higherIsBetter: false
            ).print()
        }
        await pool.close()
    }
}
