public import Persistence

/// Enqueues jobs outside a caller's Unit of Work (inside one, use `uow.jobs.enqueue(…)` so the job commits or rolls
/// back with the caller's changes).
public struct JobQueueClient: Sendable {
    /// Jobs per INSERT statement; larger batches are split, all inside one transaction.
    public static let maxStatementSize = 5000

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Enqueues one job in its own autocommit statement.
    public func enqueue(_ job: NewJob) async -> Result<EnqueuedJob, RepositoryError> {
        await database.withJobs { await $0.enqueue(job) }
    }

    /// Enqueues jobs atomically: one statement for up to ``maxStatementSize`` jobs, else one transaction with one
    /// statement per chunk. Results are in input order.
    public func enqueue(_ jobs: [NewJob]) async -> Result<[EnqueuedJob], RepositoryError> {
        guard jobs.count > Self.maxStatementSize else {
            return await database.withJobs { await $0.enqueue(jobs) }
        }
        do {
            return .success(
                try await database.withUnitOfWork { uow in
                    var results: [EnqueuedJob] = []
                    results.reserveCapacity(jobs.count)
                    for start in stride(from: 0, to: jobs.count, by: Self.maxStatementSize) {
                        let chunk = Array(jobs[start..<min(start + Self.maxStatementSize, jobs.count)])
                        results += try await uow.jobs.enqueue(chunk).get()
                    }
                    try await uow.commit()
                    return results
                }
            )
        } catch let error as RepositoryError {
            return .failure(error)
        } catch {
            return .failure(RepositoryError(error, operation: "jobs.enqueue"))
        }
    }
}
