import Foundation
import JobQueue
import Persistence
import PostgresClient
import Testing

@Suite("Enqueue")
struct EnqueueTests {
    struct Payload: Codable, Sendable, Equatable {
        var n: Int
    }

    @Test("a single job is available at once with its payload and defaults")
    func single() async throws {
        let database = try await makeDatabase()
        let client = JobQueueClient(database: database)
        let result = try await client.enqueue(try NewJob(kind: "noop", payload: Payload(n: 7))).get()
        #expect(!result.isDuplicate)
        let job = try await database.job(result.id)
        #expect(job.kind == "noop")
        #expect(job.queue == "default")
        #expect(job.state == .available)
        #expect(job.attempts == 0)
        #expect(job.maxAttempts == nil)
        #expect(job.payload == #"{"n": 7}"#)
        #expect(job.finishedAt == nil)
    }

    @Test("a bulk enqueue is one statement, returns ids in input order, and keeps every field")
    func bulk() async throws {
        let database = try await makeDatabase()
        let jobs = try (0..<3000).map {
            try NewJob(kind: "noop", payload: Payload(n: $0), priority: $0 % 3, maxAttempts: $0 % 2 == 0 ? 3 : nil)
        }
        let start = ContinuousClock.now
        let results = try await JobQueueClient(database: database).enqueue(jobs).get()
        let elapsed = ContinuousClock.now - start
        #expect(results.count == 3000)
        #expect(Set(results.map(\.id)).count == 3000)
        let rows = try await database.rows("SELECT id, (payload->>'n')::int8 AS n, priority, max_attempts FROM jobs")
        var byID: [Int64: (n: Int, priority: Int, maxAttempts: Int?)] = [:]
        for row in rows {
            byID[try row.decode("id")] = (
                try row.decode("n"), try row.decode("priority"), try row.decode("max_attempts")
            )
        }
        for (index, result) in results.enumerated() {
            let stored = try #require(byID[result.id])
            #expect(stored.n == index)
            #expect(stored.priority == index % 3)
            #expect(stored.maxAttempts == (index % 2 == 0 ? 3 : nil))
        }
        print("bulk enqueue of 3000 jobs: \(elapsed)")
    }

    @Test("a unique key returns the unfinished job instead of a second one, also within a batch")
    func unique() async throws {
        let database = try await makeDatabase()
        let client = JobQueueClient(database: database)
        let first = try await client.enqueue(NewJob(kind: "noop", uniqueKey: "slot:1")).get()
        let second = try await client.enqueue(NewJob(kind: "noop", uniqueKey: "slot:1")).get()
        #expect(!first.isDuplicate)
        #expect(second == EnqueuedJob(id: first.id, isDuplicate: true))

        let batch = try await client.enqueue([
            NewJob(kind: "noop", uniqueKey: "slot:2"),
            NewJob(kind: "noop"),
            NewJob(kind: "noop", uniqueKey: "slot:1"),
            NewJob(kind: "noop", uniqueKey: "slot:2"),
        ]).get()
        #expect(!batch[0].isDuplicate)
        #expect(!batch[1].isDuplicate)
        #expect(batch[2] == EnqueuedJob(id: first.id, isDuplicate: true))
        #expect(batch[3] == EnqueuedJob(id: batch[0].id, isDuplicate: true))
        #expect(try await database.count(where: "true") == 3)

        // Once the job finished, the key is free again.
        _ = try await database.rows(
            "UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE id = $1",
            [first.id]
        )
        let third = try await client.enqueue(NewJob(kind: "noop", uniqueKey: "slot:1")).get()
        #expect(!third.isDuplicate)
        #expect(third.id != first.id)
    }

    @Test("delayed jobs are scheduled at run_at, by delay or by date")
    func delayed() async throws {
        let database = try await makeDatabase()
        let client = JobQueueClient(database: database)
        let later = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.seconds(60)))).get()
        let at = Date().addingTimeInterval(3600)
        let dated = try await client.enqueue(NewJob(kind: "noop", schedule: .at(at))).get()
        let past = try await client.enqueue(NewJob(kind: "noop", schedule: .at(Date().addingTimeInterval(-60)))).get()

        let laterJob = try await database.job(later.id)
        #expect(laterJob.state == .scheduled)
        #expect(abs(laterJob.runAt.timeIntervalSinceNow - 60) < 5)
        let datedJob = try await database.job(dated.id)
        #expect(datedJob.state == .scheduled)
        #expect(abs(datedJob.runAt.timeIntervalSince(at)) < 0.001)
        #expect(try await database.job(past.id).state == .available)
    }

    @Test("values the schema would reject fail as validation errors naming the field")
    func validation() async throws {
        let database = try await makeDatabase()
        let client = JobQueueClient(database: database)
        let empty = await client.enqueue(NewJob(kind: ""))
        #expect(empty.failure?.errorClass == .validation)
        let priority = await client.enqueue([NewJob(kind: "noop"), NewJob(kind: "noop", priority: 40000)])
        guard case .failure(.validation(let field, _)) = priority else {
            Issue.record("expected a validation error, got \(priority)")
            return
        }
        #expect(field == "jobs[1].priority")
        let json = await client.enqueue(NewJob(kind: "noop", json: "{not json"))
        #expect(json.isFailure)
        #expect(try await database.count(where: "true") == 0)
    }

    @Test("a job enqueued in a Unit of Work exists only if the caller commits")
    func transactional() async throws {
        let database = try await makeDatabase()
        try await database.withUnitOfWork { uow in
            _ = try await uow.jobs.enqueue(NewJob(kind: "noop", json: #"{"rolled": "back"}"#)).get()
            #expect(try await uow.jobs.count().get() == 1)
        }
        #expect(try await database.count(where: "true") == 0)

        let id = try await database.withUnitOfWork { uow in
            let job = try await uow.jobs.enqueue(NewJob(kind: "noop", json: #"{"committed": true}"#)).get()
            try await uow.commit()
            return job.id
        }
        #expect(try await database.job(id).state == .available)
        #expect(try await database.count(where: "true") == 1)
    }

    @Test("NOTIFY is sent once per statement and queue, and only on commit")
    func notifications() async throws {
        let database = try await makeDatabase()
        let (_, received) = try await withJobNotifications(database, expected: 2, settle: .milliseconds(200)) {
            try await database.withUnitOfWork { uow in
                _ = try await uow.jobs.enqueue(NewJob(kind: "noop")).get()
            }
            _ = try await JobQueueClient(database: database).enqueue(
                (0..<50).map { NewJob(kind: "noop", queue: $0 < 40 ? "default" : "mail") }
                    + [NewJob(kind: "noop", schedule: .after(.seconds(30)))]
            ).get()
        }
        var notifications = received.sorted { ($0.queue ?? "") < ($1.queue ?? "") }
        // Each carries the earliest run_at it made ready (what a runner's claim floor is checked against).
        let earliest = try await database.pool.query(
            """
            SELECT queue, extract(epoch FROM min(run_at))::float8 AS run_at FROM jobs
            WHERE state = 'available' GROUP BY queue ORDER BY queue
            """)
        #expect(earliest.count == notifications.count)
        for (row, notification) in zip(earliest, notifications) {
            let runAt: Double = try row.decode("run_at")
            #expect(abs((notification.runAt ?? 0) - runAt) < 1e-5, "\(notification)")
        }
        for index in notifications.indices { notifications[index].runAt = nil }
        #expect(
            notifications == [
                JobNotification(queue: "default", available: 40, scheduled: 1, requeued: false, priority: 0),
                JobNotification(queue: "mail", available: 10, scheduled: 0, requeued: false, priority: 0),
            ]
        )
    }
}
