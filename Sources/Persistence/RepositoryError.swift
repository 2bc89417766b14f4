public import PostgresClient

/// Why a repository call failed. Match it the way the guide matches `Failure(NotFoundError())`:
///
/// ```swift
/// switch await uow.slots.get(id) {
/// case .success(let slot): ...
/// case .failure(.notFound(let entity, let id)): ...
/// case .failure(let error): ...
/// }
/// ```
public enum RepositoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No `entity` row with this `id`.
    case notFound(entity: String, id: String)
    /// A value breaks a rule of the domain (`field` names the column, constraint or input at fault).
    case validation(field: String, message: String)
    /// The change collides with existing data: a unique or foreign-key constraint (named) or a concurrent change.
    case conflict(constraint: String, message: String)
    /// The database failed: connection, syntax, serialization, timeout, or misuse of a finished Unit of Work.
    case database(DatabaseFailure)

    /// The bounded metric label value of this error.
    public var errorClass: RepositoryErrorClass {
        switch self {
        case .notFound: .notFound
        case .validation: .validation
        case .conflict: .conflict
        case .database: .database
        }
    }

    public var description: String {
        switch self {
        case .notFound(let entity, let id): "\(entity) \(id) not found"
        case .validation(let field, let message): "invalid \(field): \(message)"
        case .conflict(let constraint, let message): "conflict on \(constraint): \(message)"
        case .database(let failure): failure.description
        }
    }

    /// Maps any error thrown under a repository operation to a `RepositoryError`.
    ///
    /// Unique and foreign-key violations become `.conflict`, check and not-null violations `.validation`, everything
    /// else `.database` with the operation, SQLSTATE and the underlying ``PostgresError``.
    public init(_ error: any Error, operation: String) {
        if let error = error as? RepositoryError {
            self = error
            return
        }
        guard let postgres = error as? PostgresError else {
            self = .database(DatabaseFailure(operation: operation, message: "\(error)", sqlState: nil, underlying: nil))
            return
        }
        switch postgres.kind {
        case .uniqueViolation, .foreignKeyViolation:
            self = .conflict(constraint: postgres.constraint ?? "unknown", message: postgres.message)
        case .checkViolation, .notNullViolation:
            self = .validation(field: postgres.constraint ?? "unknown", message: postgres.message)
        case .invalidParameter:
            self = .validation(field: "parameter", message: postgres.message)
        default:
            self = .database(
                DatabaseFailure(
                    operation: operation,
                    message: postgres.message,
                    sqlState: postgres.sqlState,
                    underlying: postgres
                )
            )
        }
    }
}

/// Context of a `.database` failure.
public struct DatabaseFailure: Sendable, Equatable, CustomStringConvertible {
    /// `Repository.operation`, e.g. `slots.get` or `uow.commit`.
    public var operation: String
    public var message: String
    public var sqlState: String?
    /// The client error, when there was one.
    public var underlying: PostgresError?

    public init(operation: String, message: String, sqlState: String?, underlying: PostgresError?) {
        self.operation = operation
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
    }

    /// True when retrying the whole transaction may succeed (serialization failure, deadlock, lost connection).
    public var isTransient: Bool {
        guard let underlying else { return false }
        return underlying.isTransient || underlying.isConnectionError
    }

    public static func == (lhs: DatabaseFailure, rhs: DatabaseFailure) -> Bool {
        lhs.operation == rhs.operation && lhs.message == rhs.message && lhs.sqlState == rhs.sqlState
    }

    public var description: String {
        var text = "database error in \(operation)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text + ": \(message)"
    }
}
