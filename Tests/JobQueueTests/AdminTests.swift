import Foundation
import JobQueue
import Persistence
import Testing

extension RunnerSuite {
    @Suite("Operator functions")
    struct AdminTests {
        @Test(
            "status counts jobs by state and kind, the oldest ready job's age and the ready jobs no live worker runs"
        )
        func status() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            let enqueued = ContinuousClock.now
            _ = try await client.enqueue(
                (0..<3).map { _ in NewJob(kind: "noop", schedule: .at(Date().addingTimeInterval(-30))) }
            ).get()
            _ = try await client.enqueue(
                NewJob(kind: "sleep", json: #"{"milliseconds": 1}"#, schedule: .after(.seconds(600)))
            ).get()
            // The oldest ready job sits in another queue and at a later priority: the skip scan of the claim index
            // must visit every queue and priority, not stop at the first.
            _ = try await client.enqueue(
                NewJob(kind: "noop", queue: "mail", priority: 3, schedule: .at(Date().addingTimeInterval(-90)))
            ).get()
            _ = try await database.rows("INSERT INTO jobs (kind, state, finished_at) VALUES ('fail', 'dead', now())")
            let status = try await JobAdmin(database: database).status().get()
            #expect(
                status.byState == [
                    "scheduled": 1, "available": 4, "running": 0, "succeeded": 0, "dead": 1, "cancelled": 0,
                ]
            )
            #expect(status.byKind == ["noop": ["available": 4], "sleep": ["scheduled": 1], "fail": ["dead": 1]])
            #expect(status.total == 6)
            // 90 s plus however long this test has run so far (seconds on a loaded machine), plus clock slack.
            let elapsed = Double((ContinuousClock.now - enqueued).components.seconds)
            #expect(status.oldestReadyAgeSeconds >= 89 && status.oldestReadyAgeSeconds < 91 + elapsed + 3)
            // No worker registered: every ready job waits for one.
            #expect(status.unrunnable == ["default": ["noop": 3], "mail": ["noop": 1]])

            // A live worker runs noop in default; the one that ran it in mail was last seen two minutes ago.
            _ = try await database.rows(
                """
                INSERT INTO job_workers (worker_id, queue, kinds, seen_at) VALUES
                    ('live', 'default', ARRAY['noop', 'sleep'], now()),
                    ('gone', 'mail', ARRAY['noop'], now() - interval '2 minutes')
                """)
            let later = try await JobAdmin(database: database).status(liveWithin: .seconds(30)).get()
            #expect(later.unrunnable == ["mail": ["noop": 1]])
        }

        @Test("cancel stops unfinished jobs; retry revives dead and cancelled ones with fresh attempts")
        func cancelAndRetry() async throws {
            let database = try await makeDatabase()
            let admin = JobAdmin(database: database)
            let client = JobQueueClient(database: database)
            let id = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.seconds(600)))).get().id
            #expect(try await admin.cancel(id: id, reason: "not needed").get() == .scheduled)
            let cancelled = try await database.job(id)
            #expect(cancelled.state == .cancelled)
            #expect(cancelled.lastError == "not needed")
            #expect(cancelled.finishedAt != nil)

            guard case .failure(.validation(let field, _)) = await admin.cancel(id: id) else {
                Issue.record("cancelling a finished job must fail")
                return
            }
            #expect(field == "state")
            guard case .failure(.notFound) = await admin.cancel(id: 999_999) else {
                Issue.record("cancelling an unknown job must fail with notFound")
                return
            }

            let before = try await admin.job(id: id).get()
            let retried = try await admin.retry(id: id).get()
            #expect(retried.state == .available)
            // The fencing token never goes back; the budget grows instead.
            #expect(retried.attempts == before.attempts)
            #expect(retried.maxAttempts == before.attempts + JobRunnerConfiguration.standardMaxAttempts)
            #expect(retried.finishedAt == nil)
            #expect(retried.lastError == "not needed")
            guard case .failure(.validation) = await admin.retry(id: id) else {
                Issue.record("retrying an available job must fail")
                return
            }
        }

        @Test("cancelling a running job stops its handler at once and keeps it cancelled")
        func cancelRunning() async throws {
            let database = try await makeDatabase()
            let stopped = Recorder<ContinuousClock.Instant>()
            var registry = JobRegistry()
            registry.register(kind: "endless", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    stopped.append(.now)
                    throw error
                }
                return .success
            }
            let id = try await JobQueueClient(database: database).enqueue(NewJob(kind: "endless")).get().id
            let observer = CountingObserver()
            let runner = JobRunner(
                configuration: testConfiguration(),
                registry: registry,
                database: database,
                observer: observer,
                logger: testLogger
            )
            try await withServices([runner]) {
                let reached = try await eventually { try await database.job(id).state == .running }
                #expect(reached)
                try await Task.sleep(for: .milliseconds(100))
                let before = ContinuousClock.now
                #expect(try await JobAdmin(database: database).cancel(id: id).get() == .running)
                #expect(try await eventually(timeout: .seconds(2)) { stopped.count == 1 })
                #expect(stopped.all[0] - before < .milliseconds(200))
                try await Task.sleep(for: .milliseconds(100))
            }
            let job = try await database.job(id)
            #expect(job.state == .cancelled)
            #expect(job.attempts == 1)
            #expect(observer.finished("endless", .cancelled) == 1)
        }

        @Test("JSON lines enqueue atomically, and a bad line names its number")
        func jsonLines() async throws {
            let database = try await makeDatabase()
            let admin = JobAdmin(database: database)
            let lines = """
                {"kind": "sleep", "payload": {"milliseconds": 5}, "priority": 2, "unique_key": "a"}
                {"kind": "noop"}

                {"kind": "noop", "queue": "mail", "delay_seconds": 30, "max_attempts": 3}
                {"kind": "noop", "run_at": "2030-01-01T10:00:00.250Z", "payload": [1, 2.5, "x", null, true]}
                """
            let results = try await admin.enqueue(jsonLines: lines).get()
            #expect(results.count == 4)
            let first = try await database.job(results[0].id)
            #expect(first.payload == #"{"milliseconds": 5}"#)
            #expect(first.priority == 2)
            #expect(first.uniqueKey == "a")
            let delayed = try await database.job(results[2].id)
            #expect(delayed.queue == "mail")
            #expect(delayed.state == .scheduled)
            #expect(delayed.maxAttempts == 3)
            let dated = try await database.job(results[3].id)
            #expect(dated.payload == #"[1, 2.5, "x", null, true]"#)
            #expect(dated.runAt == Date(timeIntervalSince1970: 1_893_492_000.25))

            let bad = """
                {"kind": "noop"}
                {"kind": "noop", "priorty": 1}
                """
            guard case .failure(.validation(let field, let message)) = await admin.enqueue(jsonLines: bad) else {
                Issue.record("a bad line must fail validation")
                return
            }
            #expect(field == "line 2")
            #expect(message.contains(#"unknown key "priorty""#))
            guard
                case .failure(.validation(let notJSON, _)) = await admin.enqueue(
                    jsonLines: "{\"kind\": \"noop\"}\nnope")
            else {
                Issue.record("a line that is not JSON must fail validation")
                return
            }
            #expect(notJSON == "line 2")
            #expect(try await database.count(where: "true") == 4)
        }
    }
}
