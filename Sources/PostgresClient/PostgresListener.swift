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

    func run() {
        var backoff = 0.25
        while !stopped.load(ordering: .acquiring) {
            do {
                let connection = try PostgresConnection.connectRaw(configuration)
                defer { PQfinish(connection) }
                for channel in channels {
                    let result = PQexec(connection, "LISTEN \"\(channel)\"")
                    let ok = PQresultStatus(result) == PGRES_COMMAND_OK
                    PQclear(result)
                    if !ok {
                        throw PostgresError(
                            .connectionLost,
                            message: String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines(),
                            operation: "listen"
                        )
                    }
                }
                backoff = 0.25
                continuation.yield(.listening)
                try pump(connection)
            } catch {
                if stopped.load(ordering: .acquiring) { break }
                logger.warning(
                    "LISTEN connection failed; reconnecting",
                    metadata: ["error": "\(error)", "retry_in_seconds": "\(backoff)"]
                )
                waitForWake(seconds: backoff)
                backoff = min(backoff * 2, 2)
            }
        }
        continuation.finish()
    }

    /// Blocks in poll(2) until the socket is readable or the loop is stopped; yields every notification.
    private func pump(_ connection: OpaquePointer) throws {
        let socket = PQsocket(connection)
        while !stopped.load(ordering: .acquiring) {
            var fds = [
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PostgresError(.connectionLost, message: "poll failed: errno \(errno)", operation: "listen")
            }
            if fds[1].revents != 0 { return }
            if PQconsumeInput(connection) == 0 {
                throw PostgresError(
                    .connectionLost,
                    message: String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines(),
                    operation: "listen"
                )
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
        return connection
    }
}
