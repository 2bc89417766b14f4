import Foundation
public import Persistence
public import PostgresClient

/// The ``TableMapping`` of `jobs`: `Repository<JobTable>` has the generic CRUD methods plus the queue's own
/// statements (enqueue, claim, complete, …) as extensions, all instrumented through `RepositoryContext.run`.
public enum JobTable: TableMapping {
    public typealias Model = Job
    public typealias ID = Int64

    public static var repositoryName: String { "jobs" }
    public static var entityName: String { "Job" }
    public static var table: String { "jobs" }
    public static var writableColumns: [String] {
        [
            "kind", "queue", "state", "priority", "payload", "attempts", "max_attempts", "run_at", "locked_by",
            "lease_expires_at", "last_error", "unique_key", "created_at", "attempted_at", "finished_at",
        ]
    }

    /// Every operation name this repository reports, for `RepositoryObserver.prepare(repository:operations:)`.
    public static var operations: [String] {
        Repository<JobTable>.crudOperations + [
            "enqueue", "claim", "complete", "heartbeat", "promote", "rescue", "prune",
            "enqueue_periodic", "sample", "status", "retry", "cancel", "release_orphans", "probe_floor",
        ]
    }

    public static func id(of model: Job) -> Int64? { model.id == 0 ? nil : model.id }

    public static func binds(_ model: Job) -> [any PostgresEncodable] {
        [
            model.kind, model.queue, model.state, model.priority, model.payload, model.attempts, model.maxAttempts,
            model.runAt, model.lockedBy, model.leaseExpiresAt, model.lastError, model.uniqueKey, model.createdAt,
            model.attemptedAt, model.finishedAt,
        ]
    }

    public static func decode(_ row: PostgresRow) throws -> Job {
        Job(
            id: try row.decode("id"),
            kind: try row.decode("kind"),
            queue: try row.decode("queue"),
            state: try row.decode("state"),
            priority: try row.decode("priority"),
            payload: try row.decode("payload"),
            attempts: try row.decode("attempts"),
            maxAttempts: try row.decode("max_attempts"),
            runAt: try row.decode("run_at"),
            lockedBy: try row.decode("locked_by"),
            leaseExpiresAt: try row.decode("lease_expires_at"),
            lastError: try row.decode("last_error"),
            uniqueKey: try row.decode("unique_key"),
            createdAt: try row.decode("created_at"),
            attemptedAt: try row.decode("attempted_at"),
            finishedAt: try row.decode("finished_at")
        )
    }
}
