import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import Schema

/// Shared pieces of the job-queue benchmarks (`queue-drain`, `queue-sql`, `queue-enqueue`, `queue-latency`,
/// `queue-delay`): each one works in a fresh database of its own on the server in `DATABASE_URL`.
enum QueueBench {
    /// A quiet logger: the benchmarks print only their figures (and progress on stderr).
    static let logger: Logger = {
        var logger = Logger(label: "bench.queue")
        logger.logLevel = .error
        return logger
    }()

    /// Progress for humans, on stderr (stdout carries only the JSON lines).
    static func log(_ message: String) {
        FileHandle.standardError.write(Data("queue bench: \(message)\n".utf8))
    }

    /// Drops (if it exists) and creates database `name` on the server of `server`, then applies every migration.
    /// Returns the new database's configuration.
    static func freshDatabase(_ name: String, server: PostgresConfiguration) async throws -> PostgresConfiguration {
        let admin = try await PostgresConnection.connect(server)
        try await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try await admin.execute("CREATE DATABASE \(name) TEMPLATE template0")
        await admin.close()
        let configuration = server.with(database: name)
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 1))
        try await Migrator(migrations: Schema.migrations, logger: logger).migrate(pool)
        await pool.close()
        return configuration
    }

    /// Drops a benchmark's database (its pools must be closed).
    static func dropDatabase(_ name: String, server: PostgresConfiguration) async {
        guard let admin = try? await PostgresConnection.connect(server) else { return }
        try? await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }

    /// User plus system CPU time of this process, in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Enqueues `count` `noop` jobs through the client's bulk path (chunks of 20,000, one call each).
    static func enqueueNoops(_ count: Int, database: Database) async throws {
        let client = JobQueueClient(database: database)
        var left = count
        while left > 0 {
            let chunk = min(left, 20_000)
            _ = try await client.enqueue([NewJob](repeating: NewJob(kind: "noop"), count: chunk)).get()
            left -= chunk
        }
    }

    /// Runs `body` against a watchdog: after `limit`, `onTimeout` is called once (it should make `body` end).
    static func bounded<T: Sendable>(
        by limit: Duration,
        onTimeout: @escaping @Sendable () -> Void,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                do {
                    try await Task.sleep(for: limit)
                } catch {
                    return nil
                }
                log("time limit of \(limit) reached; stopping")
                onTimeout()
                return nil
            }
            var value: T?
            while let next = try await group.next() {
                if let next {
                    value = next
                    group.cancelAll()
                }
            }
            guard let value else { throw BenchFailure("the benchmark did not finish") }
            return value
        }
    }
}

/// Samples in milliseconds: percentiles after sorting.
struct Milliseconds {
    let sorted: [Double]
    init(_ samples: [Double]) { sorted = samples.sorted() }
    func percentile(_ p: Double) -> Double { SlotWorkerBench.percentile(sorted, p) }
    var summary: String {
        String(
            format: "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (%d samples)",
            percentile(50), percentile(90), percentile(99), sorted.last ?? 0, sorted.count
        )
    }
}
