import JobQueue
import Persistence
import PostgresClient

/// The diagnostic kind `trace` for fault drills: each attempt records when it started and, if it got to the end
/// while this worker still held the job's lease, when it ended, in the table `job_trace`, which the drill creates:
///
/// ```sql
/// CREATE TABLE job_trace (job_id bigint, attempt int, worker text, started_at timestamptz, ended_at timestamptz);
/// ```
///
/// Payload `{"milliseconds": 500}`: the time between start and end (a cancellable sleep). The end is written only
/// after ``JobContext/holdsLease`` said yes, so the table shows whether two runs of one job ever overlapped: a run
/// stopped by self-fencing leaves no end. Without the table, attempts fail with the database's error.
enum TraceJob {
    struct Payload: Codable, Sendable {
        var milliseconds: Int
    }

    static let kind = JobKind<Payload>("trace")

    static func register(in registry: inout JobRegistry, database: Database) {
        registry.register(kind) { payload, context in
            _ = try await database.pool.query(
                "INSERT INTO job_trace (job_id, attempt, worker, started_at) VALUES ($1, $2, $3, clock_timestamp())",
                [context.id, context.attempt, context.workerID],
                operation: "trace.start"
            )
            try await Task.sleep(for: .milliseconds(max(0, payload.milliseconds)))
            guard context.holdsLease() else { throw CancellationError() }
            _ = try await database.pool.query(
                "UPDATE job_trace SET ended_at = clock_timestamp() WHERE job_id = $1 AND attempt = $2 AND worker = $3",
                [context.id, context.attempt, context.workerID],
                operation: "trace.end"
            )
            return .success
        }
    }
}
