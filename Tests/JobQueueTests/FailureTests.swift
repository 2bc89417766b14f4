import Foundation
import JobQueue
import Persistence
import Synchronization
import Testing

extension RunnerSuite {
    @Suite("Failures, retries and snoozes")
    struct FailureTests {
        @Test("garbage payloads of known kinds die at once with a readable error; unknown kinds are left untouched")
        func garbageAndUnknownKinds() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            let garbage = try await client.enqueue(NewJob(kind: "sleep", json: #"{"milliseconds": "soon"}"#)).get()
            let missing = try await client.enqueue(NewJob(kind: "sleep", json: #"{"ms": 5}"#)).get()
            let unknown = try await client.enqueue(NewJob(kind: "no_such_kind", json: "{}")).get()
            _ = try await client.enqueue((0..<50).map { _ in NewJob(kind: "noop") }).get()
            let observer = CountingObserver()
            let runner = JobRunner(
                configuration: testConfiguration(),
                registry: JobRegistry(),
                database: database,
                observer: observer,
                logger: testLogger
            )
            try await withServices([runner]) {
                let reached = try await eventually {
                    try await database.count(where: "state IN ('succeeded', 'dead')") == 52
                }
                #expect(reached)
                // Several more claim rounds (polls every 50 ms) pass the unknown job by.
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await database.count(where: "kind = 'noop' AND state = 'succeeded'") == 50)

            let garbageJob = try await database.job(garbage.id)
            #expect(garbageJob.state == .dead)
            #expect(garbageJob.attempts == 1)
            #expect(garbageJob.lastError?.contains("payload does not decode as SleepPayload") == true)
            #expect(garbageJob.lastError?.contains("expected Int at milliseconds") == true)

            let missingJob = try await database.job(missing.id)
            #expect(missingJob.state == .dead)
            #expect(missingJob.lastError?.contains(#"missing key "milliseconds""#) == true)

            // A rolling deploy: a kind this worker does not run stays available, no attempt spent, for a worker
            // that runs it.
            let unknownJob = try await database.job(unknown.id)
            #expect(unknownJob.state == .available)
            #expect(unknownJob.attempts == 0)
            #expect(unknownJob.lastError == nil)
            #expect(observer.finished("no_such_kind", .dead) == 0)
            #expect(observer.finished("sleep", .dead) == 2)
            #expect(observer.finished("noop", .succeeded) == 50)

            // A newer worker that registers the kind runs it.
            var newer = JobRegistry()
            newer.register(kind: "no_such_kind", payload: DiagnosticJobs.NoopPayload.self) { _, _ in .success }
            let upgraded = JobRunner(
                configuration: testConfiguration(), registry: newer, database: database, logger: testLogger)
            try await withServices([upgraded]) {
                let ran = try await eventually { try await database.job(unknown.id).state == .succeeded }
                #expect(ran)
            }
            #expect(try await database.job(unknown.id).attempts == 1)
        }

        @Test("a handler past its timeout is cancelled and the attempt counts as failed")
        func timeout() async throws {
            let database = try await makeDatabase()
            let sawCancellation = Atomic<Bool>(false)
            var registry = JobRegistry()
            registry.register(
                kind: "stuck",
                payload: DiagnosticJobs.NoopPayload.self,
                timeout: .milliseconds(150),
                maxAttempts: 2,
                retry: RetryPolicy(base: .milliseconds(10), jitter: 0)
            ) { _, _ in
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    sawCancellation.store(true, ordering: .relaxed)
                    throw error
                }
                return .success
            }
            let id = try await JobQueueClient(database: database).enqueue(NewJob(kind: "stuck")).get().id
            let runner = JobRunner(
                configuration: testConfiguration(),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let start = ContinuousClock.now
            try await withServices([runner]) {
                let reached = try await eventually { try await database.job(id).state == .dead }
                #expect(reached)
            }
            #expect(ContinuousClock.now - start < .seconds(3))
            let handlerSawCancellation = sawCancellation.load(ordering: .relaxed)
            #expect(handlerSawCancellation)
            let job = try await database.job(id)
            #expect(job.attempts == 2)
            #expect(job.lastError?.contains("timed out after 0.15 seconds") == true)
            #expect(job.lastError?.contains("attempt 2 of 2") == true)
        }

        @Test("failures retry with exponential backoff until max attempts, then die with the last error")
        func retriesThenDead() async throws {
            let database = try await makeDatabase()
            let attempts = Recorder<(attempt: Int, at: ContinuousClock.Instant)>()
            var registry = JobRegistry()
            registry.register(
                kind: "flaky",
                payload: DiagnosticJobs.NoopPayload.self,
                maxAttempts: 4,
                retry: RetryPolicy(base: .milliseconds(40), cap: .seconds(1), jitter: 0)
            ) { _, job in
                attempts.append((job.attempt, .now))
                throw DiagnosticJobs.DiagnosticFailure(description: "boom \(job.attempt)")
            }
            registry.register(kind: "second_time_lucky", payload: DiagnosticJobs.NoopPayload.self) { _, job in
                if job.attempt == 1 { throw DiagnosticJobs.DiagnosticFailure(description: "first try fails") }
                return .success
            }
            let client = JobQueueClient(database: database)
            let flaky = try await client.enqueue(NewJob(kind: "flaky")).get().id
            let lucky = try await client.enqueue(NewJob(kind: "second_time_lucky")).get().id
            let capped = try await client.enqueue(NewJob(kind: "fail", json: #"{"message": "nope"}"#, maxAttempts: 2))
                .get().id
            let observer = CountingObserver()
            let runner = JobRunner(
                configuration: testConfiguration(),
                registry: registry,
                database: database,
                observer: observer,
                logger: testLogger
            )
            try await withServices([runner]) {
                let reached = try await eventually {
                    try await database.count(where: "state IN ('succeeded', 'dead')") == 3
                }
                #expect(reached)
            }
            let flakyJob = try await database.job(flaky)
            #expect(flakyJob.state == .dead)
            #expect(flakyJob.attempts == 4)
            #expect(flakyJob.lastError == "boom 4 (attempt 4 of 4, none left)")
            #expect(attempts.all.map(\.attempt) == [1, 2, 3, 4])
            let gaps = zip(attempts.all.dropFirst(), attempts.all).map { $0.at - $1.at }
            // 40 ms, 80 ms, 160 ms of backoff (plus claim latency).
            for (gap, backoff) in zip(gaps, [40, 80, 160]) {
                #expect(gap >= .milliseconds(backoff) && gap < .milliseconds(backoff + 150), "gap \(gap)")
            }
            #expect(observer.finished("flaky", .retried) == 3)
            #expect(observer.finished("flaky", .dead) == 1)

            let luckyJob = try await database.job(lucky)
            #expect(luckyJob.state == .succeeded)
            #expect(luckyJob.attempts == 2)
            #expect(luckyJob.lastError == "first try fails")

            let cappedJob = try await database.job(capped)
            #expect(cappedJob.state == .dead)
            #expect(cappedJob.attempts == 2)
            #expect(cappedJob.lastError?.hasPrefix("nope") == true)
        }

        @Test("results steer the outcome: fail and permanent errors die, cancel cancels, retry(after:) waits")
        func explicitResults() async throws {
            let database = try await makeDatabase()
            var registry = JobRegistry()
            registry.register(kind: "give_up", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                .fail("the slot no longer exists")
            }
            registry.register(kind: "stop", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                .cancel("recruiter deactivated")
            }
            registry.register(kind: "later", payload: DiagnosticJobs.NoopPayload.self) { _, job in
                job.attempt == 1 ? .retry(after: .milliseconds(300), reason: "rate limited") : .success
            }
            let client = JobQueueClient(database: database)
            let giveUp = try await client.enqueue(NewJob(kind: "give_up")).get().id
            let stop = try await client.enqueue(NewJob(kind: "stop")).get().id
            let permanent = try await client.enqueue(
                NewJob(kind: "fail", json: #"{"message": "bad input", "permanent": true}"#)
            ).get().id
            let later = try await client.enqueue(NewJob(kind: "later")).get().id
            let runner = JobRunner(
                configuration: testConfiguration(),
                registry: registry,
                database: database,
                logger: testLogger
            )
            try await withServices([runner]) {
                let reached = try await eventually { try await database.count(where: "finished_at IS NOT NULL") == 4 }
                #expect(reached)
            }
            let giveUpJob = try await database.job(giveUp)
            #expect(giveUpJob.state == .dead)
            #expect(giveUpJob.lastError == "the slot no longer exists")
            #expect(giveUpJob.attempts == 1)
            let stopJob = try await database.job(stop)
            #expect(stopJob.state == .cancelled)
            #expect(stopJob.lastError == "recruiter deactivated")
            let permanentJob = try await database.job(permanent)
            #expect(permanentJob.state == .dead)
            #expect(permanentJob.lastError == "bad input")
            let laterJob = try await database.job(later)
            #expect(laterJob.state == .succeeded)
            #expect(laterJob.attempts == 2)
            #expect(try #require(laterJob.finishedAt).timeIntervalSince(laterJob.createdAt) >= 0.3)
        }

        @Test("a snoozed job runs again later without spending an attempt")
        func snooze() async throws {
            let database = try await makeDatabase()
            let runs = Recorder<(attempt: Int, at: ContinuousClock.Instant)>()
            var registry = JobRegistry()
            registry.register(kind: "napper", payload: DiagnosticJobs.NoopPayload.self, maxAttempts: 1) { _, job in
                runs.append((job.attempt, .now))
                return runs.count < 3 ? .snooze(.milliseconds(100)) : .success
            }
            let id = try await JobQueueClient(database: database).enqueue(NewJob(kind: "napper")).get().id
            let observer = CountingObserver()
            let runner = JobRunner(
                configuration: testConfiguration(pollInterval: .seconds(60)),
                registry: registry,
                database: database,
                observer: observer,
                logger: testLogger
            )
            try await withServices([runner]) {
                let reached = try await eventually { try await database.job(id).state == .succeeded }
                #expect(reached)
            }
            #expect(runs.all.map(\.attempt) == [1, 1, 1])
            let gaps = zip(runs.all.dropFirst(), runs.all).map { $0.at - $1.at }
            #expect(gaps.allSatisfy { $0 >= .milliseconds(100) && $0 < .milliseconds(200) }, "gaps \(gaps)")
            #expect(try await database.job(id).attempts == 1)
            #expect(observer.finished("napper", .snoozed) == 2)
        }
    }
}
