import Foundation
public import Persistence
import Repositories
import Synchronization

/// An in-memory stand-in for ``Persistence/Database`` in unit tests of services: Units of Work whose repositories
/// (``InMemorySlotRepository``, ``InMemorySlotEventRepository``, ``InMemoryRecruiterRepository``) keep rows in
/// ``InMemoryTables`` (the guide's "inject a mock repository into the Unit of Work").
///
/// Semantics, close to PostgreSQL where services depend on it:
/// - a Unit of Work changes a private copy of the committed tables; ``InMemoryUnitOfWork/commit()`` publishes the
///   copy, all of it at once; leaving the scope without a commit (returning, throwing) discards it;
/// - a failed statement (a conflict, a validation or database error, not a `.notFound`) aborts the Unit of Work
///   like a PostgreSQL transaction: later calls fail with SQLSTATE 25P02 and the commit fails;
/// - commits are optimistic: a Unit of Work that started before another one committed fails its commit with a
///   serialization failure (SQLSTATE 40001), whatever isolation was asked for;
/// - the unique constraints and the slot status trigger the services rely on are checked; foreign keys are not.
///
/// Faults for tests: ``failOperation(_:with:)`` makes a repository operation fail, ``failNextCommit(with:)`` the
/// next commit. ``outcomes`` lists how every Unit of Work ended.
public final class InMemoryStore: UnitOfWorkProvider {
    private struct State {
        var tables: InMemoryTables
        var version = 0
        var operationFailures: [String: RepositoryError] = [:]
        var commitFailure: RepositoryError?
        var outcomes: [TransactionOutcome] = []
    }

    private let state: Mutex<State>

    /// A store holding `tables` as committed data.
    public init(_ tables: InMemoryTables = InMemoryTables()) {
        self.state = Mutex(State(tables: tables))
    }

    /// The committed rows.
    public var tables: InMemoryTables { state.withLock { $0.tables } }

    /// How each finished Unit of Work ended, in order.
    public var outcomes: [TransactionOutcome] { state.withLock { $0.outcomes } }

    /// Makes every later call of `operation` (`repository.operation`, e.g. `slot_events.add`) fail with `error`.
    public func failOperation(_ operation: String, with error: RepositoryError) {
        state.withLock { $0.operationFailures[operation] = error }
    }

    /// Makes the next commit fail with `error` (nothing is published).
    public func failNextCommit(with error: RepositoryError) {
        state.withLock { $0.commitFailure = error }
    }

    public func withUnitOfWork<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (InMemoryUnitOfWork) async throws -> T
    ) async throws -> T {
        let (tables, version) = state.withLock { ($0.tables, $0.version) }
        let uow = InMemoryUnitOfWork(store: self, tables: tables, version: version)
        do {
            let value = try await body(uow)
            await uow.rollback()
            return value
        } catch {
            await uow.rollback()
            throw error
        }
    }

    /// The injected failure of `operation`, if any.
    func injectedFailure(_ operation: String) -> RepositoryError? {
        state.withLock { $0.operationFailures[operation] }
    }

    /// Publishes `tables` unless a commit was injected to fail or another Unit of Work committed since `version`.
    func publish(_ tables: InMemoryTables, basedOn version: Int) -> RepositoryError? {
        state.withLock { state in
            if let failure = state.commitFailure {
                state.commitFailure = nil
                state.outcomes.append(.failed)
                return failure
            }
            guard state.version == version else {
                state.outcomes.append(.failed)
                return .database(
                    DatabaseFailure(
                        operation: "uow.commit",
                        message: "could not serialize access due to a concurrent commit",
                        sqlState: "40001",
                        underlying: nil
                    )
                )
            }
            state.tables = tables
            state.version += 1
            state.outcomes.append(.committed)
            return nil
        }
    }

    /// Records a Unit of Work that ended without publishing.
    func record(_ outcome: TransactionOutcome) {
        state.withLock { $0.outcomes.append(outcome) }
    }
}
