import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization
import Testing

extension RunnerSuite {
    /// Admission by database slots (``ClaimCapacity``) and the runner's own connections, against PostgreSQL, with
    /// far more slots than pooled connections.
    @Suite("Database admission")
    struct DatabaseAdmissionTests {
        /// How many handlers are inside a section at once, and the most seen.
        final class InFlight: Sendable {
            private let state = Mutex((now: 0, most: 0))
            func enter() {
                state.withLock {
                    $0.now += 1; $0.most = max($0.most, $0.now)
                }
            }
            func leave() { state.withLock { $0.now -= 1 } }
            var most: Int { state.withLock { $0.most } }
        }

        /// A pool of `connections` that gives up acquiring after `acquireTimeout`, on a fresh migrated database.
        static func database(connections: Int, acquireTimeout: Duration) async throws -> Database {
            let migrated = try await makeDatabase(maxConnections: 1)
            await migrated.pool.close()
            return Database(
                pool: PostgresPool(
                    configuration: migrated.pool.configuration,
                    options: .init(maxConnections: connections, acquireTimeout: acquireTimeout)),
                logger: testLogger)
        }

        /// One Unit of Work that holds its connection for `seconds`.
        static func sleep(_ seconds: Double, in database: Database) async throws {
            try await database.withUnitOfWork { uow in
                _ = try await uow.context.run(repository: "test", operation: "sleep") {
                    try await $0.query("SELECT pg_sleep($1)", [seconds])
                }.get()
            }
        }

        @Test("200 slots over 2 connections: database jobs run 2 at a time and none times out acquiring one")
        func databaseJobsAreNotStarved() async throws {
            // 60 Units of Work of 50 ms on 2 connections: let in all at once, the last would wait about 1.5 s for a
            // connection, past the 1 s acquire timeout.
            let database = try await Self.database(connections: 2, acquireTimeout: .seconds(1))
            let inFlight = InFlight()
            var registry = JobRegistry()
            registry.register(kind: "report", payload: DiagnosticJobs.NoopPayload.self, maxAttempts: 1) { _, _ in
                inFlight.enter()
                defer { inFlight.leave() }
                try await Self.sleep(0.05, in: database)
                return .success
            }
            let client = JobQueueClient(database: database)
            _ = try await client.enqueue([NewJob](repeating: NewJob(kind: "report"), count: 60)).get()
            _ = try await client.enqueue([NewJob](repeating: NewJob(kind: "noop"), count: 3000)).get()
            var configuration = testConfiguration(concurrency: 200)
            configuration.exitWhenIdle = true
            let runner = JobRunner(
                configuration: configuration, registry: registry, database: database, logger: testLogger)
            try await runner.run()

            #expect(try await database.count(where: "kind = 'report' AND state = 'succeeded' AND attempts = 1") == 60)
            #expect(try await database.count(where: "kind = 'noop' AND state = 'succeeded'") == 3000)
            #expect(try await database.count(where: "last_error IS NOT NULL") == 0)
            #expect(inFlight.most <= 2, "database jobs at once: \(inFlight.most)")
            await database.pool.close()
        }

        @Test("while handlers hold every pooled connection, the runner still claims, completes and renews leases")
        func bookkeepingGoesOn() async throws {
            let database = try await Self.database(connections: 1, acquireTimeout: .milliseconds(500))
            let release = Mutex(false)
            let holding = Mutex(false)
            var registry = JobRegistry()
            registry.register(kind: "hold", payload: DiagnosticJobs.NoopPayload.self, maxAttempts: 1) { _, _ in
                // The pool's only connection, in one Unit of Work, until the test lets go (at most 30 s).
                try await database.withUnitOfWork { uow in
                    holding.withLock { $0 = true }
                    let deadline = ContinuousClock.now + .seconds(30)
                    while !release.withLock({ $0 }), ContinuousClock.now < deadline {
                        _ = try await uow.context.run(repository: "test", operation: "sleep") {
                            try await $0.query("SELECT pg_sleep(0.05)")
                        }.get()
                    }
                }
                return .success
            }
            // A lease of 2 s, renewed every 0.67 s: the hold outlasts it several times.
            let runner = JobRunner(
                configuration: testConfiguration(concurrency: 50, lease: .seconds(2)), registry: registry,
                database: database, logger: testLogger)
            let client = JobQueueClient(database: database)
            let hold = try await client.enqueue(NewJob(kind: "hold")).get()
            try await withServices([runner]) {
                #expect(try await eventually(timeout: .seconds(10)) { holding.withLock { $0 } })
                // The test's own statements need a connection of their own: the worker's one is held.
                let observer = Database(
                    pool: PostgresPool(configuration: database.pool.configuration, options: .init(maxConnections: 1)),
                    logger: testLogger)
                _ = try await JobQueueClient(database: observer).enqueue(
                    [NewJob](repeating: NewJob(kind: "noop"), count: 500)
                ).get()
                let drained = try await eventually(timeout: .seconds(15)) {
                    try await observer.count(where: "kind = 'noop' AND state = 'succeeded'") == 500
                }
                #expect(drained, "noop jobs claimed and completed while the pool's connection is held")
                // Past several leases: still this worker's, renewed, not rescued or fenced.
                try await Task.sleep(for: .seconds(3))
                #expect(holding.withLock { $0 })
                let row = try await observer.job(hold.id)
                #expect(row.state == .running)
                release.withLock { $0 = true }
                #expect(
                    try await eventually(timeout: .seconds(10)) {
                        try await observer.count(where: "kind = 'hold' AND state = 'succeeded' AND attempts = 1") == 1
                    })
                await observer.pool.close()
            }
            await database.pool.close()
        }
    }
}
