import Foundation
import JobQueue
import Persistence
import PostgresClient

/// `queue-enqueue --jobs N [--rounds R]`: bulk enqueue through `JobQueueClient.enqueue([NewJob])`, the path of the
/// CLI's bulk enqueue: N `noop` jobs in one call (one transaction, one statement per 5,000 jobs). One warm-up
/// call of 5,000 jobs, then R timed calls (default 3) into the same fresh database; the figure is the median
/// call's jobs/s (`queue-enqueue`, baseline: the 100,000 jobs/s goal).
enum QueueEnqueueBench {
    static let databaseName = "slotworker_bench_queue_enqueue"

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let count = arguments.int("jobs", default: 100_000)
        let rounds = max(1, arguments.int("rounds", default: 3))
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let database = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 2)),
            logger: QueueBench.logger
        )
        let client = JobQueueClient(database: database)
        let jobs = (0..<count).map { _ in NewJob(kind: "noop") }
        let rates = try await QueueBench.bounded(by: .seconds(120), onTimeout: { exit(1) }) {
            () async throws -> [Double] in
            _ = try await client.enqueue(Array(jobs.prefix(5000))).get()
            var rates: [Double] = []
            for _ in 0..<rounds {
                let cpuBefore = QueueBench.processCPUSeconds()
                let start = ContinuousClock.now
                let results = try await client.enqueue(jobs).get()
                let elapsed = ContinuousClock.now - start
                let cpu = QueueBench.processCPUSeconds() - cpuBefore
                guard results.count == count else { throw BenchFailure("queue-enqueue: \(results.count) results") }
                rates.append(Double(count) / elapsed.seconds)
                QueueBench.log(
                    "queue-enqueue: \(count) jobs in \(elapsed) → \(Int(Double(count) / elapsed.seconds))/s; "
                        + String(format: "bench process CPU %.2f s", cpu))
            }
            return rates
        }
        let stored: Int = try await database.pool.query("SELECT count(*) AS n FROM jobs")[0].decode("n")
        await database.pool.close()
        await QueueBench.dropDatabase(databaseName, server: server)
        guard stored == 5000 + rounds * count else { throw BenchFailure("queue-enqueue: \(stored) rows stored") }
        BenchFigure(
            bench: "queue-enqueue", value: rates.sorted()[rates.count / 2], unit: "jobs/s", baseline: 100_000
        ).print()
    }
}
