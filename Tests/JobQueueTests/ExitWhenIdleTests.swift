import Foundation
import JobQueue
import Persistence
import PostgresClient
import Testing

extension RunnerSuite {
    @Suite("Exit when idle")
    struct ExitWhenIdleTests {
        /// Runs `runner` until `run()` returns or `limit` passes (then shuts it down); returns how long `run()` took,
        /// or nil when the limit was reached.
        static func run(_ runner: JobRunner, limit: Duration = .seconds(15)) async throws -> Duration? {
            let start = ContinuousClock.now
            return try await withThrowingTaskGroup(of: Duration?.self) { group in
                group.addTask {
                    try await runner.run()
                    return ContinuousClock.now - start
                }
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next()!
                if first == nil { runner.triggerGracefulShutdown() }
                group.cancelAll()
                try await group.waitForAll()
                return first
            }
        }

        static func idleConfiguration(concurrency: Int = 50) -> JobRunnerConfiguration {
            // Polling once a minute: returning promptly must not depend on a poll.
            var configuration = testConfiguration(concurrency: concurrency, pollInterval: .seconds(60))
            configuration.exitWhenIdle = true
            return configuration
        }

        @Test("run() returns at once on an empty queue, and jobs scheduled later do not keep it alive")
        func emptyQueue() async throws {
            let database = try await makeDatabase()
            let later = try await JobQueueClient(database: database)
                .enqueue(NewJob(kind: "noop", schedule: .after(.seconds(60)))).get()
            let runner = JobRunner(
                configuration: Self.idleConfiguration(),
                registry: JobRegistry(),
                database: database,
                logger: testLogger
            )
            let elapsed = try #require(try await Self.run(runner))
            #expect(elapsed < .seconds(2))
            #expect(try await database.job(later.id).state == .scheduled)
        }

        @Test("run() returns once every job ran: due scheduled jobs and immediate retries included")
        func drainsThenReturns() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            let attempts = Recorder<Int>()
            var registry = JobRegistry()
            registry.register(kind: "flaky", payload: DiagnosticJobs.NoopPayload.self) { _, job in
                attempts.append(job.attempt)
                return job.attempt == 1 ? .retry(after: .zero, reason: "first attempt fails") : .success
            }
            registry.register(kind: "slow", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                try await Task.sleep(for: .milliseconds(200))
                return .success
            }
            // Due but not yet promoted: `scheduled` with run_at in the past when the runner starts.
            let due = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.milliseconds(100)))).get()
            let later = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.seconds(60)))).get()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await database.job(due.id).state == .scheduled)
            _ = try await client.enqueue(
                (0..<500).map { _ in NewJob(kind: "noop") } + [NewJob(kind: "flaky"), NewJob(kind: "slow")]
            ).get()

            let runner = JobRunner(
                configuration: Self.idleConfiguration(),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let elapsed = try #require(try await Self.run(runner))
            #expect(elapsed < .seconds(5))
            #expect(try await database.count(where: "state = 'succeeded'") == 503)
            #expect(try await database.job(due.id).state == .succeeded)
            #expect(try await database.job(later.id).state == .scheduled)
            #expect(attempts.all == [1, 2])
            #expect(try await database.count(where: "state = 'running' OR locked_by IS NOT NULL") == 0)
            print("exitWhenIdle: 503 jobs ran and run() returned after \(elapsed)")
        }

        @Test("a job enqueued while the runner works keeps it alive; idle runners without the option keep running")
        func onlyIdleEnds() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            let ran = Recorder<Int64>()
            var registry = JobRegistry()
            registry.register(kind: "chain", payload: EnqueueTests.Payload.self) { payload, job in
                ran.append(job.id)
                // Each job enqueues the next one before it finishes, so the queue is never idle until the last.
                if payload.n > 0 {
                    _ = try await client.enqueue(NewJob(kind: "chain", payload: EnqueueTests.Payload(n: payload.n - 1)))
                        .get()
                }
                return .success
            }
            _ = try await client.enqueue(NewJob(kind: "chain", payload: EnqueueTests.Payload(n: 20))).get()
            let runner = JobRunner(
                configuration: Self.idleConfiguration(concurrency: 1),
                registry: registry,
                database: database,
                logger: testLogger
            )
            #expect(try await Self.run(runner) != nil)
            #expect(ran.count == 21)
            #expect(try await database.count(where: "state = 'succeeded'") == 21)

            let plain = JobRunner(
                configuration: testConfiguration(pollInterval: .milliseconds(50)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            #expect(try await Self.run(plain, limit: .milliseconds(500)) == nil)
        }
    }
}
