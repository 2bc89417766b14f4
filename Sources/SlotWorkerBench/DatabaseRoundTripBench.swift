import Foundation
import PostgresClient

/// `db-roundtrip`: `SELECT 1` round trips per second through the pool with 1 and 4 concurrent tasks.
/// `scripts/bench` runs pgbench with the same statement against the same server and passes its figures as
/// `--baseline-c1` / `--baseline-c4`.
enum DatabaseRoundTripBench {
    static func run(_ arguments: BenchArguments, configuration: PostgresConfiguration) async throws {
        let seconds = Double(arguments.int("seconds", default: 5))
        for concurrency in [1, 4] {
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: concurrency))
            // Warm up: open every connection and prepare the statement on each.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask { for _ in 0..<200 { _ = try await pool.query("SELECT 1", prepared: true) } }
                }
                try await group.waitForAll()
            }
            let start = ContinuousClock.now
            let deadline = start + .seconds(seconds)
            let total = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            _ = try await pool.query("SELECT 1", prepared: true)
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = (ContinuousClock.now - start).seconds
            await pool.close()
            BenchFigure(
                bench: "db-roundtrip-c\(concurrency)",
                value: Double(total) / elapsed,
                unit: "queries/s",
                baseline: arguments.double("baseline-c\(concurrency)")
            ).print()
        }
    }
}
