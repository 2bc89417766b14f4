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
/// - When opening a connection fails (the server refuses: `max_connections` reached, it is down, the network is
///   gone), the pool keeps every connection it holds and opens no new one for a backoff (100 ms, doubling to 5 s):
///   meanwhile a caller that finds none idle waits for a held one to come back (when the pool holds none, it
///   tries to connect: there is nothing to wait for). It logs the failure once, then at most every
///   ``Options/troubleLogInterval``, and once more when connecting works again; ``connectTrouble`` describes it
///   for health reports.
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
        /// While connects keep failing, the log repeats the news at most this often.
        public var troubleLogInterval: Duration

        public init(
            maxConnections: Int = 10,
            acquireTimeout: Duration = .seconds(5),
            troubleLogInterval: Duration = .seconds(30)
        ) {
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
            self.troubleLogInterval = troubleLogInterval
        }
    }

    /// Failed connects since the last successful one.
    private struct ConnectTrouble {
        var failures = 0
        var since = ContinuousClock.now
        var retryAt = ContinuousClock.now
        var lastFailure = ContinuousClock.now
        var lastError: PostgresError?
        var lastLogged: ContinuousClock.Instant?

        /// The wait before the next connect: 100 ms doubling per failure, capped at 5 s.
        static func backoff(failures: Int) -> Duration {
            .milliseconds(min(5000, 100 << min(max(failures - 1, 0), 6)))
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
        var trouble = ConnectTrouble()

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
    /// Receives acquire waits, timeouts, failed connects and broken connections (a pool opened beside this one for
    /// the same purpose, such as a job runner's own, reports to the same observer).
    public let observer: (any PostgresPoolObserver)?
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

    /// A short description of failing connects ("cannot open new connections …"), nil while connects work or
    /// when none failed for ``connectTroubleMemory`` (the pool had no need to try again).
    public var connectTrouble: String? {
        state.withLock { state in
            guard state.trouble.failures > 0, let error = state.trouble.lastError,
                ContinuousClock.now - state.trouble.lastFailure < Self.connectTroubleMemory
            else { return nil }
            let held = state.idle.count + state.inUse
            return "cannot open new connections (\(state.trouble.failures) failed since "
                + "\(Self.seconds(ContinuousClock.now - state.trouble.since)) s ago; working with \(held) held): "
                + error.message
        }
    }

    /// How long a failed connect counts as current trouble (twice the longest backoff).
    public static let connectTroubleMemory = Duration.seconds(10)

    private static func seconds(_ duration: Duration) -> String {
        String(Int(duration.seconds.rounded()))
    }

    /// Records the outcome of one connect attempt; logs the first failure, then at most every
    /// `troubleLogInterval`, and the recovery.
    private func recordConnect(_ result: Result<PostgresConnection, any Error>) {
        let now = ContinuousClock.now
        enum Log {
            case failing(failures: Int, held: Int, error: PostgresError, first: Bool)
            case recovered(failures: Int, after: Duration)
        }
        let log = state.withLock { state -> Log? in
            switch result {
            case .success:
                guard state.trouble.failures > 0 else { return nil }
                defer { state.trouble = ConnectTrouble() }
                return .recovered(failures: state.trouble.failures, after: now - state.trouble.since)
            case .failure(let error):
                let error =
                    error as? PostgresError
                    ?? PostgresError(.connectionFailed, message: "\(error)", operation: "connect")
                if state.trouble.failures == 0 { state.trouble.since = now }
                state.trouble.failures += 1
                state.trouble.lastError = error
                state.trouble.lastFailure = now
                state.trouble.retryAt = now + ConnectTrouble.backoff(failures: state.trouble.failures)
                let first = state.trouble.lastLogged == nil
                guard first || now - state.trouble.lastLogged! >= options.troubleLogInterval else { return nil }
                state.trouble.lastLogged = now
                return .failing(
                    failures: state.trouble.failures,
                    held: state.idle.count + state.inUse,
                    error: error,
                    first: first
                )
            }
        }
        var metadata: Logger.Metadata = ["db.host": "\(configuration.host)", "db.port": "\(configuration.port)"]
        switch log {
        case .failing(let failures, let held, let error, let first):
            metadata["error"] = "\(error.message)"
            metadata["db.connect_failures"] = "\(failures)"
            metadata["db.connections_held"] = "\(held)"
            logger.error(
                first
                    ? "cannot open a database connection; keeping the ones held and retrying with backoff"
                    : "still cannot open database connections; keeping the ones held and retrying with backoff",
                metadata: metadata
            )
        case .recovered(let failures, let after):
            metadata["db.connect_failures"] = "\(failures)"
            logger.info(
                "database connections open again after \(Self.seconds(after)) s of failed connects",
                metadata: metadata
            )
        case nil:
            break
        }
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
            let backingOff = state.trouble.failures > 0 && ContinuousClock.now < state.trouble.retryAt
            if state.total < options.maxConnections, !backingOff {
                state.opening += 1
                return .open
            }
            // Backing off with nothing held that could come back: try to connect rather than wait for nothing
            // (the caller has its own backoff).
            if backingOff, state.total == 0 {
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
                recordConnect(.success(connection))
                observer?.didAcquire(wait: ContinuousClock.now - start)
                return connection
            } catch {
                state.withLock { $0.opening -= 1 }
                recordConnect(.failure(error))
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
            recordConnect(result)
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
