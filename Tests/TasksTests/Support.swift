import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@testable import Tasks

/// Quiet unless `TASKS_TEST_LOG_LEVEL` (e.g. `debug`) asks for more.
let testLogger: Logger = {
    var logger = Logger(label: "tasks.test")
    let level = ProcessInfo.processInfo.environment["TASKS_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
    logger.logLevel = level ?? .critical
    return logger
}()

/// Counts what the tasks report, per outcome (the Prometheus adapter is tested on its own).
final class RecordingObserver: SlotTasksObserver {
    private let state = Mutex<
        (
            outcomes: [String: Int], lags: [Double], requests: [String: Int], transitions: [String: Int],
            statuses: [SlotStatus: Int]
        )
    >(([:], [], [:], [:], [:]))

    func prepare(offsets: [ReminderOffset]) {}
    func reminderFinished(offset: ReminderOffset, outcome: ReminderOutcome) {
        state.withLock { $0.outcomes["\(offset.label) \(Self.name(outcome))", default: 0] += 1 }
    }
    func reminderSent(offset: ReminderOffset, lagSeconds: Double) { state.withLock { $0.lags.append(lagSeconds) } }
    func telegramRequest(method: String, status: String, duration: Duration) {
        state.withLock { $0.requests["\(method) \(status)", default: 0] += 1 }
    }
    func slotTransitions(from: SlotStatus, to: SlotStatus, reason: String, count: Int) {
        state.withLock { $0.transitions["\(from.rawValue)->\(to.rawValue) \(reason)", default: 0] += count }
    }
    func slotsByStatus(_ counts: [SlotStatus: Int]) { state.withLock { $0.statuses = counts } }

    static func name(_ outcome: ReminderOutcome) -> String {
        switch outcome {
        case .sent: "sent"
        case .skipped(let reason): "skipped:\(reason.rawValue)"
        case .failed(let failure): "failed:\(failure.rawValue)"
        }
    }

    /// How often `offset` ended with `outcome` (`sent`, `skipped:late`, `failed:unreachable`, …).
    func count(_ offset: String, _ outcome: String) -> Int {
        state.withLock { $0.outcomes["\(offset) \(outcome)"] ?? 0 }
    }
    var lags: [Double] { state.withLock { $0.lags } }
    func requests(_ key: String) -> Int { state.withLock { $0.requests[key] ?? 0 } }
    func transitions(_ key: String) -> Int { state.withLock { $0.transitions[key] ?? 0 } }
    var statuses: [SlotStatus: Int] { state.withLock { $0.statuses } }
}

/// A migrated database with a city and a recruiter, and raw-SQL helpers that write slots as the backend would.
struct Harness {
    let database: Database
    let cityID: Int64
    let recruiterID: Int64

    static func make(city: String = "Berlin", zone: String = "Europe/Berlin", maxConnections: Int = 8) async throws
        -> Harness
    {
        let pool = try await TestDatabase.pool(migrated: true, maxConnections: maxConnections)
        let database = Database(pool: pool, logger: testLogger)
        let cityID = try await pool.query(
            "INSERT INTO cities (name, time_zone) VALUES ($1, $2) RETURNING id", [city, zone]
        )[0].decode("id", as: Int64.self)
        let recruiterID = try await pool.query("INSERT INTO recruiters (name) VALUES ('Dana') RETURNING id")[0].decode(
            "id", as: Int64.self)
        return Harness(database: database, cityID: cityID, recruiterID: recruiterID)
    }

    /// Another `Database` (own pool) on the same database, as another worker process has.
    func otherDatabase(maxConnections: Int = 8) -> Database {
        Database(
            pool: PostgresPool(
                configuration: database.pool.configuration, options: .init(maxConnections: maxConnections)),
            logger: testLogger)
    }

    /// Inserts a slot with plain SQL (`status` BOOKED unless told otherwise); returns its id.
    @discardableResult
    func insertSlot(
        startsAt: Date, candidate: Int64?, status: String = "BOOKED", cityID: Int64? = nil,
        recruiterID: Int64? = nil, duration: Int = 45
    ) async throws -> Int64 {
        try await database.pool.query(
            """
            INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id,
                               reserved_until)
            VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $5 = 'RESERVED' THEN now() + interval '1 hour' END)
            RETURNING id
            """,
            [recruiterID ?? self.recruiterID, cityID ?? self.cityID, startsAt, duration, status, candidate]
        )[0].decode("id", as: Int64.self)
    }

    func execute(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws {
        _ = try await database.pool.query(sql, binds)
    }

    /// The slot's reminders as `offset state reason` strings, ordered by offset (longest first) then id.
    func reminders(slot: Int64) async throws -> [String] {
        try await database.pool.query(
            "SELECT offset_seconds, state, coalesce(reason, '') AS reason FROM reminders WHERE slot_id = $1 "
                + "ORDER BY offset_seconds DESC, id",
            [slot]
        ).map {
            "\(ReminderOffset(seconds: try $0.decode("offset_seconds", as: Int.self)).label) "
                + "\(try $0.decode("state", as: String.self)) \(try $0.decode("reason", as: String.self))"
                .trimmingCharacters(in: .whitespaces)
        }
    }

    func count(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await database.pool.query(sql, binds)[0].decode("n", as: Int.self)
    }

    /// Waits until a planner LISTENs for slot changes (a worker started in this test is up).
    static func planning(_ harness: Harness) async throws {
        try await eventually(timeout: .seconds(30)) {
            try await harness.count(
                "SELECT count(*)::int8 AS n FROM pg_stat_activity WHERE query = 'LISTEN \"slotworker_slots\"' "
                    + "AND datname = current_database()") >= 1
        }
    }

    /// The job-queue worker with the domain tasks, plus the planner's wake-ups: a whole worker process, in-process.
    static func worker(
        database: Database, sender: any MessageSender, settings: ReminderSettings, observer: any SlotTasksObserver,
        lease: Duration = .seconds(5)
    ) throws -> [any Service] {
        var registry = JobRegistry()
        SlotTasks.register(in: &registry, database: database, sender: sender, settings: settings, observer: observer)
        let worker = JobQueueWorker(
            database: database,
            registry: registry,
            configuration: JobRunnerConfiguration(
                concurrency: 64, lease: lease, pollInterval: .milliseconds(200), shutdownTimeout: .seconds(5)),
            periodicJobs: try SlotTasks.periodicJobs(
                release: .every(.seconds(1)), expire: .every(.seconds(1)), settings: settings),
            logger: testLogger
        )
        return worker.services + [
            ReminderPlanner.WakeUps(
                planner: ReminderPlanner(database: database, settings: settings, observer: observer),
                listenConfiguration: database.pool.configuration, logger: testLogger)
        ]
    }
}

/// Settings scaled down for tests: offsets in seconds.
func testSettings(
    offsets: [Int] = [3], grace: Duration = .seconds(5), horizon: Duration = .seconds(3600),
    plannerPeriod: Duration = .seconds(600), rate: Double = 25, notifyLapsed: Bool = false
) -> ReminderSettings {
    ReminderSettings(
        offsets: offsets.map { ReminderOffset(seconds: $0) }.sorted(by: >), grace: grace, horizon: horizon,
        plannerPeriod: plannerPeriod, maxMessagesPerSecond: rate, notifyLapsedReservations: notifyLapsed)
}

/// Runs `services` in a service group while `body` runs, then shuts the group down gracefully and waits for it.
@discardableResult
func withServices<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
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

/// Polls `condition` until it holds or `timeout` passes; records an issue (at the caller) when it never held.
@discardableResult
func eventually(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(20),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    if try await condition() { return true }
    Issue.record("condition did not hold within \(timeout)", sourceLocation: sourceLocation)
    return false
}

/// A job context for calling a handler directly.
func context(attempt: Int = 1, maxAttempts: Int = 5) -> JobContext {
    JobContext(id: 0, kind: "reminders.send", attempt: attempt, maxAttempts: maxAttempts, logger: testLogger)
}

extension Date {
    /// Whole milliseconds (PostgreSQL keeps microseconds; comparisons after a round trip stay exact).
    var wholeMilliseconds: Date { Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000) }
}
