import Foundation
import PostgresClient

/// `db-roundtrip`: `SELECT 1` round trips per second through the pool with 1 and 4 concurrent tasks (or only
/// `--concurrency N`), each task borrowing a connection for every statement (`pool.query`). `scripts/bench` runs it
/// in short rounds alternating with pgbench running the same statement against the same server, and reports the
/// medians; run alone, `--baseline-c1` / `--baseline-c4` give the baselines.
///
/// Two placements of the tasks, each a figure of its own (`--placement pool` or `--placement loop` runs one only):
/// - `db-roundtrip-cN`: plain child tasks on Swift's cooperative pool (what every caller gets by default);
/// - `db-roundtrip-loop-cN`: each task on a ``PostgresEventLoop`` of its own (`executorPreference`), so an answer
///   resumes its task on the thread that read it.
enum DatabaseRoundTripBench {
    static func run(_ arguments: BenchArguments, configuration: PostgresConfiguration) async throws {
        let seconds = Double(arguments.int("seconds", default: 5))
        // One loop per task of the largest run, made once: a loop's thread lives as long as the process.
        let concurrencies = arguments.values["concurrency"].flatMap(Int.init).map { [$0] } ?? [1, 4]
        let loops = (0..<(concurrencies.max() ?? 1)).map { _ in PostgresEventLoop() }
        let placements: [Bool]
        switch arguments.values["placement"] {
        case nil: placements = [false, true]
        case "pool": placements = [false]
        case "loop": placements = [true]
        case let other?:
            FileHandle.standardError.write(
                Data("slot-worker-bench: --placement is pool or loop, not \"\(other)\"\n".utf8))
            exit(2)
        }
        for onLoops in placements {
            for concurrency in concurrencies {
                let perSecond = try await measure(
                    configuration: configuration,
                    concurrency: concurrency,
                    loops: onLoops ? Array(loops.prefix(concurrency)) : nil,
                    seconds: seconds
                )
                BenchFigure(
                    bench: "db-roundtrip-\(onLoops ? "loop-" : "")c\(concurrency)",
                    value: perSecond,
                    unit: "queries/s",
                    baseline: arguments.double("baseline-c\(concurrency)")
                ).print()
            }
        }
    }

    /// Queries per second of `concurrency` tasks looping over `pool.query("SELECT 1")` for `seconds`, after a
    /// warm-up that opens every connection and prepares the statement on each. Prints the client's CPU time per
    /// statement (user plus system, every thread of the process) on stderr, beside pgbench's in `scripts/bench`.
    private static func measure(
        configuration: PostgresConfiguration,
        concurrency: Int,
        loops: [PostgresEventLoop]?,
        seconds: Double
    ) async throws -> Double {
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: concurrency))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask { for _ in 0..<200 { _ = try await pool.query("SELECT 1", prepared: true) } }
            }
            try await group.waitForAll()
        }
        let cpuStart = QueueBench.processCPUSeconds()
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<concurrency {
                group.addTask(executorPreference: loops?[index]) {
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
        let cpuPerStatement = (QueueBench.processCPUSeconds() - cpuStart) / Double(max(total, 1)) * 1e6
        let placement = loops == nil ? "pool" : "loop"
        FileHandle.standardError.write(
            Data(
                "db-roundtrip \(placement) c\(concurrency): client CPU \(String(format: "%.2f", cpuPerStatement)) µs per statement\n"
                    .utf8))
        await pool.close()
        return Double(total) / elapsed
    }
}
