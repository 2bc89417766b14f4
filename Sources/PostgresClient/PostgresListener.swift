import CLibPQ
import Foundation
public import Logging
import Synchronization

/// An event from a ``PostgresListener``.
public enum PostgresListenerEvent: Sendable, Equatable {
    /// `LISTEN` is active on every channel (after the first connect and after every reconnect). Notifications sent
    /// while the listener was disconnected are lost, so consumers should look for missed work when they see this.
    case listening
    /// A notification arrived.
    case notification(channel: String, payload: String)
}

/// LISTEN/NOTIFY on a dedicated connection, delivered as an async sequence.
///
/// The listener owns one connection and one dedicated thread. The thread blocks in `poll(2)` on the connection's
/// socket and on a wake-up pipe — it does not query the database in a loop — then reads notifications with
/// `PQconsumeInput` + `PQnotifies`. When the connection drops it reconnects with backoff (1 s, doubling to 30 s)
/// and emits ``PostgresListenerEvent/listening`` again. The thread ends when the sequence's consumer stops
/// (the stream terminates) or ``events()``'s task is cancelled.
///
/// Use a direct connection URL here when the pool goes through PgBouncer in transaction mode.
public final class PostgresListener: Sendable {
    private let configuration: PostgresConfiguration
    private let channels: [String]
    private let logger: Logger

    /// - Parameter channels: channel names; must be plain identifiers (`[A-Za-z_][A-Za-z0-9_]*`).
    public init(configuration: PostgresConfiguration, channels: [String], logger: Logger) throws {
        for channel in channels where !PostgresListener.isIdentifier(channel) {
            throw PostgresError(
                .invalidParameter,
                message: "channel name \"\(channel)\" is not a plain identifier",
                operation: "listen"
            )
        }
        self.configuration = configuration
        self.channels = channels
        self.logger = logger
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !name.isEmpty, name.utf8.count <= 63 else { return false }
        let letters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        let rest = letters.union(CharacterSet(charactersIn: "0123456789"))
        return letters.contains(first) && name.unicodeScalars.allSatisfy { rest.contains($0) }
    }

    /// Starts listening and returns the events. Each call starts its own connection and thread.
    public func events() -> AsyncStream<PostgresListenerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: PostgresListenerEvent.self, bufferingPolicy: .unbounded)
        let loop = ListenerLoop(
            configuration: configuration,
            channels: channels,
            logger: logger,
            continuation: continuation
        )
        continuation.onTermination = { _ in loop.stop() }
        let thread = Thread { loop.run() }
        thread.name = "slotworker-listen"
        thread.start()
        return stream
    }
}

/// The body of the listener thread. `@unchecked Sendable`: `connection` is only touched on the listener thread;
/// `stopped` is atomic and the wake-up pipe's write end may be written from any thread.
private final class ListenerLoop: @unchecked Sendable {
    let configuration: PostgresConfiguration
    let channels: [String]
    let logger: Logger
    let continuation: AsyncStream<PostgresListenerEvent>.Continuation
    let stopped = Atomic<Bool>(false)
    let wakeRead: Int32
    let wakeWrite: Int32

    init(
        configuration: PostgresConfiguration,
        channels: [String],
        logger: Logger,
        continuation: AsyncStream<PostgresListenerEvent>.Continuation
    ) {
        self.configuration = configuration
        self.channels = channels
        self.logger = logger
        self.continuation = continuation
        var fds: [Int32] = [-1, -1]
        pipe(&fds)
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// While the connection keeps failing, the log repeats the news at most this often.
    static let failureLogInterval = Duration.seconds(30)

    func run() {
        var backoff = 0.25
        var failures = 0
        var lastLogged: ContinuousClock.Instant?
        while !stopped.load(ordering: .acquiring) {
            do {
                let connection = try PostgresConnection.connectRaw(configuration)
                defer { PQfinish(connection) }
                for channel in channels {
                    try PostgresConnection.runBounded(
                        "LISTEN \"\(channel)\"", on: connection, configuration: configuration)
                }
                backoff = 0.25
                if failures > 0 {
                    logger.info("LISTEN connection restored", metadata: ["db.listen_failures": "\(failures)"])
                    failures = 0
                    lastLogged = nil
                }
                continuation.yield(.listening)
                try pump(connection)
            } catch {
                if stopped.load(ordering: .acquiring) { break }
                failures += 1
                let now = ContinuousClock.now
                if lastLogged.map({ now - $0 >= Self.failureLogInterval }) ?? true {
                    lastLogged = now
                    logger.warning(
                        "LISTEN connection failed; reconnecting",
                        metadata: [
                            "error": "\(error)", "retry_in_seconds": "\(backoff)", "db.listen_failures": "\(failures)",
                        ]
                    )
                }
                waitForWake(seconds: backoff)
                backoff = min(backoff * 2, 2)
            }
        }
        continuation.finish()
    }

    /// Blocks in poll(2) until the socket is readable or the loop is stopped; yields every notification.
    ///
    /// After ``PostgresTimeouts/keepalivesIdleSeconds`` without traffic it sends a ping (an empty query); a ping
    /// left unanswered for ``PostgresTimeouts/pingDeadline`` means the connection is dead, even when the kernel
    /// still sees the peer acknowledge (a stalled proxy), and the loop reconnects.
    private func pump(_ connection: OpaquePointer) throws {
        let socket = PQsocket(connection)
        let idle = Duration.seconds(configuration.timeouts.keepalivesIdleSeconds)
        let pingDeadline = configuration.timeouts.pingDeadline
        var lastTraffic = ContinuousClock.now
        var pingSent: ContinuousClock.Instant?
        while !stopped.load(ordering: .acquiring) {
            var fds = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let due = pingSent.map { $0 + pingDeadline } ?? lastTraffic + idle
            let wait = max(0, PostgresTimeouts.milliseconds(due - ContinuousClock.now))
            let ready = poll(&fds, 2, Int32(min(wait, 60_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(.connectionLost, message: "poll failed: errno \(errno)", operation: "listen")
            }
            if fds[1].revents != 0 { return }
            if ready == 0 {
                guard ContinuousClock.now >= due else { continue }
                if pingSent != nil {
                    throw PostgresError(
                        .connectionLost,
                        message: "the LISTEN connection to \(configuration.description) did not answer a ping "
                            + "within \(pingDeadline)",
                        operation: "listen"
                    )
                }
                guard PQsendQuery(connection, "") == 1 else {
                    throw PostgresError(
                        .connectionLost,
                        message: String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines(),
                        operation: "listen"
                    )
                }
                pingSent = .now
                continue
            }
            if PQconsumeInput(connection) == 0 {
                throw PostgresError(
                    .connectionLost,
                    message: String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines(),
                    operation: "listen"
                )
            }
            lastTraffic = .now
            if pingSent != nil {
                while PQisBusy(connection) == 0 {
                    guard let result = PQgetResult(connection) else {
                        pingSent = nil
                        break
                    }
                    PQclear(result)
                }
            }
            while let notify = PQnotifies(connection) {
                let channel = String(cString: notify.pointee.relname)
                let payload = String(cString: notify.pointee.extra)
                PQfreemem(notify)
                continuation.yield(.notification(channel: channel, payload: payload))
            }
        }
    }

    private func waitForWake(seconds: Double) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, Int32(seconds * 1000))
    }
}

extension PostgresConnection {
    /// Opens a raw libpq connection on the calling thread (for the listener's dedicated thread).
    static func connectRaw(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        let keys = configuration.parameters.map { strdup($0.key) }
        let values = configuration.parameters.map { strdup($0.value) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let connection = PQconnectdbParams(&keyPointers, &valuePointers, 0) else {
            throw PostgresError(.connectionFailed, message: "out of memory", operation: "connect")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
            PQfinish(connection)
            let masked = configuration.password.map { reason.replacingAll($0, with: "****") } ?? reason
            throw PostgresError(
                .connectionFailed,
                message: "cannot connect to \(configuration.description): \(masked)",
                operation: "connect"
            )
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        do {
            try applySessionSettings(configuration, on: connection)
        } catch {
            PQfinish(connection)
            throw error
        }
        return connection
    }

    /// Sends the session settings of ``PostgresTimeouts`` (`set_config` with bound values).
    private static func applySessionSettings(
        _ configuration: PostgresConfiguration,
        on connection: OpaquePointer
    ) throws {
        let settings = configuration.timeouts.sessionSettings
        guard !settings.isEmpty else { return }
        let sql =
            "SELECT "
            + settings.indices.map { "set_config('\(settings[$0].name)', $\($0 + 1), false)" }
            .joined(separator: ", ")
        do {
            try runBounded(sql, values: settings.map(\.value), on: connection, configuration: configuration)
        } catch {
            throw PostgresError(
                .connectionFailed,
                message: "cannot set the session timeouts on \(configuration.description): \(error.message)",
                operation: "connect"
            )
        }
    }

    /// Runs one statement with text parameters on a connection in blocking mode, waiting for its answer at most the
    /// connect timeout, so a server or proxy that accepted the connection and then went silent cannot hold the
    /// calling thread.
    ///
    /// - Throws: ``PostgresError`` `.connectionLost` (no answer, or the connection broke) or `.server`.
    static func runBounded(
        _ sql: String,
        values: [String] = [],
        on connection: OpaquePointer,
        configuration: PostgresConfiguration
    ) throws(PostgresError) {
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        func lost() -> PostgresError {
            PostgresError(
                .connectionLost,
                message: String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines(),
                operation: "connect"
            )
        }
        guard PQsendQueryParams(connection, sql, Int32(copies.count), nil, &pointers, nil, nil, 0) == 1 else {
            throw lost()
        }
        let deadline = ContinuousClock.now + .seconds(max(1, configuration.connectTimeoutSeconds))
        var failure: PostgresError?
        while true {
            guard PQconsumeInput(connection) == 1 else { throw lost() }
            if PQisBusy(connection) == 0 {
                guard let result = PQgetResult(connection) else { break }
                let status = PQresultStatus(result)
                if status != PGRES_TUPLES_OK, status != PGRES_COMMAND_OK, failure == nil {
                    failure = PostgresError(
                        .server,
                        message: String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines(),
                        operation: "connect"
                    )
                }
                PQclear(result)
                continue
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw PostgresError(
                    .connectionLost,
                    message:
                        "\(configuration.description) did not answer within \(configuration.connectTimeoutSeconds) s",
                    operation: "connect"
                )
            }
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(PostgresTimeouts.milliseconds(left)))
        }
        if let failure { throw failure }
    }
}
