import Dispatch
import Foundation
public import Logging
import Synchronization

/// A bounded pool of ``PostgresConnection``s.
///
/// - Connections open lazily, up to `maxConnections`.
/// - A caller that finds none free waits up to `acquireTimeout`, then gets ``PostgresError`` `.poolTimeout`.
/// - A connection that broke during a call (terminated backend, server restart) is discarded when it comes back;
///   the failed call reports `.connectionLost` and the next call gets a fresh connection.
/// - Waiting callers are served in FIFO order; cancelling a waiting task ends its wait with `CancellationError`.
/// - A thread that acquires gets the idle connection it gave back last, if there is one (otherwise the one given
///   back last by any thread). A thread thus keeps talking to the same backends, so the kernel can run each backend
///   next to its client instead of waking it across CPUs: with 4 tasks on 2 cores, `SELECT 1` round trips from
///   tasks on event loops rose by 19% (`db-roundtrip`, alternating rounds with and without it).
///
/// `withConnection` is the only way to borrow a connection, so a connection can never escape its scope.
public final class PostgresPool: Sendable {
    /// Pool limits.
    public struct Options: Sendable {
        public var maxConnections: Int
        public var acquireTimeout: Duration

        public init(maxConnections: Int = 10, acquireTimeout: Duration = .seconds(5)) {
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
        }
    }

    private struct Waiter {
        let id: UInt64
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<PostgresConnection, any Error>
    }

    /// An idle connection and the thread that gave it back.
    private struct Idle {
        let connection: PostgresConnection
        let releasedBy: pthread_t
    }

    private struct State {
        var idle: [Idle] = []
        var inUse = 0
        var opening = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isClosed = false

        var total: Int { idle.count + inUse + opening }

        /// Takes the idle connection the calling thread gave back last, else the one given back last by any thread.
        mutating func takeIdle() -> PostgresConnection? {
            let thread = pthread_self()
            if let index = idle.lastIndex(where: { $0.releasedBy == thread }) {
                return idle.remove(at: index).connection
            }
            return idle.popLast()?.connection
        }
    }

    public let configuration: PostgresConfiguration
    public let options: Options
    private let observer: (any PostgresPoolObserver)?
    private let logger: Logger
    private let state = Mutex(State())
    private let timerQueue = DispatchQueue(label: "slotworker.postgres.pool.timers")

    public init(
        configuration: PostgresConfiguration,
        options: Options = Options(),
        observer: (any PostgresPoolObserver)? = nil,
        logger: Logger = Logger(label: "slotworker.postgres")
    ) {
        self.configuration = configuration
        self.options = options
        self.observer = observer
        self.logger = logger
    }

    /// Borrows a connection for the duration of `body`. The connection returns to the pool when `body` ends,
    /// however it ends; a broken connection is discarded instead of reused. `body` must not leave a transaction
    /// open (use ``withTransaction(_:)`` or the Unit of Work). `body` runs on the caller's executor, as does the
    /// whole statement path (see ``PostgresConnection``).
    public nonisolated(nonsending) func withConnection<T>(
        _ body: nonisolated(nonsending) (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection.
    public nonisolated(nonsending) func query(
        _ sql: String,
        _ binds: [any PostgresEncodable] = [],
        prepared: Bool = false,
        operation: String = "query"
    ) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, binds, prepared: prepared, operation: operation) }
    }

    /// Runs `body` inside `BEGIN … COMMIT` on one pooled connection; rolls back if `body` throws.
    public nonisolated(nonsending) func withTransaction<T>(
        _ body: nonisolated(nonsending) (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.execute("BEGIN", operation: "begin")
            do {
                let value = try await body(connection)
                try await connection.execute("COMMIT", operation: "commit", cancellable: false)
                return value
            } catch {
                try? await connection.execute("ROLLBACK", operation: "rollback", cancellable: false)
                throw error
            }
        }
    }

    /// Current counts, for metrics.
    public func statistics() -> PostgresPoolStatistics {
        state.withLock {
            PostgresPoolStatistics(
                idle: $0.idle.count,
                inUse: $0.inUse + $0.opening,
                waiting: $0.waiters.count,
                maxConnections: options.maxConnections
            )
        }
    }

    /// Closes idle connections and fails current and future acquires with `.poolClosed`.
    public func close() async {
        let (idle, waiters) = state.withLock { state -> ([PostgresConnection], [Waiter]) in
            state.isClosed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle.map(\.connection), state.waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(
                throwing: PostgresError(.poolClosed, message: "pool closed", operation: "acquire"))
        }
        for connection in idle { await connection.close() }
    }

    // MARK: - Acquire and release

    private enum Plan {
        case use(PostgresConnection)
        case open
        case wait
    }

    /// Borrows a connection; pair every successful call with exactly one ``release(_:)``.
    /// Prefer ``withConnection(_:)``; this form exists for scopes that must tell acquire failures from body failures.
    public nonisolated(nonsending) func acquire() async throws -> PostgresConnection {
        let plan = try state.withLock { state -> Plan in
            if state.isClosed {
                throw PostgresError(.poolClosed, message: "pool closed", operation: "acquire")
            }
            if let connection = state.takeIdle() {
                state.inUse += 1
                return .use(connection)
            }
            if state.total < options.maxConnections {
                state.opening += 1
                return .open
            }
            return .wait
        }
        switch plan {
        case .use(let connection):
            observer?.didAcquire(wait: .zero)
            return connection
        case .open:
            let start = ContinuousClock.now
            do {
                let connection = try await PostgresConnection.connect(configuration)
                state.withLock {
                    $0.opening -= 1
                    $0.inUse += 1
                }
                observer?.didAcquire(wait: ContinuousClock.now - start)
                return connection
            } catch {
                state.withLock { $0.opening -= 1 }
                observer?.didRecord(.connectFailed)
                throw error
            }
        case .wait:
            let start = ContinuousClock.now
            let connection = try await waitForConnection(since: start)
            observer?.didAcquire(wait: ContinuousClock.now - start)
            return connection
        }
    }

    private func waitForConnection(since start: ContinuousClock.Instant) async throws -> PostgresConnection {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let enqueued = state.withLock { state -> Bool in
                    // A connection may have come back between planning and now.
                    if let connection = state.takeIdle() {
                        state.inUse += 1
                        continuation.resume(returning: connection)
                        return false
                    }
                    state.waiters.append(Waiter(id: id, enqueued: start, continuation: continuation))
                    return true
                }
                guard enqueued else { return }
                let timeout = options.acquireTimeout
                timerQueue.asyncAfter(deadline: .now() + timeout.timeInterval) { [self] in
                    failWaiter(
                        id,
                        PostgresError(
                            .poolTimeout,
                            message: "no database connection became free within \(timeout) "
                                + "(pool of \(options.maxConnections) connections to \(configuration.host):"
                                + "\(configuration.port))",
                            operation: "acquire"
                        )
                    )
                    observer?.didRecord(.acquireTimeout)
                }
            }
        } onCancel: {
            failWaiter(id, CancellationError())
        }
    }

    private func failWaiter(_ id: UInt64, _ error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Returns a connection obtained from ``acquire()``. Broken connections and connections left inside a
    /// transaction are discarded instead of reused.
    public func release(_ connection: PostgresConnection) {
        if !connection.isReusable {
            if connection.isBroken { observer?.didRecord(.connectionBroken) }
            logger.warning(
                "discarding a database connection that is broken or still inside a transaction",
                metadata: ["db.host": "\(configuration.host)", "db.port": "\(configuration.port)"]
            )
            // Dropping the last reference closes the socket (deinit calls PQfinish, which does not wait).
            let replaceForWaiter = state.withLock { state -> Bool in
                state.inUse -= 1
                guard !state.waiters.isEmpty, !state.isClosed else { return false }
                state.opening += 1
                return true
            }
            if replaceForWaiter { openForWaiter() }
            return
        }
        let waiter = state.withLock { state -> Waiter? in
            if !state.waiters.isEmpty, !state.isClosed {
                return state.waiters.removeFirst()
            }
            state.inUse -= 1
            if !state.isClosed { state.idle.append(Idle(connection: connection, releasedBy: pthread_self())) }
            return nil
        }
        waiter?.continuation.resume(returning: connection)
    }

    /// Opens a replacement connection on a Dispatch thread and hands it to the first waiter (or the idle list).
    private func openForWaiter() {
        let configuration = self.configuration
        let queue = DispatchQueue(label: "slotworker.postgres.connection")
        queue.async { [self] in
            let result = Result { try PostgresConnection.connectBlocking(configuration) }
            let waiter = state.withLock { state -> Waiter? in
                state.opening -= 1
                switch result {
                case .success(let connection):
                    if state.waiters.isEmpty {
                        state.idle.append(Idle(connection: connection, releasedBy: pthread_self()))
                        return nil
                    }
                    state.inUse += 1
                    return state.waiters.removeFirst()
                case .failure:
                    return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                }
            }
            if case .failure = result { observer?.didRecord(.connectFailed) }
            waiter?.continuation.resume(with: result)
        }
    }
}

extension Duration {
    /// Seconds as a `Double`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var timeInterval: DispatchTimeInterval { .nanoseconds(Int(seconds * 1e9)) }
}
