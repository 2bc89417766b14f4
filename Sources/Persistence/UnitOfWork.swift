import PostgresClient
import Synchronization

/// One database transaction on one pooled connection, shared by every repository reached through it.
///
/// Created only by ``Database/withUnitOfWork(isolation:_:)``. Repositories hang off it as extensions
/// (`uow.slots`, `uow.recruiters`, `uow.jobs`), so all of them share the transaction.
///
/// Contract:
/// - nothing persists without ``commit()``; leaving the scope without it rolls back;
/// - after `commit()` (or a failed commit) every repository call fails with a `.database` error naming the
///   operation, and a second `commit()` throws — never a silent no-op;
/// - `add` returns the entity with its generated id at once (the guide's `flush`): rows are written immediately.
public final class UnitOfWork: Sendable {
    enum State: Sendable {
        case active
        case committed
        case failed
        case rolledBack
    }

    let connection: PostgresConnection
    let observer: any RepositoryObserver
    let started: ContinuousClock.Instant
    private let state = Mutex(State.active)

    init(connection: PostgresConnection, observer: any RepositoryObserver, started: ContinuousClock.Instant) {
        self.connection = connection
        self.observer = observer
        self.started = started
    }

    /// The context repositories use to run statements in this transaction.
    public var context: RepositoryContext {
        RepositoryContext(connection: connection, observer: observer, unitOfWork: self)
    }

    /// True until the transaction was committed or rolled back.
    public var isActive: Bool { state.withLock { $0 == .active } }

    /// Commits the transaction.
    ///
    /// - Throws: ``RepositoryError/database(_:)`` with operation `uow.commit` when the commit fails (for example
    ///   SQLSTATE 40001, a serialization failure) or when this Unit of Work is no longer active.
    public func commit() async throws {
        let wasActive = state.withLock { current -> Bool in
            guard current == .active else { return false }
            current = .failed
            return true
        }
        guard wasActive else {
            throw RepositoryError.database(
                DatabaseFailure(
                    operation: "uow.commit",
                    message: "the unit of work is no longer active (already committed or rolled back)",
                    sqlState: nil,
                    underlying: nil
                )
            )
        }
        if connection.isTransactionAborted {
            // PostgreSQL answers COMMIT on an aborted transaction with ROLLBACK and no error: report it.
            try? await connection.execute("ROLLBACK", operation: "rollback", cancellable: false)
            observer.recordTransaction(outcome: .failed, duration: ContinuousClock.now - started)
            throw RepositoryError.database(
                DatabaseFailure(
                    operation: "uow.commit",
                    message: "the transaction was aborted by an earlier failed statement; nothing was committed",
                    sqlState: "25P02",
                    underlying: nil
                )
            )
        }
        do {
            try await connection.execute("COMMIT", operation: "commit", cancellable: false)
            state.withLock { $0 = .committed }
            observer.recordTransaction(outcome: .committed, duration: ContinuousClock.now - started)
        } catch {
            observer.recordTransaction(outcome: .failed, duration: ContinuousClock.now - started)
            // COMMIT failed: the server already ended the transaction; make sure the connection is clean.
            try? await connection.execute("ROLLBACK", operation: "rollback", cancellable: false)
            throw RepositoryError(error, operation: "uow.commit")
        }
    }

    /// Rolls back explicitly. Further use fails like after a commit.
    public func rollback() async {
        let wasActive = state.withLock { current -> Bool in
            guard current == .active else { return false }
            current = .rolledBack
            return true
        }
        guard wasActive else { return }
        try? await connection.execute("ROLLBACK", operation: "rollback", cancellable: false)
        observer.recordTransaction(outcome: .rolledBack, duration: ContinuousClock.now - started)
    }

    /// Called when the scope ends: rolls back unless committed.
    func finish() async {
        await rollback()
    }

    /// Throws when the Unit of Work can no longer run statements.
    func ensureActive(operation: String) throws {
        guard isActive else {
            throw RepositoryError.database(
                DatabaseFailure(
                    operation: operation,
                    message: "the unit of work is no longer active (already committed or rolled back)",
                    sqlState: nil,
                    underlying: nil
                )
            )
        }
    }
}
