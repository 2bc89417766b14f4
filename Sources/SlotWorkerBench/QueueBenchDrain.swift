import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization

/// `queue-drain --jobs N [--rounds K] [--baseline JOBS_PER_S] [--runners R] [--concurrency C] [--shipped true|false]`:
///
/// 1. The headline (unless `--shipped false`): the real `slot-worker run --exit-when-idle` (`SLOT_WORKER_BINARY`)
///    with the shipped default configuration on N pre-enqueued `noop` jobs, first claim to last completion, read from
///    the database (``QueueSustainedBench/shippedDrain(jobs:binary:server:extraArguments:label:)``), K times
///    (default 3: one drain of 100,000 jobs lasts about 3 s, and single drains of the same build differ by a quarter
///    on this VM). Figure `queue-drain-shipped-default`: the median, baseline the goal, 40,000 jobs/s.
/// 2. The best configuration beside it: N `noop` jobs bulk-enqueued (not timed), drained by R in-process runners
///    (each with its own pool, as separate worker processes would have) that stop by themselves once the queue is
///    idle (`exitWhenIdle`); jobs/s from the runners' start until the last runner returned, i.e. until the last
///    completion was written. Default 2 × 1,000: the best of 1–4 runners × 500–2,000 slots measured on 2 cores.
///    Figures: `queue-drain-shipped-vs-best` (the shipped default's rate against this one's, same run),
///    `queue-drain-vs-sql-ceiling` (baseline: the raw claim+complete rate of our own statements under pgbench, from
///    `queue-sql`, passed as `--baseline`; goal ratio ≥ 0.5) and `queue-drain-vs-goal` (baseline 30,000 jobs/s).
enum QueueDrainBench {
    static let databaseName = "slotworker_bench_queue_drain"

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let count = arguments.int("jobs", default: 100_000)
        let runnerCount = arguments.int("runners", default: 2)
        let concurrency = arguments.int("concurrency", default: 1000)
        var shipped: Double?
        if arguments.values["shipped"] != "false" {
            guard let binary = ProcessInfo.processInfo.environment["SLOT_WORKER_BINARY"], !binary.isEmpty else {
                throw BenchFailure("queue-drain: SLOT_WORKER_BINARY is not set (use scripts/bench, or --shipped false)")
            }
            var rates: [Double] = []
            for _ in 0..<max(arguments.int("rounds", default: 3), 1) {
                rates.append(
                    try await QueueSustainedBench.shippedDrain(
                        jobs: count, binary: binary, server: server, label: "queue-drain"))
            }
            let rate = rates.sorted()[rates.count / 2]
            QueueBench.log("queue-drain: shipped default drains \(rates.map { Int($0) }) jobs/s; median \(Int(rate))")
            BenchFigure(bench: "queue-drain-shipped-default", value: rate, unit: "jobs/s", baseline: 40_000).print()
            shipped = rate
        }
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let setup = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 2)),
            logger: QueueBench.logger
        )
        try await QueueBench.enqueueNoops(count, database: setup)
        QueueBench.log("queue-drain: \(count) noop jobs enqueued; draining with \(runnerCount) × \(concurrency)")

        let statistics = DrainStatistics()
        let databases = (0..<runnerCount).map { _ in
            Database(
                pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 4)),
                observer: statistics,
                logger: QueueBench.logger
            )
        }
        let runners = databases.map { database in
            // Defaults otherwise (LISTEN, 1 s poll, completions flushed at 100 or after 2 ms: while one flush runs,
            // the next batch grows, up to 1,000 per statement).
            var runnerConfiguration = JobRunnerConfiguration(concurrency: concurrency)
            runnerConfiguration.exitWhenIdle = true
            return JobRunner(
                configuration: runnerConfiguration, registry: JobRegistry(), database: database,
                observer: statistics, logger: QueueBench.logger)
        }
        let cpuBefore = QueueBench.processCPUSeconds()
        let start = ContinuousClock.now
        let elapsed = try await QueueBench.bounded(
            by: .seconds(120),
            onTimeout: { runners.forEach { $0.triggerGracefulShutdown() } }
        ) { () async throws -> Duration in
            await withDiscardingTaskGroup { group in
                for runner in runners { group.addTask { try? await runner.run() } }
            }
            return ContinuousClock.now - start
        }
        let cpu = QueueBench.processCPUSeconds() - cpuBefore
        for database in databases { await database.pool.close() }

        let done: Int = try await setup.pool.query(
            "SELECT count(*) AS n FROM jobs WHERE state = 'succeeded' AND attempts = 1"
        )[0].decode("n")
        await setup.pool.close()
        await QueueBench.dropDatabase(databaseName, server: server)
        guard done == count else {
            throw BenchFailure("queue-drain: only \(done) of \(count) jobs succeeded after \(elapsed)")
        }
        let rate = Double(count) / elapsed.seconds
        QueueBench.log(
            "queue-drain: \(count) jobs in \(elapsed) → \(Int(rate)) jobs/s; \(statistics.summary); "
                + String(format: "bench process CPU %.2f s (%.1f µs/job)", cpu, cpu / Double(count) * 1e6))
        if let shipped {
            BenchFigure(bench: "queue-drain-shipped-vs-best", value: shipped, unit: "jobs/s", baseline: rate).print()
        }
        BenchFigure(
            bench: "queue-drain-vs-sql-ceiling", value: rate, unit: "jobs/s", baseline: arguments.double("baseline")
        ).print()
        BenchFigure(bench: "queue-drain-vs-goal", value: rate, unit: "jobs/s", baseline: 30_000).print()
    }
}

/// Counts claims and times the runners' statements, for the drain's diagnostics on stderr.
final class DrainStatistics: JobQueueObserver, RepositoryObserver {
    private struct State {
        var claims = 0
        var claimed = 0
        var operations: [String: (count: Int, total: Duration)] = [:]
    }

    private let state = Mutex(State())

    func claimed(count: Int) {
        state.withLock {
            $0.claims += 1
            $0.claimed += count
        }
    }

    func prepare(repository: String, operations: [String]) {}
    func recordTransaction(outcome: TransactionOutcome, duration: Duration) {}
    func recordOperation(repository: String, operation: String, duration: Duration, error: RepositoryErrorClass?) {
        state.withLock { state in
            let entry = state.operations[operation, default: (0, .zero)]
            state.operations[operation] = (entry.count + 1, entry.total + duration)
        }
    }

    var summary: String {
        state.withLock { state in
            let operations = state.operations.sorted { $0.key < $1.key }.map { name, entry in
                String(
                    format: "%@ %d× %.2f ms avg (%.2f s)", name, entry.count,
                    entry.total.seconds * 1000 / Double(max(entry.count, 1)), entry.total.seconds)
            }
            return "\(state.claims) claims (\(state.claimed / max(state.claims, 1)) jobs avg); "
                + operations.joined(separator: "; ")
        }
    }
}
