import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization

/// `queue-latency --jobs N` and `queue-delay --jobs N`: how quickly an idle runner (LISTEN on, polling every
/// second as by default) starts jobs.
///
/// - `queue-latency`: N sequential jobs: enqueue one job (its own autocommit INSERT, NOTIFY on commit), wait until
///   its handler has started, repeat. The sample is from just before the enqueue call to the handler's first
///   instruction. Figures `queue-latency-p50` (goal ≤ 2 ms) and `queue-latency-p99` (goal ≤ 6 ms).
/// - `queue-delay`: N jobs enqueued one by one (2 ms apart) with `run_at` 200–1000 ms ahead; the sample is the
///   handler's start minus its job's `run_at`. Figure `queue-delay-p99` (goal ≤ 10 ms), and the p50.
enum QueueLatencyBench {
    /// Handler starts, handed from the handler to the benchmark loop.
    final class Starts: Sendable {
        let stream: AsyncStream<Double>
        let continuation: AsyncStream<Double>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream(of: Double.self) }
    }

    struct Probe: Codable, Sendable {}

    /// Samples collected inside a sendable closure.
    final class Recorder: Sendable {
        private let samples = Mutex<[Double]>([])
        func append(_ value: Double) { samples.withLock { $0.append(value) } }
        var values: [Double] { samples.withLock { $0 } }
    }

    static func runner(database: Database, register: (inout JobRegistry) -> Void) -> JobRunner {
        var registry = JobRegistry()
        register(&registry)
        return JobRunner(
            configuration: JobRunnerConfiguration(concurrency: 10),
            registry: registry,
            database: database,
            logger: QueueBench.logger
        )
    }

    static func latency(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let count = arguments.int("jobs", default: 1000)
        let name = "slotworker_bench_queue_latency"
        let configuration = try await QueueBench.freshDatabase(name, server: server)
        let database = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 6)),
            logger: QueueBench.logger
        )
        let starts = Starts()
        let clockOrigin = ContinuousClock.now
        let runner = runner(database: database) { registry in
            registry.register(kind: "probe", payload: Probe.self) { _, _ in
                starts.continuation.yield((ContinuousClock.now - clockOrigin).seconds)
                return .success
            }
        }
        let client = JobQueueClient(database: database)
        let warmUp = 50
        let enqueueCalls = Recorder()
        let samples = try await QueueBench.bounded(
            by: .seconds(120), onTimeout: { starts.continuation.finish() }
        ) { () async throws -> [Double] in
            try await withThrowingTaskGroup(of: [Double]?.self) { group in
                group.addTask {
                    try await runner.run()
                    return nil
                }
                try await Task.sleep(for: .milliseconds(500))  // first claim done, LISTEN established
                var iterator = starts.stream.makeAsyncIterator()
                var samples: [Double] = []
                for index in 0..<(warmUp + count) {
                    let before = (ContinuousClock.now - clockOrigin).seconds
                    _ = try await client.enqueue(NewJob(kind: "probe")).get()
                    let enqueued = (ContinuousClock.now - clockOrigin).seconds
                    guard let started = await iterator.next() else { throw BenchFailure("queue-latency: stopped") }
                    if index >= warmUp {
                        samples.append((started - before) * 1000)
                        enqueueCalls.append((enqueued - before) * 1000)
                    }
                }
                runner.triggerGracefulShutdown()
                try await group.waitForAll()
                return samples
            }
        }
        await database.pool.close()
        await QueueBench.dropDatabase(name, server: server)
        let latencies = Milliseconds(samples)
        QueueBench.log("queue-latency: enqueue → handler start \(latencies.summary)")
        QueueBench.log(
            "queue-latency: of which the enqueue call (INSERT, commit) \(Milliseconds(enqueueCalls.values).summary)")
        BenchFigure(
            bench: "queue-latency-p50", value: latencies.percentile(50), unit: "ms", baseline: 2, higherIsBetter: false
        ).print()
        BenchFigure(
            bench: "queue-latency-p99", value: latencies.percentile(99), unit: "ms", baseline: 6, higherIsBetter: false
        ).print()
    }

    static func delay(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let count = arguments.int("jobs", default: 200)
        let name = "slotworker_bench_queue_delay"
        let configuration = try await QueueBench.freshDatabase(name, server: server)
        let database = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 6)),
            logger: QueueBench.logger
        )
        let lags = Starts()
        let runner = runner(database: database) { registry in
            registry.register(kind: "timed", payload: Probe.self) { _, job in
                lags.continuation.yield(Date().timeIntervalSince(job.runAt) * 1000)
                return .success
            }
        }
        let client = JobQueueClient(database: database)
        let samples = try await QueueBench.bounded(
            by: .seconds(60), onTimeout: { lags.continuation.finish() }
        ) { () async throws -> [Double] in
            try await withThrowingTaskGroup(of: [Double]?.self) { group in
                group.addTask {
                    try await runner.run()
                    return nil
                }
                try await Task.sleep(for: .milliseconds(500))
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    for _ in 0..<count {
                        let ahead = Double.random(in: 0.2...1.0, using: &generator)
                        _ = try await client.enqueue(NewJob(kind: "timed", schedule: .at(Date() + ahead))).get()
                        try await Task.sleep(for: .milliseconds(2))
                    }
                    return nil
                }
                var samples: [Double] = []
                for await lag in lags.stream {
                    samples.append(lag)
                    if samples.count == count { break }
                }
                runner.triggerGracefulShutdown()
                try await group.waitForAll()
                return samples
            }
        }
        await database.pool.close()
        await QueueBench.dropDatabase(name, server: server)
        guard samples.count == count else { throw BenchFailure("queue-delay: \(samples.count) of \(count) ran") }
        let lagsMs = Milliseconds(samples)
        QueueBench.log("queue-delay: run_at → handler start \(lagsMs.summary)")
        BenchFigure(
            bench: "queue-delay-p99", value: lagsMs.percentile(99), unit: "ms", baseline: 10, higherIsBetter: false
        ).print()
        BenchFigure(
            bench: "queue-delay-p50", value: lagsMs.percentile(50), unit: "ms", baseline: nil, higherIsBetter: false
        ).print()
    }
}
