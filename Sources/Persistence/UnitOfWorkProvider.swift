/// What every Unit of Work offers, whatever holds its data: commit, roll back, and whether it still runs.
///
/// ``UnitOfWork`` (one PostgreSQL transaction) is the production one; unit tests of services use an in-memory one.
/// Which repositories a Unit of Work exposes is declared by protocols of the layer that knows them (the
/// `Repositories` module's `DomainUnitOfWork`), each repository behind a protocol of its own.
///
/// Contract, as ``UnitOfWork`` keeps it: nothing is visible outside before ``commit()``, and then all of it at
/// once; leaving the scope of ``UnitOfWorkProvider/withUnitOfWork(isolation:_:)`` without a commit rolls back; after
/// a commit or rollback every repository call and a second commit fail with a `.database` error.
public protocol UnitOfWorkProtocol: Sendable {
    /// True until the Unit of Work was committed or rolled back.
    var isActive: Bool { get }

    /// Makes every change of this Unit of Work visible at once, or none of them.
    ///
    /// - Throws: ``RepositoryError/database(_:)`` with operation `uow.commit` when the commit fails or the Unit of
    ///   Work is no longer active.
    func commit() async throws

    /// Discards every change. Later calls fail like after a commit; a second rollback does nothing.
    func rollback() async
}

/// A source of Units of Work: ``Database`` for PostgreSQL, an in-memory store in unit tests.
///
/// Services are generic over it (`SlotBookingService<Database>` in production), so the production path calls the
/// concrete ``Database``, ``UnitOfWork`` and ``Repository`` types: no existential box sits on the repository path,
/// whose instrumentation (``RepositoryContext/run(repository:operation:_:)``) is unchanged.
public protocol UnitOfWorkProvider: Sendable {
    /// The Unit of Work this provider hands out.
    associatedtype Work: UnitOfWorkProtocol

    /// Runs `body` in one Unit of Work. Nothing persists unless `body` calls `commit()`; leaving the scope without it
    /// (returning, throwing, being cancelled) rolls back. The Unit of Work must not escape `body`.
    ///
    /// - Throws: whatever `body` throws; ``RepositoryError/database(_:)`` with operation `uow.begin` when the Unit of
    ///   Work cannot start.
    func withUnitOfWork<T>(isolation: IsolationLevel, _ body: (Work) async throws -> T) async throws -> T
}

extension UnitOfWork: UnitOfWorkProtocol {}

extension Database: UnitOfWorkProvider {}
