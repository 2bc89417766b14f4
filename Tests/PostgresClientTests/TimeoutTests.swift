import Foundation
import PostgresClient
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Dead-connection detection and session timeouts")
struct TimeoutTests {
    static let timeouts = PostgresTimeouts(
        keepalivesIdleSeconds: 7,
        keepalivesIntervalSeconds: 2,
        keepalivesCount: 4,
        tcpUserTimeout: .milliseconds(1500),
        statementTimeout: .milliseconds(300),
        idleInTransactionTimeout: .seconds(5)
    )

    static func configuration(_ conninfo: String? = nil) throws -> PostgresConfiguration {
        let server = try TestDatabase.serverConfiguration()
        let url = try conninfo ?? TestDatabase.url(database: server.database ?? "postgres")
        return try PostgresConfiguration(url, timeouts: timeouts)
    }

    static func option(_ socket: Int32, _ level: Int32, _ name: Int32) -> Int32 {
        var value: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(socket, level, name, &value, &length)
        return value
    }

    /// The kernel applies keepalives and the TCP user timeout to the connection's socket, and the server runs the
    /// session with the configured statement and idle-in-transaction timeouts.
    @Test func everyConnectionCarriesKeepalivesAndSessionTimeouts() async throws {
        let connection = try await PostgresConnection.connect(try Self.configuration())
        let socket = connection.socketDescriptor
        #expect(Self.option(socket, SOL_SOCKET, SO_KEEPALIVE) == 1)
        #expect(Self.option(socket, Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 7)
        #expect(Self.option(socket, Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 2)
        #expect(Self.option(socket, Int32(IPPROTO_TCP), TCP_KEEPCNT) == 4)
        #expect(Self.option(socket, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT) == 1500)
        let rows = try await connection.query(
            "SELECT current_setting('statement_timeout') AS s, "
                + "current_setting('idle_in_transaction_session_timeout') AS i")
        #expect(try rows[0].decode("s", as: String.self) == "300ms")
        #expect(try rows[0].decode("i", as: String.self) == "5s")

        // The server cancels a statement at its timeout; the connection stays usable.
        let error = await #expect(throws: PostgresError.self) { _ = try await connection.query("SELECT pg_sleep(3)") }
        #expect(error?.kind == .queryCanceled)
        #expect(try await connection.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await connection.close()
    }

    /// A parameter the connection string sets itself wins over the configured one.
    @Test func theConnectionStringWins() async throws {
        let server = try TestDatabase.serverConfiguration()
        let url = try TestDatabase.url(database: server.database ?? "postgres") + "?keepalives_idle=21"
        let connection = try await PostgresConnection.connect(try Self.configuration(url))
        #expect(Self.option(connection.socketDescriptor, Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 21)
        #expect(Self.option(connection.socketDescriptor, Int32(IPPROTO_TCP), TCP_KEEPCNT) == 4)
        await connection.close()
    }

    /// A statement that gets no answer within the response deadline (statement timeout + TCP user timeout) fails
    /// with `.connectionLost` and a message saying so, and the pool replaces the connection. Here the session
    /// turned its own statement timeout off, so the server stays silent as a dead network would.
    @Test func aStatementWithoutAnswerFailsAtTheClientDeadline() async throws {
        let pool = PostgresPool(configuration: try Self.configuration(), options: .init(maxConnections: 1))
        // Timed from the statement itself: connecting and the SET can take seconds on a loaded machine.
        let start = Mutex(ContinuousClock.now)
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                try await connection.execute("SET statement_timeout = 0")
                start.withLock { $0 = ContinuousClock.now }
                _ = try await connection.query("SELECT pg_sleep(10)")
            }
        }
        let elapsed = ContinuousClock.now - start.withLock { $0 }
        #expect(error?.kind == .connectionLost)
        #expect(error?.message.contains("no answer from") == true, "\(String(describing: error))")
        // Deadline 1.8 s (0.3 s + 1.5 s); the server would have answered after 10 s.
        #expect(elapsed >= .milliseconds(1700) && elapsed < .seconds(8), "failed after \(elapsed)")
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await pool.close()
    }
}
