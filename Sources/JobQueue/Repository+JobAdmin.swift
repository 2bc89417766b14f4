import Foundation
public import Persistence
import PostgresClient

/// Operator statements: status, retry, cancel.
extension Repository where Mapping == JobTable {
    /// Counts by kind and state (a full scan) and the oldest ready job's age.
    /// - Parameter liveWithin: workers seen in `job_workers` this recently count as live.
    public func status(liveWithin: Duration) async -> Result<QueueStatus, RepositoryError> {
        await run("status") { connection in
            let rows = try await connection.query(JobSQL.countsByKindAndState, operation: "jobs.status")
            var byState: [String: Int] = [:]
            for state in JobState.allCases { byState[state.rawValue] = 0 }
            var byKind: [String: [String: Int]] = [:]
            for row in rows {
                let kind: String = try row.decode("kind")
                let state: String = try row.decode("state")
                let count: Int = try row.decode("jobs")
                byState[state, default: 0] += count
                byKind[kind, default: [:]][state] = count
            }
            let sample = try await connection.query(JobSQL.depth, prepared: true, operation: "jobs.status")
            let oldest: Double? = try sample[0].decode("oldest_ready_seconds")
            var unrunnable: [String: [String: Int]] = [:]
            for row in try await connection.query(
                JobSQL.unrunnableByKind, [liveWithin.seconds], operation: "jobs.status")
            {
                unrunnable[try row.decode("queue"), default: [:]][try row.decode("kind")] = try row.decode("jobs")
            }
            return QueueStatus(
                byState: byState, byKind: byKind, oldestReadyAgeSeconds: oldest ?? 0, unrunnable: unrunnable)
        }
    }

    /// Makes a `dead` or `cancelled` job `available` now with a fresh set of attempts (`last_error` is kept):
    /// `attempts` stays (it never decreases), `max_attempts` becomes `attempts` plus the kind's limit
    /// (`kindMaxAttempts`, else `defaultMaxAttempts`).
    ///
    /// - Returns: the job as updated; `.notFound` for an unknown id; `.validation(field: "state")` for a job in
    ///   another state; `.conflict` when an unfinished job holds its unique key.
    public func retry(
        id: Int64,
        kindMaxAttempts: [String: Int] = [:],
        defaultMaxAttempts: Int = JobRunnerConfiguration.standardMaxAttempts
    ) async -> Result<Job, RepositoryError> {
        let kinds = kindMaxAttempts.keys.sorted()
        return await run("retry") { connection in
            let rows = try await connection.query(
                JobSQL.retry,
                [id, JobNotification.channel, kinds, kinds.map { kindMaxAttempts[$0]! }, defaultMaxAttempts],
                prepared: true,
                operation: "jobs.retry"
            )
            if let row = rows.first { return try JobTable.decode(row) }
            let current = try await connection.query(JobSQL.stateOf, [id], operation: "jobs.retry")
            guard let state = current.first else {
                throw RepositoryError.notFound(entity: JobTable.entityName, id: String(id))
            }
            throw RepositoryError.validation(
                field: "state",
                message: "job \(id) is \(try state.decode("state", as: String.self)); only dead or cancelled jobs "
                    + "can be retried"
            )
        }
    }

    /// Cancels an unfinished job and returns the state it had.
    ///
    /// `scheduled` and `available` jobs never run. A `running` job becomes `cancelled` at once: its worker is told
    /// by NOTIFY (and notices at its next heartbeat without LISTEN), cancels the handler's task, and its completion
    /// is discarded — the attempt in progress may still finish its side effects. Needs a transaction of its own:
    /// call it in a Unit of Work (``JobAdmin/cancel(id:reason:)`` does).
    ///
    /// - Returns: `.notFound` for an unknown id; `.validation(field: "state")` for a finished job.
    public func cancel(id: Int64, reason: String? = nil) async -> Result<JobState, RepositoryError> {
        await run("cancel") { connection in
            let current = try await connection.query(JobSQL.lockState, [id], operation: "jobs.cancel")
            guard let row = current.first else {
                throw RepositoryError.notFound(entity: JobTable.entityName, id: String(id))
            }
            let state: JobState = try row.decode("state")
            guard !state.isFinished else {
                throw RepositoryError.validation(
                    field: "state",
                    message: "job \(id) already finished as \(state.rawValue); nothing to cancel"
                )
            }
            _ = try await connection.query(JobSQL.cancel, [id, reason], operation: "jobs.cancel")
            if state == .running {
                let payload = try String(
                    decoding: NewJob.encoder.encode(JobNotification(cancel: id)),
                    as: UTF8.self
                )
                _ = try await connection.query(
                    JobSQL.notify, [JobNotification.channel, payload], operation: "jobs.cancel")
            }
            return state
        }
    }
}
