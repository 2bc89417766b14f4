import Persistence
public import Repositories
import Synchronization

/// A Unit of Work of an ``InMemoryStore`` (see there for its semantics); created only by
/// ``InMemoryStore/withUnitOfWork(isolation:_:)``.
public final class InMemoryUnitOfWork: DomainUnitOfWork {
    private enum Phase {
        case active
        /// A statement failed; like PostgreSQL, only a rollback is possible.
        case aborted
        case finished
    }

    private let store: InMemoryStore
    private let version: Int
    private let working: Mutex<(tables: InMemoryTables, phase: Phase)>

    init(store: InMemoryStore, tables: InMemoryTables, version: Int) {
        self.store = store
        self.version = version
        self.working = Mutex((tables, .active))
    }

    public var slots: InMemorySlotRepository { InMemorySlotRepository(unitOfWork: self) }
    public var slotEvents: InMemorySlotEventRepository { InMemorySlotEventRepository(unitOfWork: self) }
    public var recruiters: InMemoryRecruiterRepository { InMemoryRecruiterRepository(unitOfWork: self) }

    public var isActive: Bool { working.withLock { $0.phase == .active } }

    public func commit() async throws {
        let (tables, phase) = working.withLock { working in
            defer { working.phase = .finished }
            return (working.tables, working.phase)
        }
        switch phase {
        case .finished:
            throw RepositoryError.database(Self.notActive("uow.commit"))
        case .aborted:
            store.record(.failed)
            throw RepositoryError.database(
                DatabaseFailure(
                    operation: "uow.commit",
                    message: "the transaction was aborted by an earlier failed statement; nothing was committed",
                    sqlState: "25P02",
                    underlying: nil
                )
            )
        case .active:
            if let failure = store.publish(tables, basedOn: version) { throw failure }
        }
    }

    public func rollback() async {
        let wasOpen = working.withLock { working in
            defer { working.phase = .finished }
            return working.phase != .finished
        }
        if wasOpen { store.record(.rolledBack) }
    }

    /// Runs one repository operation (`repository.operation`) on this Unit of Work's tables.
    ///
    /// Fails without running `body` when the Unit of Work is finished or aborted, or when the store injects a
    /// failure. A failure of `body` other than `.notFound` leaves the tables as they were and aborts the Unit of Work.
    func run<T>(
        _ operation: String,
        _ body: (inout InMemoryTables) throws(RepositoryError) -> T
    ) -> Result<T, RepositoryError> {
        let injected = store.injectedFailure(operation)
        return working.withLock { working -> Result<T, RepositoryError> in
            switch working.phase {
            case .finished:
                return .failure(.database(Self.notActive(operation)))
            case .aborted:
                return .failure(
                    .database(
                        DatabaseFailure(
                            operation: operation,
                            message: "current transaction is aborted, commands ignored until end of transaction block",
                            sqlState: "25P02",
                            underlying: nil
                        )
                    )
                )
            case .active:
                var tables = working.tables
                do throws(RepositoryError) {
                    if let injected { throw injected }
                    let value = try body(&tables)
                    working.tables = tables
                    return .success(value)
                } catch {
                    if case .notFound = error {} else { working.phase = .aborted }
                    return .failure(error)
                }
            }
        }
    }

    private static func notActive(_ operation: String) -> DatabaseFailure {
        DatabaseFailure(
            operation: operation,
            message: "the unit of work is no longer active (already committed or rolled back)",
            sqlState: nil,
            underlying: nil
        )
    }
}
