import Foundation
import JobQueue
import Persistence
import PostgresClient
import Synchronization
import Testing

extension RunnerSuite {
    @Suite("Claiming and running")
    struct RunnerTests {
        @Test("NOTIFY wakes an idle runner within a second although it polls only every minute")
        func notifyWakesIdleRunner() async throws {
            let database = try await makeDatabase()
            let started = Recorder<ContinuousClock.Instant>()
            var registry = JobRegistry()
            registry.register(kind: "ping", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                started.append(.now)
                return .success
            }
            let runner = JobRunner(
                configuration: testConfiguration(pollInterval: .seconds(60)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let client = JobQueueClient(database: database)
            let latencies = try await withServices([runner]) { () async throws -> [Duration] in
                try await Task.sleep(for: .milliseconds(500))  // initial poll done, LISTEN established
                var latencies: [Duration] = []
                for round in 1...5 {
                    _ = try await client.enqueue(NewJob(kind: "ping")).get()
                    // From the commit's acknowledgement: the COMMIT itself can wait tens of milliseconds for a WAL
                    // flush behind other tests' CREATE DATABASE, which is not the wake-up being measured.
                    let committed = ContinuousClock.now
                    #expect(try await eventually(timeout: .seconds(2)) { started.count == round })
                    latencies.append(started.all[round - 1] - committed)
                    try await Task.sleep(for: .milliseconds(100))
                }
                return latencies
            }
            print("commit → handler start with NOTIFY: \(latencies)")
            // Typically 1-2 ms (the figure is `scripts/bench queue-latency`'s); a poll would take up to a minute.
            #expect(latencies.allSatisfy { $0 < .seconds(1) }, "latencies: \(latencies)")
        }

        @Test("a delayed job starts on its run_at, by timer, not by poll")
        func delayedJobStartsOnTime() async throws {
            let database = try await makeDatabase()
            let lags = Recorder<Double>()
            var registry = JobRegistry()
            registry.register(kind: "timed", payload: DiagnosticJobs.NoopPayload.self) { _, job in
                lags.append(Date().timeIntervalSince(job.runAt))
                return .success
            }
            let runner = JobRunner(
                configuration: testConfiguration(pollInterval: .seconds(60)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let client = JobQueueClient(database: database)
            try await withServices([runner]) {
                try await Task.sleep(for: .milliseconds(300))
                for delay in [200, 350, 500] {
                    _ = try await client.enqueue(NewJob(kind: "timed", schedule: .after(.milliseconds(delay)))).get()
                }
                _ = try await client.enqueue(NewJob(kind: "timed", schedule: .at(Date().addingTimeInterval(0.25))))
                    .get()
                #expect(try await eventually(timeout: .seconds(3)) { lags.count == 4 })
            }
            print("run_at → handler start lags (s): \(lags.all)")
            // Typically a few ms (`scripts/bench queue-delay`); a poll would take up to a minute.
            #expect(lags.all.allSatisfy { $0 >= 0 && $0 < 0.5 })
            #expect(try await database.count(where: "state = 'succeeded'") == 4)
        }

        @Test("5,000 jobs across 4 runners with their own pools each run exactly once")
        func exactlyOnceAcrossRunners() async throws {
            let database = try await makeDatabase()
            _ = try await database.rows("CREATE TABLE effects (job_id bigint PRIMARY KEY, worker text NOT NULL)")
            let duplicates = Atomic<Int>(0)
            let databases = (0..<4).map { _ in makeDatabase(sharing: database, maxConnections: 6) }
            let runners = databases.map { workerDatabase in
                var registry = JobRegistry()
                registry.register(kind: "effect", payload: DiagnosticJobs.NoopPayload.self) { _, job in
                    do {
                        _ = try await workerDatabase.pool.query(
                            "INSERT INTO effects (job_id, worker) VALUES ($1, $2)",
                            [job.id, job.workerID]
                        )
                    } catch let error as PostgresError where error.kind == .uniqueViolation {
                        duplicates.add(1, ordering: .relaxed)
                        return .fail("job \(job.id) ran twice")
                    }
                    return .success
                }
                return JobRunner(
                    configuration: testConfiguration(concurrency: 8),
                    registry: registry,
                    database: workerDatabase,
                    logger: testLogger
                )
            }
            let jobs = (0..<5000).map { _ in NewJob(kind: "effect") }
            let elapsed = try await withServices(runners) { () async throws -> Duration in
                try await Task.sleep(for: .milliseconds(300))
                let start = ContinuousClock.now
                _ = try await JobQueueClient(database: database).enqueue(jobs).get()
                #expect(
                    try await eventually(timeout: .seconds(60)) {
                        try await database.count(where: "state = 'succeeded'") == 5000
                    }
                )
                return ContinuousClock.now - start
            }
            for workerDatabase in databases { await workerDatabase.pool.close() }
            let effects = try await database.rows(
                "SELECT count(*) AS n, count(DISTINCT worker) AS workers FROM effects")
            #expect(try effects[0].decode("n", as: Int.self) == 5000)
            #expect(try effects[0].decode("workers", as: Int.self) == 4)
            let ranTwice = duplicates.load(ordering: .relaxed)
            #expect(ranTwice == 0)
            #expect(try await database.count(where: "attempts <> 1 OR state <> 'succeeded'") == 0)
            print("5000 jobs (one INSERT each) on 4 runners × 8: \(elapsed), \(Int(5000 / elapsed.seconds)) jobs/s")
        }

        @Test("priority orders ready jobs, and a kind never exceeds its concurrency limit")
        func priorityAndKindConcurrency() async throws {
            let database = try await makeDatabase()
            let order = Recorder<Int>()
            let running = Atomic<Int>(0)
            let peak = Atomic<Int>(0)
            var registry = JobRegistry()
            registry.register(kind: "ordered", payload: EnqueueTests.Payload.self) { payload, _ in
                order.append(payload.n)
                return .success
            }
            registry.register(kind: "limited", payload: DiagnosticJobs.NoopPayload.self, concurrency: 2) { _, _ in
                let now = running.add(1, ordering: .relaxed).newValue
                peak.max(now, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(30))
                running.subtract(1, ordering: .relaxed)
                return .success
            }
            let client = JobQueueClient(database: database)
            _ = try await client.enqueue(
                try [5, 1, 3, 0, 4, 2].map {
                    try NewJob(kind: "ordered", payload: EnqueueTests.Payload(n: $0), priority: $0)
                }
            ).get()
            let runner = JobRunner(
                configuration: testConfiguration(concurrency: 1),
                registry: registry,
                database: database,
                logger: testLogger
            )
            try await withServices([runner]) {
                let done = try await eventually {
                    try await database.count(where: "kind = 'ordered' AND state = 'succeeded'") == 6
                }
                #expect(done)
            }
            #expect(order.all == [0, 1, 2, 3, 4, 5])

            _ = try await client.enqueue((0..<12).map { _ in NewJob(kind: "limited") }).get()

            let wide = JobRunner(
                configuration: testConfiguration(concurrency: 8),
                registry: registry,
                database: database,
                logger: testLogger
            )
            try await withServices([wide]) {
                let done = try await eventually {
                    try await database.count(where: "kind = 'limited' AND state = 'succeeded'") == 12
                }
                #expect(done)
            }
            let highest = peak.load(ordering: .relaxed)
            #expect(highest == 2)
            // Over-claimed jobs were released without spending an attempt.
            #expect(try await database.count(where: "kind = 'limited' AND attempts <> 1") == 0)
        }
    }
}
