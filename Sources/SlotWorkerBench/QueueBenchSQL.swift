import Foundation
import JobQueue
import Persistence
import PostgresClient

/// `queue-sql --out DIR [--jobs N] [--database NAME]`: prepares the raw-SQL ceiling of the drain benchmark.
///
/// Creates database NAME (default `slotworker_bench_queue_sql`) with N `noop` jobs (default 600,000: more than
/// pgbench drains in its 5 s, so no transaction finds the queue empty) and writes `DIR/claim-complete.sql`: one
/// claim of `:batch` jobs, then one batched completion of them, with the very statement texts the runner prepares
/// (``JobSQL/claim`` and ``JobSQL/complete``), only their `$n` binds replaced by literals and pgbench variables.
/// The claim is wrapped in `WITH claimed AS (…) SELECT array_agg(…)` so pgbench can hand the claimed ids
/// (ascending) and attempts to the completion (`\gset`), every job `succeeded` (state code 1). Both statements
/// run in autocommit mode, like the runner's. Prints the database name on stdout; `scripts/bench` points pgbench
/// at it and counts the completed jobs afterwards.
enum QueueSQLBench {
    static let workerID = "pgbench-ceiling"  // no colon: pgbench would read `:name` as a variable

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        guard let out = arguments.values["out"] else { throw BenchFailure("queue-sql: --out DIR is required") }
        let name = arguments.values["database"] ?? "slotworker_bench_queue_sql"
        let count = arguments.int("jobs", default: 600_000)
        let configuration = try await QueueBench.freshDatabase(name, server: server)
        let database = Database(
            pool: PostgresPool(configuration: configuration, options: .init(maxConnections: 2)),
            logger: QueueBench.logger
        )
        try await QueueBench.enqueueNoops(count, database: database)
        await database.pool.close()

        let script = Self.script()
        let path = URL(fileURLWithPath: out).appendingPathComponent("claim-complete.sql")
        try script.write(to: path, atomically: true, encoding: .utf8)
        QueueBench.log("queue-sql: \(count) noop jobs in database \(name); pgbench script \(path.path)")
        print(name)
    }

    /// The pgbench script: our claim and our completion, binds replaced.
    static func script() -> String {
        let claim = substitute(
            JobSQL.claim,
            [
                1: "'default'",
                2: "'{noop}'",
                3: ":batch",
                4: "'\(workerID)'",
                5: "300",
                // No claim floor (as the runner's claim from the front: the smallest priority, a run_at long ago).
                6: "(-32768)",
                7: "(-1e10)",
            ]
        )
        let complete = substitute(
            JobSQL.complete,
            [
                1: ":ids",
                2: ":attempts",
                3: ":states",
                4: ":given_back",
                5: ":delays",
                6: ":errors",
                7: "'\(workerID)'",
                8: "'\(JobNotification.channel)'",
            ]
        )
        // pgbench reads one SQL command up to a semicolon; \gset ends the first one instead.
        return """
            -- The runner's claim (JobSQL.claim) of :batch jobs, its ids and attempts collected for the completion.
            WITH claimed AS (
            \(claim)
            )
            SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids,
                coalesce(array_agg(attempts ORDER BY id), '{}') AS attempts,
                coalesce(array_agg(1), '{}') AS states, coalesce(array_agg(0), '{}') AS given_back,
                coalesce(array_agg(-1), '{}') AS delays, coalesce(array_agg(''::text), '{}') AS errors
            FROM claimed
            \\gset
            -- The runner's batched completion (JobSQL.complete) of the claimed jobs.
            \(complete);

            """
    }

    /// Replaces `$n` binds (highest first, so `$1` does not eat `$10`).
    static func substitute(_ sql: String, _ values: [Int: String]) -> String {
        var sql = sql
        for (index, value) in values.sorted(by: { $0.key > $1.key }) {
            sql = sql.replacingOccurrences(of: "$\(index)", with: value)
        }
        return sql
    }
}
