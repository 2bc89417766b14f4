import Persistence
import PostgresClient

/// The runner's statements. Each is one round trip, meant for a session in autocommit mode
/// (`Database.withSession`): no transaction is held while handlers run.
extension Repository where Mapping == JobTable {
    /// Claims up to `limit` ready jobs of `queue` for `workerID` in one statement: `running`, one more attempt,
    /// leased for `lease`.
    ///
    /// Jobs are taken in `priority, run_at, id` order; rows other workers are claiming are skipped, never waited
    /// for. Kinds in `excludingKinds` (at their concurrency limit) are left alone.
    public func claim(
        queue: String,
        limit: Int,
        workerID: String,
        lease: Duration,
        excludingKinds: [String] = []
    ) async -> Result<[ClaimedJob], RepositoryError> {
        guard limit > 0 else { return .success([]) }
        return await run("claim") { connection in
            let rows = try await connection.query(
                JobSQL.claim,
                [queue, excludingKinds, limit, workerID, lease.seconds],
                prepared: true,
                operation: "jobs.claim"
            )
            return try rows.map(ClaimedJob.init(claimRow:))
        }
    }

    /// Records finished attempts in one statement and returns the ids it updated.
    ///
    /// A completion applies only while `workerID` still holds that attempt (`state = 'running'`, same
    /// `locked_by`, same `attempts`): an attempt the rescuer took back, or an operator cancelled, is left alone.
    /// Jobs that become ready again send one NOTIFY per queue.
    public func complete(_ completions: [JobCompletion], workerID: String) async -> Result<[Int64], RepositoryError> {
        guard !completions.isEmpty else { return .success([]) }
        return await run("complete") { connection in
            let rows = try await connection.query(
                JobSQL.complete,
                [
                    completions.map(\.id),
                    completions.map(\.attempt),
                    completions.map(\.outcome.rawValue),
                    completions.map { $0.delay.map { String(max(0, $0.seconds)) } ?? "" },
                    completions.map { $0.error ?? "" },
                    workerID,
                    JobNotification.channel,
                ],
                prepared: true,
                operation: "jobs.complete"
            )
            return try rows.map { try $0.decode("id", as: Int64.self) }
        }
    }

    /// Extends the leases of `workerID`'s running attempts by `lease` from now, in one statement, and returns the
    /// ids still held (a missing id was rescued or cancelled).
    public func heartbeat(
        _ attempts: [(id: Int64, attempt: Int)],
        workerID: String,
        lease: Duration
    ) async -> Result<Set<Int64>, RepositoryError> {
        guard !attempts.isEmpty else { return .success([]) }
        return await run("heartbeat") { connection in
            let rows = try await connection.query(
                JobSQL.heartbeat,
                [attempts.map(\.id), attempts.map(\.attempt), lease.seconds, workerID],
                prepared: true,
                operation: "jobs.heartbeat"
            )
            return Set(try rows.map { try $0.decode("id", as: Int64.self) })
        }
    }

    /// Makes up to `limit` due scheduled jobs available (one NOTIFY per queue) and reports when the next scheduled
    /// job is due.
    public func promoteDue(limit: Int = 1000) async -> Result<PromotionResult, RepositoryError> {
        await run("promote") { connection in
            let rows = try await connection.query(
                JobSQL.promote,
                [limit, JobNotification.channel],
                prepared: true,
                operation: "jobs.promote"
            )
            let next: Double? = try rows[0].decode("next_due_seconds")
            return PromotionResult(
                promoted: try rows[0].decode("promoted"),
                nextDue: next.map { .seconds(max(0, $0)) }
            )
        }
    }
}
