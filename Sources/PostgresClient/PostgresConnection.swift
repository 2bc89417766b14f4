import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One PostgreSQL connection over libpq.
///
/// ## Threading
/// libpq's ordinary calls block the calling thread until the server answers, and Swift's cooperative pool has one
/// thread per core, so a blocking call there would stall unrelated tasks. This connection therefore uses libpq's
/// non-blocking API: the caller's thread only builds and queues the statement (`PQsendQueryParams` and friends in
/// non-blocking mode, then `PQflush`) and reads whatever answer has already arrived (`PQconsumeInput`, which never
/// waits). Under load the answer is often there by then, and the statement completes without suspending (a task
/// doing that for over 10 ms yields, see ``CooperativeBudget``). Otherwise the task suspends, and
/// ``PostgresEventLoop``'s thread wakes when the socket is readable, lets libpq parse what arrived
/// (`PQconsumeInput`, `PQisBusy`, `PQgetResult`) and resumes the task with the results. No thread ever waits for
/// the server: a slow statement holds a socket, not a thread. Only opening a connection (`PQconnectdbParams`)
/// blocks, and it runs on a Dispatch thread of its own.
///
/// The statement path (``query(_:_:prepared:operation:)``, ``execute(_:operation:cancellable:)``, and the pool's
/// `query`, `withConnection`, `withTransaction` and `acquire`) is `nonisolated(nonsending)`: it runs on the caller's
/// executor instead of hopping to the global one on every call, and it installs its cancellation handler only when
/// the statement has to wait. A pooled `SELECT 1` thus costs about one executor switch in the Swift runtime instead
/// of thirteen (the README says how to count them).
///
/// ## Ownership
/// A connection serves one caller at a time (the pool lends it out exclusively). A second call while one is in
/// flight fails with ``PostgresError/Kind-swift.enum/misuse`` instead of corrupting the protocol.
/// `@unchecked Sendable` invariant: the `PGconn` and `preparedStatements` are touched only by the single call in
/// flight (guarded by `busy`), on the caller's thread or, while the caller is suspended, on the event loop's thread;
/// `broken`, `closed` and `runningStatement` are atomic; the `PGcancel` handle is thread-safe by libpq's contract.
///
/// ## Cancellation
/// Cancelling the awaiting task sends a cancel request to the server for the statement in flight; the call then
/// fails with kind `.queryCanceled` and the connection stays usable. A task that is already cancelled sends no new
/// statement (except `cancellable: false` ones such as `COMMIT`/`ROLLBACK`) and fails the same way at once.
public final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    private let socket: Int32
    private let cancelHandle: OpaquePointer?
    private let broken = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)
    private let runningStatement = Atomic<UInt64>(0)
    private var statementCounter: UInt64 = 0
    private var preparedStatements: [String: String] = [:]
    /// The configuration this connection was opened with (for error context and reconnects).
    public let configuration: PostgresConfiguration

    private init(connection: OpaquePointer, configuration: PostgresConfiguration) {
        self.connection = connection
        self.configuration = configuration
        self.socket = PQsocket(connection)
        self.cancelHandle = PQgetCancel(connection)
        PQsetnonblocking(connection, 1)
    }

    deinit {
        if !closed.load(ordering: .acquiring) { PQfinish(connection) }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Opens a connection on a Dispatch thread (never the cooperative pool), bounded by the configuration's connect
    /// timeout.
    ///
    /// - Throws: ``PostgresError`` `.connectionFailed` naming host and port, never the password.
    public static func connect(_ configuration: PostgresConfiguration) async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "slotworker.postgres.connect").async {
                continuation.resume(with: Result { try connectBlocking(configuration) })
            }
        }
    }

    /// Opens a connection on the calling thread. Only for threads that may block (Dispatch, dedicated threads).
    static func connectBlocking(_ configuration: PostgresConfiguration) throws -> PostgresConnection {
        let connection = try connectRaw(configuration)
        if configuration.preparedStatements == .named {
            // Named statements are planned for their values every time: a generic plan made while a table was
            // small keeps its sequential scan after the table grew (see PreparedStatements.named).
            let result = PQexec(connection, "SET plan_cache_mode = force_custom_plan")
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                let reason = String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
                PQfinish(connection)
                throw PostgresError(
                    .connectionFailed,
                    message: "cannot set plan_cache_mode on \(configuration.description): \(reason)",
                    operation: "connect"
                )
            }
        }
        return PostgresConnection(connection: connection, configuration: configuration)
    }

    /// True once a call failed in a way that leaves the connection unusable; the pool then discards it.
    public var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// True when the connection is inside a transaction that an error already aborted (every statement until
    /// `ROLLBACK` fails, and `COMMIT` silently rolls back). Call only while no statement runs on this connection.
    public var isTransactionAborted: Bool {
        !closed.load(ordering: .acquiring) && PQtransactionStatus(connection) == PQTRANS_INERROR
    }

    /// True when the connection is open and not inside a transaction. The pool reuses only such connections.
    /// Call only while no statement runs on this connection (libpq reads local state; no I/O).
    var isReusable: Bool {
        !isBroken && !closed.load(ordering: .acquiring) && PQtransactionStatus(connection) == PQTRANS_IDLE
    }

    /// Runs one statement with `$n` parameters and returns all rows.
    ///
    /// - Parameters:
    ///   - prepared: prepare the statement once per connection and reuse it (for hot queries with a fixed text);
    ///     with ``PostgresConfiguration/PreparedStatements/unnamed`` it is sent with its text like any other.
    ///   - operation: a name for error context.
    public nonisolated(nonsending) func query(
        _ sql: String,
        _ binds: [any PostgresEncodable] = [],
        prepared: Bool = false,
        operation: String = "query"
    ) async throws -> PostgresRows {
        let encoded = try binds.map { try $0.postgresBind() }
        try begin(operation)
        defer { end() }
        let parameters = PostgresParameters(encoded)
        defer { parameters.deallocate() }
        var results: PostgresResults
        if prepared, configuration.preparedStatements == .named {
            let name = try await preparedName(for: sql, types: parameters.types, operation: operation)
            results = try await roundTrip(operation: operation) { connection in
                parameters.withPointers { count, _, values, lengths, formats in
                    PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
                }
            }
        } else {
            results = try await roundTrip(operation: operation) { connection in
                parameters.withPointers { count, types, values, lengths, formats in
                    PQsendQueryParams(connection, sql, count, types, values, lengths, formats, 0)
                }
            }
        }
        // The rows take the last result; earlier ones (none for a single statement) are freed.
        guard let last = results.pointers.popLast() else {
            throw PostgresError(.server, message: "the server sent no result", operation: operation)
        }
        results.clear()
        return PostgresRows(taking: last)
    }

    /// Runs one or more statements without parameters (simple query protocol), e.g. migrations or `BEGIN`.
    ///
    /// - Parameter cancellable: false for statements that must run to completion even when the task is
    ///   cancelled (`ROLLBACK`, `COMMIT`).
    public nonisolated(nonsending) func execute(_ sql: String, operation: String = "execute", cancellable: Bool = true)
        async throws
    {
        try begin(operation)
        defer { end() }
        try await roundTrip(operation: operation, cancellable: cancellable) { PQsendQuery($0, sql) }.clear()
    }

    /// Closes the connection. Further calls fail with `.connectionLost`.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        broken.store(true, ordering: .relaxed)
        // In non-blocking mode PQfinish queues the Terminate message and closes the socket without waiting.
        PQfinish(connection)
    }

    /// Claims the connection for one call; a concurrent second call is a programming error reported as `.misuse`.
    private func begin(_ operation: String) throws {
        guard !closed.load(ordering: .acquiring) else {
            throw PostgresError(.connectionLost, message: "the connection is closed", operation: operation)
        }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw PostgresError(
                .misuse,
                message: "the connection is already running a statement (one caller at a time)",
                operation: operation
            )
        }
    }

    private func end() {
        busy.store(false, ordering: .releasing)
    }

    /// Sends one request with `send` (a `PQsend…` call, on the caller's thread) and returns once every result of
    /// it has arrived: read on the caller's thread when it is already there, otherwise after waiting on the event
    /// loop. Wires task cancellation to `PQcancel`; a cancellable request of a task already cancelled is not sent.
    ///
    /// - Returns: the results in order, every one a success; the caller must `clear()` them.
    /// - Throws: the classified ``PostgresError`` of the first failed result (all results are freed then).
    private nonisolated(nonsending) func roundTrip(
        operation: String,
        cancellable: Bool = true,
        send: (OpaquePointer) -> Int32
    ) async throws -> PostgresResults {
        // A task already cancelled sends nothing: a cancel request that reached the server before the backend
        // started the statement would be ignored, and the statement would run to its end.
        if cancellable, Task.isCancelled {
            throw PostgresError(
                .queryCanceled,
                message: "the task was cancelled before the statement was sent",
                operation: operation
            )
        }
        let ticket = runningStatement.wrappingAdd(1, ordering: .relaxed).newValue
        guard send(connection) == 1 else { throw connectionError(operation: operation) }
        let request = PendingRequest(operation: operation)
        let results: PostgresResults
        // Under load the answer is often there right after sending (sending woke the backend, which ran while this
        // thread was preempted); then it is read here, without a wait on the event loop and the two thread wake-ups
        // that costs, and there is nothing left to cancel.
        if let outcome = step(request) {
            await CooperativeBudget.spend()
            results = try outcome.get()
        } else {
            CooperativeBudget.release()
            results = try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    request.continuation = continuation
                    wait(request)
                }
            } onCancel: {
                if cancellable { self.cancelIfRunning(ticket) }
            }
        }
        do {
            try results.pointers.forEach { try check($0, operation: operation) }
        } catch {
            results.clear()
            throw error
        }
        return results
    }

    /// Moves a sent request forward as far as the socket allows without waiting: flushes what libpq still holds,
    /// reads what has arrived and collects complete results.
    ///
    /// - Returns: the outcome once the request is finished, nil while it must wait for its socket.
    private func step(_ request: PendingRequest) -> Result<PostgresResults, any Error>? {
        if !request.flushed {
            switch PQflush(connection) {
            case 0: request.flushed = true
            case 1: return nil
            default:
                request.results.clear()
                return .failure(connectionError(operation: request.operation))
            }
        }
        // A failed read marks the connection bad; PQisBusy then turns false and PQgetResult reports it.
        PQconsumeInput(connection)
        // PQisBusy is false once a complete result is buffered, or when the connection broke (PQgetResult then
        // returns the error as a result).
        while PQisBusy(connection) == 0 {
            guard let result = PQgetResult(connection) else { return .success(request.results) }
            request.results.pointers.append(result)
        }
        return nil
    }

    /// Waits for the request's socket on an event loop (the request was just stepped and could not finish), steps
    /// the request on each wake-up and resumes its continuation once it is finished. Never blocks.
    private func wait(_ request: PendingRequest) {
        // Wait on the loop this thread belongs to, so a task running on a loop is resumed there without a hop.
        let loop = PostgresEventLoop.current ?? .shared
        // While unflushed, the socket's send buffer is full: wait until it drains, reading meanwhile so the server,
        // which may be blocked writing to us, can make progress (libpq's documented non-blocking protocol).
        let readiness: PostgresEventLoop.Readiness = request.flushed ? .readable : [.readable, .writable]
        loop.wait(for: readiness, on: socket) { [self] ready in
            if !request.flushed, ready.contains(.readable) { PQconsumeInput(connection) }
            if let outcome = step(request) {
                request.continuation?.resume(with: outcome)
            } else {
                wait(request)
            }
        }
    }

    /// The error libpq reports for a failed send or flush; marks the connection broken when it is.
    private func connectionError(operation: String) -> PostgresError {
        let connectionBroken = PQstatus(connection) != CONNECTION_OK
        if connectionBroken { broken.store(true, ordering: .relaxed) }
        let message = String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
        return PostgresError(
            connectionBroken ? .connectionLost : .server,
            message: message.isEmpty ? "the server closed the connection" : message,
            operation: operation
        )
    }

    private func cancelIfRunning(_ ticket: UInt64) {
        guard let cancelHandle, runningStatement.load(ordering: .relaxed) == ticket else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    /// The server-side name of `sql`, preparing it first on this connection if needed.
    private nonisolated(nonsending) func preparedName(for sql: String, types: [UInt32], operation: String) async throws
        -> String
    {
        if let name = preparedStatements[sql] { return name }
        statementCounter += 1
        let name = "sw_\(statementCounter)"
        try await roundTrip(operation: operation) { connection in
            types.withUnsafeBufferPointer { PQsendPrepare(connection, name, sql, Int32(types.count), $0.baseAddress) }
        }.clear()
        preparedStatements[sql] = name
        return name
    }

    /// Throws a classified ``PostgresError`` unless `result` is a success; marks the connection broken when it is.
    private func check(_ result: OpaquePointer?, operation: String) throws {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let connectionBroken = PQstatus(connection) != CONNECTION_OK
            if connectionBroken { broken.store(true, ordering: .relaxed) }
            func field(_ code: Character) -> String? {
                guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
                return String(cString: value)
            }
            let message =
                field("M") ?? String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
            let error = PostgresError.server(
                sqlState: field("C"),
                message: message.isEmpty ? "the server closed the connection" : message,
                detail: field("D"),
                constraint: field("n"),
                operation: operation,
                connectionBroken: connectionBroken
            )
            if error.kind == .connectionLost { broken.store(true, ordering: .relaxed) }
            throw error
        }
    }
}

/// A request in flight: the results gathered so far and, once it had to wait, the awaiting continuation (resumed
/// exactly once). Touched by one thread at a time (the caller's until it suspends, then the loop's), which is the
/// `@unchecked Sendable` invariant.
private final class PendingRequest: @unchecked Sendable {
    let operation: String
    var continuation: UnsafeContinuation<PostgresResults, any Error>?
    var flushed = false
    var results = PostgresResults()

    init(operation: String) {
        self.operation = operation
    }
}
