import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One PostgreSQL connection over libpq.
///
/// ## Threading
/// libpq calls block the calling thread until the server answers. Swift's cooperative pool has one thread per core,
/// so a blocking call there would stall unrelated tasks. Every libpq call on this connection therefore runs on the
/// connection's own serial `DispatchQueue` (Dispatch's thread pool, separate from Swift concurrency's), and the
/// awaiting task is suspended on a continuation until the call finishes. A slow statement occupies one Dispatch
/// thread, never a cooperative one.
///
/// ## Ownership
/// A connection serves one caller at a time (the pool lends it out exclusively); the serial queue also serializes
/// accidental concurrent use. `@unchecked Sendable` invariant: the `PGconn` pointer and `preparedStatements` are
/// touched only on `queue`; `broken` is atomic; the `PGcancel` handle is thread-safe by libpq's contract.
///
/// ## Cancellation
/// Cancelling the awaiting task sends a cancel request to the server for the statement in flight; the call then
/// fails with kind `.queryCanceled` and the connection stays usable.
public final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    private let cancelHandle: OpaquePointer?
    private let queue: DispatchQueue
    private let broken = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    private let runningStatement = Mutex<UInt64>(0)
    private var statementCounter: UInt64 = 0
    private var preparedStatements: [String: String] = [:]
    /// The configuration this connection was opened with (for error context and reconnects).
    public let configuration: PostgresConfiguration

    private init(connection: OpaquePointer, configuration: PostgresConfiguration, queue: DispatchQueue) {
        self.connection = connection
        self.configuration = configuration
        self.queue = queue
        self.cancelHandle = PQgetCancel(connection)
    }

    deinit {
        if !closed.load(ordering: .acquiring) { PQfinish(connection) }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Opens a connection (off the cooperative pool), bounded by the configuration's connect timeout.
    ///
    /// - Throws: ``PostgresError`` `.connectionFailed` naming host and port, never the password.
    public static func connect(_ configuration: PostgresConfiguration) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "slotworker.postgres.connection")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try connectBlocking(configuration, queue: queue) })
            }
        }
    }

    /// Opens a connection on the calling thread. Only for threads that may block (Dispatch, dedicated threads).
    static func connectBlocking(_ configuration: PostgresConfiguration, queue: DispatchQueue) throws
        -> PostgresConnection
    {
        let connection = try connectRaw(configuration)
        return PostgresConnection(connection: connection, configuration: configuration, queue: queue)
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
    ///   - prepared: prepare the statement once per connection and reuse it (for hot queries with a fixed text).
    ///   - operation: a name for error context.
    public func query(
        _ sql: String,
        _ binds: [any PostgresEncodable] = [],
        prepared: Bool = false,
        operation: String = "query"
    ) async throws -> PostgresRows {
        let encoded = try binds.map { try $0.postgresBind() }
        return try await run(operation: operation) { [self] in
            try executeBlocking(sql, encoded, prepared: prepared, operation: operation)
        }
    }

    /// Runs one or more statements without parameters (simple query protocol), e.g. migrations or `BEGIN`.
    ///
    /// - Parameter cancellable: false for statements that must run to completion even when the task is
    ///   cancelled (`ROLLBACK`, `COMMIT`).
    public func execute(_ sql: String, operation: String = "execute", cancellable: Bool = true) async throws {
        try await run(operation: operation, cancellable: cancellable) { [self] in
            let result = PQexec(connection, sql)
            defer { PQclear(result) }
            try check(result, operation: operation)
        }
    }

    /// Closes the connection. Further calls fail with `.connectionLost`.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        broken.store(true, ordering: .relaxed)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                PQfinish(connection)
                continuation.resume()
            }
        }
    }

    /// Hops to the connection's queue, runs `body` there, and wires task cancellation to `PQcancel`.
    private func run<T: Sendable>(
        operation: String,
        cancellable: Bool = true,
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        guard !closed.load(ordering: .acquiring) else {
            throw PostgresError(.connectionLost, message: "the connection is closed", operation: operation)
        }
        let ticket = runningStatement.withLock { value -> UInt64 in
            value &+= 1
            return value
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async { continuation.resume(with: Result { try body() }) }
            }
        } onCancel: {
            if cancellable { self.cancelIfRunning(ticket) }
        }
    }

    private func cancelIfRunning(_ ticket: UInt64) {
        guard let cancelHandle, runningStatement.withLock({ $0 == ticket }) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    /// Executes on `queue`. Builds the C parameter arrays and reads the whole result.
    private func executeBlocking(
        _ sql: String,
        _ binds: [PostgresBind],
        prepared: Bool,
        operation: String
    ) throws -> PostgresRows {
        let count = Int32(binds.count)
        var types = [UInt32](repeating: 0, count: binds.count)
        var lengths = [Int32](repeating: 0, count: binds.count)
        var formats = [Int32](repeating: 0, count: binds.count)
        // Every value in one buffer, each NUL-terminated (libpq reads text-format values up to the NUL); freed
        // after the call.
        var size = 0
        for bind in binds { size += (bind.bytes?.count ?? 0) + 1 }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { storage.deallocate() }
        var values = [UnsafePointer<CChar>?](repeating: nil, count: binds.count)
        var offset = 0
        for (index, bind) in binds.enumerated() {
            types[index] = bind.typeOID
            formats[index] = bind.isBinary ? 1 : 0
            guard let bytes = bind.bytes else { continue }
            lengths[index] = Int32(bytes.count)
            let target = storage + offset
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { source in
                    if let address = source.baseAddress { target.update(from: address, count: source.count) }
                }
            }
            target[bytes.count] = 0
            values[index] = UnsafePointer(target)
            offset += bytes.count + 1
        }

        let result: OpaquePointer?
        if prepared {
            let name = try preparedName(for: sql, types: types, operation: operation)
            result = PQexecPrepared(connection, name, count, &values, &lengths, &formats, 0)
        } else {
            result = PQexecParams(connection, sql, count, &types, &values, &lengths, &formats, 0)
        }
        defer { PQclear(result) }
        try check(result, operation: operation)
        return readRows(result!)
    }

    private func preparedName(for sql: String, types: [UInt32], operation: String) throws -> String {
        if let name = preparedStatements[sql] { return name }
        statementCounter += 1
        let name = "sw_\(statementCounter)"
        var types = types
        let result = PQprepare(connection, name, sql, Int32(types.count), &types)
        defer { PQclear(result) }
        try check(result, operation: operation)
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

    private func readRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        var types: [UInt32] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(String(cString: PQfname(result, Int32(column))))
            types.append(PQftype(result, Int32(column)))
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    // Text-format cells; the length saves a strlen (same repair of invalid UTF-8 as cString).
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawPointer(PQgetvalue(result, row, column)!).assumingMemoryBound(to: UInt8.self)
                    cells.append(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            columns: columns,
            columnTypes: types,
            cells: cells,
            rowCount: rowCount,
            affectedRows: affected
        )
    }
}
