public import Persistence

extension Database {
    /// Runs job-queue statements on a pooled connection in autocommit mode (one round trip per statement, no
    /// BEGIN/COMMIT); a failure to get a connection becomes `.failure` like any other database error.
    public func withJobs<T>(
        _ body: (JobRepository) async -> Result<T, RepositoryError>
    ) async -> Result<T, RepositoryError> {
        do {
            return try await withSession { context in await body(context.jobs) }
        } catch let error as RepositoryError {
            return .failure(error)
        } catch {
            return .failure(RepositoryError(error, operation: "jobs.session"))
        }
    }
}
