import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization
import TestSupport
import Testing

extension RunnerSuite {
    @Suite("Leases, rescue, shutdown and outages")
    struct CrashSafetyTests {
        @Test("a job whose worker died is rescued when its lease lapses and runs again")
        func leaseExpiryRescue() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            let orphan = try await client.enqueue(NewJob(kind: "noop")).get().id
            let lastChance = try await client.enqueue(NewJob(kind: "noop", maxAttempts: 1)).get().id
            // A worker claims both and dies: no completion, no heartbeat.
            let claimed = try await database.withJobs {
                await $0.claim(
                    queue: "default", limit: 10, workerID: "dead-worker", lease: .milliseconds(300), kinds: ["noop"])
            }.get()
            #expect(Set(claimed.map(\.id)) == [orphan, lastChance])
            #expect(try await database.job(orphan).lockedBy == "dead-worker")

            let observer = CountingObserver()
            let runner = JobRunner(
                configuration: testConfiguration(), registry: JobRegistry(), database: database, logger: testLogger)
            let rescuer = JobRescuer(
                database: database,
                interval: .milliseconds(100),
                observer: observer,
                logger: testLogger
            )
            let start = ContinuousClock.now
            try await withServices([runner, rescuer]) {
                let reached = try await eventually { try await database.job(orphan).state == .succeeded }
                #expect(reached)
                let died = try await eventually { try await database.job(lastChance).state == .dead }
                #expect(died)
            }
            #expect(ContinuousClock.now - start < .seconds(2))
            let rerun = try await database.job(orphan)
            #expect(rerun.attempts == 2)
            #expect(rerun.lastError?.contains("lease expired: worker dead-worker stopped renewing attempt 1") == true)
            let dead = try await database.job(lastChance)
            #expect(dead.attempts == 1)
            #expect(dead.lastError?.contains("lease expired") == true)
            #expect(observer.rescuedCount == 2)
        }

        @Test("the heartbeat keeps a job longer than its lease from being rescued")
        func heartbeatKeepsLongJobs() async throws {
            let database = try await makeDatabase()
            let runs = Atomic<Int>(0)
            var registry = JobRegistry()
            registry.register(kind: "long", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                runs.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(3000))
                return .success
            }
            let id = try await JobQueueClient(database: database).enqueue(NewJob(kind: "long")).get().id
            // Three leases long. A lease of 1 s is renewed every 333 ms and fences after 667 ms without a renewal:
            // at a load average of 15 on 2 cores, a 400 ms lease (fenced after 267 ms) was sometimes missed.
            let runner = JobRunner(
                configuration: testConfiguration(lease: .seconds(1)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let rescuer = JobRescuer(database: database, interval: .milliseconds(100), logger: testLogger)
            try await withServices([runner, rescuer]) {
                let reached = try await eventually { try await database.job(id).state == .succeeded }
                #expect(reached)
            }
            #expect(runs.load(ordering: .relaxed) == 1)
            #expect(try await database.job(id).attempts == 1)
        }

        @Test(
            "graceful shutdown lets running jobs finish, then cancels and releases the rest without spending attempts")
        func gracefulShutdown() async throws {
            let database = try await makeDatabase()
            let cancelled = Atomic<Bool>(false)
            var registry = JobRegistry()
            registry.register(kind: "quick", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                try await Task.sleep(for: .milliseconds(200))
                return .success
            }
            registry.register(kind: "endless", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    cancelled.store(true, ordering: .relaxed)
                    throw error
                }
                return .success
            }
            let client = JobQueueClient(database: database)
            let quick = try await client.enqueue(NewJob(kind: "quick")).get().id
            let endless = try await client.enqueue(NewJob(kind: "endless", maxAttempts: 1)).get().id
            let runner = JobRunner(
                configuration: testConfiguration(shutdownTimeout: .milliseconds(500)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            var shutdownStarted = ContinuousClock.now
            try await withServices([runner]) {
                let reached = try await eventually { try await database.count(where: "state = 'running'") == 2 }
                #expect(reached)
                shutdownStarted = .now
            }
            let shutdown = ContinuousClock.now - shutdownStarted
            #expect(shutdown >= .milliseconds(450) && shutdown < .seconds(2), "shutdown took \(shutdown)")
            let handlerWasCancelled = cancelled.load(ordering: .relaxed)
            #expect(handlerWasCancelled)
            #expect(try await database.job(quick).state == .succeeded)
            let released = try await database.job(endless)
            #expect(released.state == .available)
            #expect(released.attempts == 0)
            #expect(released.lockedBy == nil)
            #expect(released.leaseExpiresAt == nil)
        }

        @Test("while the database is unreachable the runner keeps retrying, and resumes within 5 s after it returns")
        func databaseOutage() async throws {
            let database = try await makeDatabase()
            let name = try #require(database.pool.configuration.database)
            let events = PollAndErrorCounter()
            let runner = JobRunner(
                configuration: testConfiguration(pollInterval: .milliseconds(200)),
                registry: JobRegistry(),
                database: database,
                observer: events,
                logger: testLogger
            )
            let client = JobQueueClient(database: makeDatabase(sharing: database, maxConnections: 1))
            let recovery = try await withServices([runner]) { () async throws -> Duration in
                let reached = try await eventually { events.polls.load(ordering: .relaxed) > 0 }
                #expect(reached)
                _ = try await TestDatabase.admin("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
                _ = try await TestDatabase.admin(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    [name]
                )
                #expect(try await eventually(timeout: .seconds(5)) { events.errors.load(ordering: .relaxed) >= 3 })
                try await Task.sleep(for: .seconds(2))
                _ = try await TestDatabase.admin("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
                let back = ContinuousClock.now
                let id = try await client.enqueue(NewJob(kind: "noop")).get().id
                #expect(try await eventually(timeout: .seconds(6)) { try await database.job(id).state == .succeeded })
                return ContinuousClock.now - back
            }
            print(
                "job done \(recovery) after the database came back; \(events.errors.load(ordering: .relaxed)) errors seen"
            )
            #expect(recovery < .seconds(5))
        }
    }
}

/// Counts successful polls and database failures reported to the observer.
final class PollAndErrorCounter: JobQueueObserver {
    let polls = Atomic<Int>(0)
    let errors = Atomic<Int>(0)

    func pollSucceeded(at date: Date) { polls.add(1, ordering: .relaxed) }
    func databaseFailed(_ error: RepositoryError) { errors.add(1, ordering: .relaxed) }
}
