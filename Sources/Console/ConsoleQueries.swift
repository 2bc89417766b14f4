import Foundation
import JobQueue
import PostgresClient

/// The console's read queries (besides ``JobOperations``), each in a transaction with the statement timeout.
///
/// Counts stay cheap on big tables: `pg_class.reltuples` (or, when that is not clearly above the limit, a capped
/// count) decides whether the table is small (≤ the exact-count limit);
/// above it the per-queue grid comes from a `TABLESAMPLE SYSTEM` of about 20,000 rows scaled to
/// `pg_class.reltuples`, and is shown as an estimate. The other overview reads are bounded by what they show, not by
/// the table: each queue's oldest ready job by a skip scan of the claim index, the last 10 minutes' completions along
/// `jobs_finished_idx`.
struct ConsoleQueries: Sendable {
    let operations: JobOperations
    let exactCountLimit: Int

    struct QueueRow: Sendable {
        var queue: String
        var counts: [JobState: Int] = [:]
        var oldestReadySeconds: Double?
        /// Jobs finished per minute, index 0 = the current minute, for the last 10 minutes.
        var completions = [Int](repeating: 0, count: 10)
        var paused: PausedQueue?
    }

    struct Overview: Sendable {
        var queues: [QueueRow]
        var estimated: Bool
        var total: Int
    }

    func overview() async throws -> Overview {
        try await operations.withTimeout { connection in
            // The planner's estimate first: a table known to be large skips the capped count (a scan of up to
            // the limit's rows); a small or never-analyzed one (reltuples -1) is counted.
            let estimate = try await connection.query(
                "SELECT reltuples::float8 AS tuples FROM pg_class WHERE oid = 'jobs'::regclass",
                operation: "console.estimate")[0].decode("tuples", as: Double.self)
            let capped =
                estimate > Double(exactCountLimit) * 2
                ? Int(estimate)
                : try await connection.query(
                    "SELECT count(*) AS n FROM (SELECT 1 FROM jobs LIMIT $1) AS j", [exactCountLimit + 1],
                    operation: "console.count")[0].decode("n", as: Int.self)
            var rows: [String: QueueRow] = [:]
            var estimated = false
            var total = capped
            if capped <= exactCountLimit {
                for row in try await connection.query(
                    "SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state", operation: "console.grid")
                {
                    let queue: String = try row.decode("queue")
                    rows[queue, default: QueueRow(queue: queue)].counts[try row.decode("state")] = try row.decode("n")
                }
            } else {
                estimated = true
                let size = try await connection.query(
                    "SELECT greatest(reltuples, 0)::float8 AS tuples FROM pg_class WHERE oid = 'jobs'::regclass",
                    operation: "console.estimate")
                let tuples = max(try size[0].decode("tuples", as: Double.self), Double(capped))
                let percent = min(100, max(0.01, 20_000 / tuples * 100))
                let sample = try await connection.query(
                    "SELECT queue, state, count(*) AS n FROM jobs TABLESAMPLE SYSTEM ($1::float8) GROUP BY queue, state",
                    [percent], operation: "console.sample")
                let sampled = try sample.reduce(0) { $0 + (try $1.decode("n", as: Int.self)) }
                let scale = sampled > 0 ? tuples / Double(sampled) : 0
                total = Int(tuples)
                for row in sample {
                    let queue: String = try row.decode("queue")
                    let count = Int((Double(try row.decode("n", as: Int.self)) * scale).rounded())
                    rows[queue, default: QueueRow(queue: queue)].counts[try row.decode("state")] = count
                }
            }
            // The oldest ready job of each queue without reading every ready one: each queue's oldest head.
            for row in try await connection.query(
                """
                WITH RECURSIVE \(JobSQL.readyHeads)
                SELECT queue, greatest(extract(epoch FROM now() - min(run_at)), 0)::float8 AS age
                FROM heads GROUP BY queue
                """, operation: "console.oldest")
            {
                let queue: String = try row.decode("queue")
                rows[queue, default: QueueRow(queue: queue)].oldestReadySeconds = try row.decode("age")
            }
            // One range of `jobs_finished_idx` per finished state: `state IN` all three is the index's predicate, so
            // the planner drops it and would read the whole index (or the table) for the finished_at range.
            for row in try await connection.query(
                """
                SELECT queue, floor(extract(epoch FROM now() - finished_at) / 60)::int8 AS minute, count(*) AS n
                FROM (
                    SELECT queue, finished_at FROM jobs
                    WHERE state = 'succeeded' AND finished_at > now() - interval '10 minutes'
                    UNION ALL
                    SELECT queue, finished_at FROM jobs
                    WHERE state = 'dead' AND finished_at > now() - interval '10 minutes'
                    UNION ALL
                    SELECT queue, finished_at FROM jobs
                    WHERE state = 'cancelled' AND finished_at > now() - interval '10 minutes'
                ) AS finished
                GROUP BY 1, 2
                """, operation: "console.completions")
            {
                let queue: String = try row.decode("queue")
                let minute = min(9, max(0, try row.decode("minute", as: Int.self)))
                rows[queue, default: QueueRow(queue: queue)].completions[minute] += try row.decode("n", as: Int.self)
            }
            for row in try await connection.query(
                "SELECT queue, paused_at, paused_by FROM paused_queues", operation: "console.paused")
            {
                let paused = PausedQueue(
                    queue: try row.decode("queue"), pausedAt: try row.decode("paused_at"),
                    pausedBy: try row.decode("paused_by"))
                rows[paused.queue, default: QueueRow(queue: paused.queue)].paused = paused
            }
            for row in try await connection.query("SELECT DISTINCT queue FROM workers", operation: "console.queues") {
                let queue: String = try row.decode("queue")
                if rows[queue] == nil { rows[queue] = QueueRow(queue: queue) }
            }
            return Overview(
                queues: rows.values.sorted { $0.queue < $1.queue }, estimated: estimated, total: total)
        }
    }

    struct PeriodicRow: Sendable {
        var job: PeriodicJob
        var lastRun: Date?
        var nextRun: Date?
    }

    func periodic(_ jobs: [PeriodicJob], now: Date = Date()) async throws -> [PeriodicRow] {
        let last = try await operations.withTimeout { connection in
            var last: [String: Date] = [:]
            for job in jobs {
                let rows = try await connection.query(
                    "SELECT period_start FROM periodic_runs WHERE name = $1 ORDER BY period_start DESC LIMIT 1",
                    [job.name], operation: "console.periodic")
                if let row = rows.first { last[job.name] = try row.decode("period_start") }
            }
            return last
        }
        return jobs.map { PeriodicRow(job: $0, lastRun: last[$0.name], nextRun: $0.schedule.next(after: now)) }
    }

    struct WorkerRow: Sendable {
        var id, host, queue: String
        var pid, concurrency, inFlight: Int
        var startedAt: Date
        var silentSeconds: Double
    }

    func workers() async throws -> [WorkerRow] {
        try await operations.withTimeout { connection in
            try await connection.query(
                """
                SELECT w.id, w.host, w.pid, w.queue, w.concurrency, w.started_at,
                    extract(epoch FROM now() - w.heartbeat_at)::float8 AS silent,
                    (SELECT count(*) FROM jobs WHERE jobs.state = 'running' AND jobs.locked_by = w.id) AS in_flight
                FROM workers w ORDER BY w.started_at, w.id
                """, operation: "console.workers"
            ).map { row in
                WorkerRow(
                    id: try row.decode("id"), host: try row.decode("host"), queue: try row.decode("queue"),
                    pid: try row.decode("pid"), concurrency: try row.decode("concurrency"),
                    inFlight: try row.decode("in_flight"), startedAt: try row.decode("started_at"),
                    silentSeconds: try row.decode("silent"))
            }
        }
    }
}
