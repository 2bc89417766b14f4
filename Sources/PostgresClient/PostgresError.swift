/// An error from the PostgreSQL client: what failed, where, and what the server said.
///
/// `kind` is what callers branch on; `sqlState`, `message`, `detail` and `operation` are context for humans and
/// logs. No error ever contains a password: connection errors name only host, port, user and database.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The classes of failure callers branch on.
    public enum Kind: String, Sendable, Equatable {
        /// The connection URL or conninfo string is malformed.
        case invalidConfiguration = "invalid_configuration"
        /// Opening a connection failed (unreachable server, authentication, timeout).
        case connectionFailed = "connection_failed"
        /// An open connection broke (terminated backend, server restart, network).
        case connectionLost = "connection_lost"
        /// No pooled connection became free within the acquire timeout.
        case poolTimeout = "pool_timeout"
        /// The pool is shut down.
        case poolClosed = "pool_closed"
        /// SQLSTATE 23505.
        case uniqueViolation = "unique_violation"
        /// SQLSTATE 23503.
        case foreignKeyViolation = "foreign_key_violation"
        /// SQLSTATE 23514.
        case checkViolation = "check_violation"
        /// SQLSTATE 23502.
        case notNullViolation = "not_null_violation"
        /// SQLSTATE 40001.
        case serializationFailure = "serialization_failure"
        /// SQLSTATE 40P01.
        case deadlockDetected = "deadlock_detected"
        /// SQLSTATE 42601.
        case syntaxError = "syntax_error"
        /// SQLSTATE 57014: the statement was cancelled (task cancellation or statement timeout).
        case queryCanceled = "query_canceled"
        /// Any other error reported by the server (see `sqlState`).
        case server
        /// A parameter cannot be sent (for example a NUL byte in text).
        case invalidParameter = "invalid_parameter"
        /// A result value cannot be decoded into the requested Swift type.
        case decoding
        /// The client was used against its contract (for example two statements at once on one connection).
        case misuse
    }

    public var kind: Kind
    /// The five-character SQLSTATE when the server reported one.
    public var sqlState: String?
    /// The primary human-readable message.
    public var message: String
    /// The server's DETAIL field, if any.
    public var detail: String?
    /// The server's constraint name for integrity violations, if any.
    public var constraint: String?
    /// What the client was doing: "connect", "query", "prepare", "listen", "acquire", or a caller-chosen name.
    public var operation: String

    public init(
        _ kind: Kind,
        message: String,
        operation: String,
        sqlState: String? = nil,
        detail: String? = nil,
        constraint: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.operation = operation
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
    }

    /// Builds an error from a server SQLSTATE, classifying it.
    static func server(
        sqlState: String?,
        message: String,
        detail: String?,
        constraint: String?,
        operation: String,
        connectionBroken: Bool
    ) -> PostgresError {
        let kind: Kind
        switch sqlState {
        case "23505": kind = .uniqueViolation
        case "23503": kind = .foreignKeyViolation
        case "23514": kind = .checkViolation
        case "23502": kind = .notNullViolation
        case "40001": kind = .serializationFailure
        case "40P01": kind = .deadlockDetected
        case "42601": kind = .syntaxError
        case "57014": kind = .queryCanceled
        case "57P01", "57P02", "57P03": kind = .connectionLost
        case let code? where code.hasPrefix("08"): kind = .connectionLost
        default: kind = connectionBroken ? .connectionLost : .server
        }
        return PostgresError(
            kind,
            message: message,
            operation: operation,
            sqlState: sqlState,
            detail: detail,
            constraint: constraint
        )
    }

    /// True when retrying the whole transaction may succeed (serialization failure, deadlock).
    public var isTransient: Bool {
        kind == .serializationFailure || kind == .deadlockDetected
    }

    /// True when the connection that produced this error cannot be used again.
    public var isConnectionError: Bool {
        kind == .connectionLost || kind == .connectionFailed
    }

    public var description: String {
        var text = "PostgreSQL \(operation) failed (\(kind.rawValue)"
        if let sqlState { text += ", SQLSTATE \(sqlState)" }
        text += "): \(message)"
        if let detail { text += " — \(detail)" }
        return text
    }
}
