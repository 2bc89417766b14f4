/// The class of a failed repository operation, as a bounded metric label value.
public enum RepositoryErrorClass: String, Sendable, CaseIterable {
    case notFound = "not_found"
    case validation
    case conflict
    case database
}

/// How a Unit of Work ended, as a bounded metric label value.
public enum TransactionOutcome: String, Sendable, CaseIterable {
    /// `commit()` succeeded.
    case committed
    /// The scope ended without a commit (return, throw, cancellation) and the transaction was rolled back.
    case rolledBack = "rolled_back"
    /// `BEGIN` or `COMMIT` failed (for example a serialization failure or a lost connection).
    case failed
}

/// Receives one event per repository operation and per Unit of Work.
///
/// This is the single instrumentation seam of the persistence layer: the generic repository base and the
/// Unit of Work call it, never individual repository methods. Implementations must be cheap (they run on every
/// database call) and must never block or throw.
public protocol RepositoryObserver: Sendable {
    /// Declares the operations a repository can perform, so label sets can start at zero before the first call.
    func prepare(repository: String, operations: [String])
    /// Records one finished repository operation; `error` is nil on success.
    func recordOperation(repository: String, operation: String, duration: Duration, error: RepositoryErrorClass?)
    /// Records one finished Unit of Work.
    func recordTransaction(outcome: TransactionOutcome, duration: Duration)
}

/// An observer that records nothing (the default for tests and tools).
public struct NoopRepositoryObserver: RepositoryObserver {
    public init() {}
    public func prepare(repository: String, operations: [String]) {}
    public func recordOperation(repository: String, operation: String, duration: Duration, error: RepositoryErrorClass?)
    {}
    public func recordTransaction(outcome: TransactionOutcome, duration: Duration) {}
}
