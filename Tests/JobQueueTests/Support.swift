import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// A logger for tests: quiet unless `JOBQUEUE_TEST_LOG_LEVEL` (e.g. `debug`) asks for more.
let testLogger: Logger = {
    var logger = Logger(label: "jobqueue.test")
    let level = ProcessInfo.processInfo.environment["JOBQUEUE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
    logger.logLevel = level ?? .critical
    return logger
}()

/// A fresh migrated database and its `Database`.
func makeDatabase(maxConnections: Int = 6) async throws -> Database {
    let pool = try await TestDatabase.pool(migrated: true, maxConnections: maxConnections)
    return Database(pool: pool, logger: testLogger)
}

/// A second `Database` (own pool) on the same database, as another worker process would have.
func makeDatabase(sharing database: Database, maxConnections: Int = 6) -> Database {
    Database(
        pool: PostgresPool(configuration: database.pool.configuration, options: .init(maxConnections: maxConnections)),
        logger: testLogger
    )
}

/// Runs `services` in a service group while `body` runs, then shuts the group down gracefully and waits for it.
func withServices<T: Sendable>(
    _ services: [any Service],
    _ body: () async throws -> T
) async throws -> T {
    let group = ServiceGroup(services: services, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let value = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
@discardableResult
func eventually(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Runner settings for tests: short lease and poll, quick completion flushes.
func testConfiguration(
    concurrency: Int = 8,
    lease: Duration = .seconds(5),
    pollInterval: Duration = .milliseconds(200),
    listen: Bool = true,
    shutdownTimeout: Duration = .seconds(5),
    retryPolicy: RetryPolicy = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50), jitter: 0)
) -> JobRunnerConfiguration {
    JobRunnerConfiguration(
        concurrency: concurrency,
        lease: lease,
        pollInterval: pollInterval,
        listen: listen,
        defaultTimeout: .seconds(30),
        retryPolicy: retryPolicy,
        shutdownTimeout: shutdownTimeout
    )
}

extension Database {
    /// One row's columns by name (as text), for assertions.
    func job(_ id: Int64) async throws -> Job {
        try await JobAdmin(database: self).job(id: id).get()
    }

    /// Runs a query on the pool.
    func rows(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await pool.query(sql, binds)
    }

    /// Counts jobs matching a WHERE clause (a constant written in the test).
    func count(where clause: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM jobs WHERE \(clause)", binds)[0].decode("n")
    }
}

/// Runs `body` once a listener on the job queue's channel listens, then returns what `body` returned and the
/// notifications heard: at least `expected` of them (waiting up to 3 s), and whatever else arrives within `settle`.
func withJobNotifications<T: Sendable>(
    _ database: Database, expected: Int, settle: Duration = .zero, _ body: () async throws -> T
) async throws -> (T, [JobNotification]) {
    let listener = try PostgresListener(
        configuration: database.pool.configuration, channels: [JobNotification.channel], logger: testLogger)
    let received = Recorder<JobNotification>()
    let listening = Recorder<Bool>()
    let result = try await withThrowingTaskGroup(of: Void.self) { group in
        let events = listener.events()
        group.addTask {
            for await event in events {
                if case .notification(_, let payload) = event, let notification = JobNotification(payload: payload) {
                    received.append(notification)
                } else if event == .listening {
                    listening.append(true)
                }
            }
        }
        #expect(try await eventually(timeout: .seconds(10)) { listening.count >= 1 })
        let result = try await body()
        #expect(try await eventually(timeout: .seconds(3)) { received.count >= expected })
        try await Task.sleep(for: settle)
        group.cancelAll()
        return result
    }
    return (result, received.all)
}

/// A thread-safe recorder for handler side effects.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
    var count: Int { values.withLock { $0.count } }
}

/// An observer that counts events, for tests.
final class CountingObserver: JobQueueObserver {
    private struct State {
        var finished: [String: Int] = [:]
        var rescued = 0
        var polls = 0
        var claimed = 0
        var claims = 0
        var inFlight = 0
        var capacity = 0
    }

    private let state = Mutex(State())

    func finished(kind: String, outcome: JobOutcome, duration: Duration) {
        state.withLock { $0.finished["\(kind)/\(outcome.rawValue)", default: 0] += 1 }
    }
    func rescued(count: Int) { state.withLock { $0.rescued += count } }
    func pollSucceeded(at date: Date) { state.withLock { $0.polls += 1 } }
    func claimed(count: Int) {
        state.withLock {
            $0.claimed += count
            $0.claims += 1
        }
    }
    func inFlightChanged(by delta: Int) { state.withLock { $0.inFlight += delta } }
    func capacityChanged(by delta: Int) { state.withLock { $0.capacity += delta } }

    func finished(_ kind: String, _ outcome: JobOutcome) -> Int {
        state.withLock { $0.finished["\(kind)/\(outcome.rawValue)", default: 0] }
    }
    var rescuedCount: Int { state.withLock { $0.rescued } }
    var polls: Int { state.withLock { $0.polls } }
    var claimed: Int { state.withLock { $0.claimed } }
    var claims: Int { state.withLock { $0.claims } }
    var inFlight: Int { state.withLock { $0.inFlight } }
    var capacity: Int { state.withLock { $0.capacity } }
}
