/// A point-in-time view of a pool, read by monitoring at scrape time.
public struct PostgresPoolStatistics: Sendable, Equatable {
    /// Open connections waiting in the pool.
    public var idle: Int
    /// Connections lent out to callers.
    public var inUse: Int
    /// Callers waiting for a connection.
    public var waiting: Int
    /// The pool's maximum number of connections.
    public var maxConnections: Int

    public init(idle: Int, inUse: Int, waiting: Int, maxConnections: Int) {
        self.idle = idle
        self.inUse = inUse
        self.waiting = waiting
        self.maxConnections = maxConnections
    }
}

/// Why the pool could not lend a connection, or why it dropped one (bounded metric label values).
public enum PostgresPoolEvent: String, Sendable, CaseIterable {
    /// No connection became free within the acquire timeout.
    case acquireTimeout = "acquire_timeout"
    /// Opening a new connection failed (server unreachable, authentication, ...).
    case connectFailed = "connect_failed"
    /// A connection was found broken (terminated backend, server restart) and discarded.
    case connectionBroken = "connection_broken"
}

/// Receives pool events. Implementations must be cheap and must never block or throw.
public protocol PostgresPoolObserver: Sendable {
    /// A caller got a connection after waiting `wait` (zero when one was idle).
    func didAcquire(wait: Duration)
    /// Something went wrong in the pool (see ``PostgresPoolEvent``).
    func didRecord(_ event: PostgresPoolEvent)
}
