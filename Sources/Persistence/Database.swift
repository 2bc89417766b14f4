public import Logging
public import PostgresClient

/// The entry point of the persistence layer: a connection pool plus the repository observer.
///
/// Every data access goes through a Unit of Work (one transaction) or, for single statements that need no
/// transaction of their own (the job queue's claim and complete), through a session in autocommit mode.
/// Both hand repositories a ``RepositoryContext`` so instrumentation happens in one place.
public struct Database: Sendable {
    public let pool: PostgresPool
    public let observer: any RepositoryObserver
    public let logger: Logger

    public init(pool: PostgresPool, observer: any RepositoryObserver = NoopRepositoryObserver(), logger: Logger) {
        self.pool = pool
        self.observer = observer
        self.logger = logger
    }

    /// Runs `body` in one transaction on one pooled connection.
    ///
    /// Nothing persists unless `body` calls ``UnitOfWork/commit()``. Leaving the scope without a commit — by
    /// returning, throwing or being cancelled — rolls back. The Unit of Work must not escape `body`.
    ///
    /// - Throws: whatever `body` throws; ``RepositoryError/database(_:)`` when no connection can be had or `BEGIN`
    ///   fails.
    public func withUnitOfWork<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (UnitOfWork) async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        let connection: PostgresConnection
        do {
            connection = try await pool.acquire()
        } catch {
            // Acquire failures (timeout, unreachable server) surface as database errors naming the operation.
            observer.recordTransaction(outcome: .failed, duration: ContinuousClock.now - start)
            throw RepositoryError(error, operation: "uow.begin")
        }
        defer { pool.release(connection) }
        do {
            try await connection.execute(isolation.beginStatement, operation: "begin", cancellable: false)
        } catch {
            observer.recordTransaction(outcome: .failed, duration: ContinuousClock.now - start)
            throw RepositoryError(error, operation: "uow.begin")
        }
        let uow = UnitOfWork(connection: connection, observer: observer, started: start)
        do {
            let value = try await body(uow)
            await uow.finish()
            return value
        } catch {
            await uow.finish()
            throw error
        }
    }

    /// Runs `body` with a connection in autocommit mode: each statement is its own transaction.
    ///
    /// For hot single-statement paths that must not pay `BEGIN`/`COMMIT` round trips.
    public func withSession<T>(_ body: (RepositoryContext) async throws -> T) async throws -> T {
        do {
            return try await pool.withConnection { connection in
                try await body(RepositoryContext(connection: connection, observer: observer, unitOfWork: nil))
            }
        } catch let error as RepositoryError {
            throw error
        } catch {
            throw RepositoryError(error, operation: "session.acquire")
        }
    }
}

/// Transaction isolation levels.
public enum IsolationLevel: Sendable {
    case readCommitted
    case repeatableRead
    case serializable

    var beginStatement: String {
        switch self {
        case .readCommitted: "BEGIN"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}
