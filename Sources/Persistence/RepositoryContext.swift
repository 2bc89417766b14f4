public import PostgresClient

/// What a repository runs on: a connection (inside a Unit of Work, or a session in autocommit mode) and the
/// observer that records every operation.
///
/// ``run(repository:operation:_:)`` is the one place where repository calls are timed, classified and recorded;
/// repositories never instrument their own methods.
public struct RepositoryContext: Sendable {
    let connection: PostgresConnection
    let observer: any RepositoryObserver
    let unitOfWork: UnitOfWork?

    public init(connection: PostgresConnection, observer: any RepositoryObserver, unitOfWork: UnitOfWork?) {
        self.connection = connection
        self.observer = observer
        self.unitOfWork = unitOfWork
    }

    /// Runs one repository operation: checks the Unit of Work is still active, runs `body`, maps any error to a
    /// ``RepositoryError``, and records duration and outcome with the observer.
    public func run<T>(
        repository: String,
        operation: String,
        _ body: (PostgresConnection) async throws -> T
    ) async -> Result<T, RepositoryError> {
        let start = ContinuousClock.now
        let result = await runBare(repository: repository, operation: operation, body)
        observer.recordOperation(
            repository: repository,
            operation: operation,
            duration: ContinuousClock.now - start,
            error: result.failure?.errorClass
        )
        return result
    }

    /// The same operation without instrumentation: the body of ``run(repository:operation:_:)``, and the
    /// instrumentation benchmark's baseline.
    package func runBare<T>(
        repository: String,
        operation: String,
        _ body: (PostgresConnection) async throws -> T
    ) async -> Result<T, RepositoryError> {
        do {
            try unitOfWork?.ensureActive(operation: "\(repository).\(operation)")
            return .success(try await body(connection))
        } catch {
            return .failure(RepositoryError(error, operation: "\(repository).\(operation)"))
        }
    }
}
