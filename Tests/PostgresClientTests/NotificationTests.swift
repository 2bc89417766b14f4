import Foundation
import Logging
import PostgresClient
import TestSupport
import Testing

@Suite("LISTEN/NOTIFY")
struct NotificationTests {
    /// Delivery is prompt: the listener's thread waits in poll(2) on the socket, it does not poll on a timer. (The
    /// latency figure itself is `scripts/bench queue-latency`'s; the bound here leaves room for a loaded machine.)
    @Test func notifyArrivesPromptlyAfterCommit() async throws {
        let (_, pool, stream) = try await listening()
        var events = stream.makeAsyncIterator()
        #expect(await events.next() == .listening)
        var latencies: [Duration] = []
        _ = try await pool.query("SELECT 1")  // open the pool's connection first
        for index in 0..<5 {
            let sent = try await pool.withConnection { connection in
                try await connection.execute("BEGIN")
                _ = try await connection.query("SELECT pg_notify('jobs', $1)", ["n\(index)"])
                try await connection.execute("COMMIT")
                // Measured from the server's acknowledgement of the commit: the COMMIT itself can wait tens of
                // milliseconds for a WAL flush behind other tests' CREATE DATABASE, which is not delivery latency.
                return ContinuousClock.now
            }
            let event = await events.next()
            latencies.append(ContinuousClock.now - sent)
            #expect(event == .notification(channel: "jobs", payload: "n\(index)"))
        }
        #expect(latencies.max()! < .milliseconds(500), "latencies: \(latencies)")
    }

    @Test func notifyInsideARolledBackTransactionNeverArrives() async throws {
        let (_, pool, stream) = try await listening()
        var events = stream.makeAsyncIterator()
        #expect(await events.next() == .listening)
        try await pool.withConnection { connection in
            try await connection.execute("BEGIN")
            _ = try await connection.query("SELECT pg_notify('jobs', $1)", ["rolled-back"])
            try await connection.execute("ROLLBACK")
        }
        // A committed marker afterwards: the first thing to arrive must be the marker.
        _ = try await pool.query("SELECT pg_notify('jobs', $1)", ["committed"])
        #expect(await events.next() == .notification(channel: "jobs", payload: "committed"))
    }

    @Test func listenerReconnectsAfterItsBackendIsTerminated() async throws {
        let (configuration, pool, stream) = try await listening()
        var events = stream.makeAsyncIterator()
        #expect(await events.next() == .listening)
        _ = try await TestDatabase.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
            [configuration.database ?? ""]
        )
        #expect(await events.next() == .listening)
        _ = try await pool.query("SELECT pg_notify('jobs', 'after')")
        #expect(await events.next() == .notification(channel: "jobs", payload: "after"))
    }

    @Test func channelNamesMustBeIdentifiers() throws {
        let configuration = try TestDatabase.serverConfiguration()
        #expect(throws: PostgresError.self) {
            _ = try PostgresListener(configuration: configuration, channels: ["x\"; DROP"], logger: Logger(label: "t"))
        }
    }

    /// A fresh database, a pool on it, and the events of a listener on channel `jobs`.
    private func listening() async throws -> (PostgresConfiguration, PostgresPool, AsyncStream<PostgresListenerEvent>) {
        let configuration = try await TestDatabase.create(migrated: false)
        let listener = try PostgresListener(
            configuration: configuration, channels: ["jobs"], logger: Logger(label: "t"))
        return (configuration, PostgresPool(configuration: configuration), listener.events())
    }
}
