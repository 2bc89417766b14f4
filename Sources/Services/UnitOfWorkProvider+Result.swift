public import Persistence

extension UnitOfWorkProvider {
    /// Runs `body` in one Unit of Work and returns its outcome as a `Result`: the shape every service uses.
    ///
    /// `body` reads repository results with `.get()` (typed `throws(RepositoryError)`), so the first failure
    /// leaves the scope and rolls back; it must call ``Persistence/UnitOfWorkProtocol/commitResult()`` to persist
    /// anything. A failure to start the Unit of Work (no connection, `BEGIN` failed) becomes `.failure(.database)`
    /// with operation `uow.begin`.
    public func withUnitOfWorkResult<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (Work) async throws(RepositoryError) -> T
    ) async -> Result<T, RepositoryError> {
        do {
            return .success(try await withUnitOfWork(isolation: isolation) { uow in try await body(uow) })
        } catch let error as RepositoryError {
            return .failure(error)
        } catch {
            return .failure(RepositoryError(error, operation: "uow"))
        }
    }
}

extension UnitOfWorkProtocol {
    /// ``Persistence/UnitOfWorkProtocol/commit()`` as a `Result`: `.failure(.database)` with operation
    /// `uow.commit` when it fails.
    public func commitResult() async -> Result<Void, RepositoryError> {
        do {
            try await commit()
            return .success(())
        } catch {
            return .failure(RepositoryError(error, operation: "uow.commit"))
        }
    }
}
