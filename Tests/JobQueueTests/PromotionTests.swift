import Foundation
import Persistence
import PostgresClient
import Testing

@testable import JobQueue

@Suite("Promotion")
struct PromotionTests {
    /// Due scheduled rows in two queues, at spread priorities and times: one promotion makes them all available, its
    /// notifications carry where each queue's promoted rows start in the claim order (so runners lower their claim
    /// floors without probing), and its result reports that key for the queue asked about.
    @Test("a promotion reports where its rows start, in its result and in each queue's notification")
    func promotionReportsItsEarliestKey() async throws {
        let database = try await makeDatabase()
        let client = JobQueueClient(database: database)
        _ = try await client.enqueue(
            (0..<12).map {
                NewJob(
                    kind: "noop", queue: $0 % 2 == 0 ? "default" : "mail", priority: 3 - $0 % 4,
                    schedule: .after(.seconds(3600)))
            }
        ).get()
        // As the backend might write them: due at spread past times (the smallest priority is not the earliest row).
        _ = try await database.pool.query(
            "UPDATE jobs SET run_at = now() - make_interval(secs => id % 7 + priority * 10)")
        let expected = try await database.pool.query(
            """
            SELECT queue, min(priority)::int8 AS priority, extract(epoch FROM min(run_at))::float8 AS run_at
            FROM jobs GROUP BY queue ORDER BY queue
            """)
        let (result, received) = try await withJobNotifications(database, expected: 2) {
            try await database.withJobs { await $0.promoteDue(queue: "mail") }.get()
        }
        #expect(result.promoted == 12)
        let mail = try #require(expected.last)
        #expect(try mail.decode("queue", as: String.self) == "mail")
        let earliest = try #require(result.earliest)
        #expect(earliest.priority == Int(try mail.decode("priority", as: Int64.self)))
        #expect(abs(earliest.runAt - (try mail.decode("run_at", as: Double.self))) < 1e-5)

        let notifications = received.sorted { ($0.queue ?? "") < ($1.queue ?? "") }
        #expect(notifications.map(\.queue) == ["default", "mail"])
        for (row, notification) in zip(expected, notifications) {
            #expect(notification.available == 6)
            #expect(notification.requeued == nil, "a promotion's key is known: no probe needed")
            #expect(notification.priority == Int(try row.decode("priority", as: Int64.self)))
            #expect(abs((notification.runAt ?? 0) - (try row.decode("run_at", as: Double.self))) < 1e-5)
        }
    }

    @Test("a promotion of nothing in the queue asked about reports no key")
    func promotionElsewhereReportsNoKey() async throws {
        let database = try await makeDatabase()
        _ = try await JobQueueClient(database: database).enqueue(
            NewJob(kind: "noop", queue: "mail", schedule: .after(.seconds(3600)))
        ).get()
        _ = try await database.pool.query("UPDATE jobs SET run_at = now() - interval '1 second'")
        let result = try await database.withJobs { await $0.promoteDue(queue: "default") }.get()
        #expect(result.promoted == 1)
        #expect(result.earliest == nil)
    }
}
