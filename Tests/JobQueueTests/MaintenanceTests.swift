import Foundation
import JobQueue
import Persistence
import PostgresClient
import Testing

extension RunnerSuite {
    @Suite("Periodic jobs and pruning")
    struct MaintenanceTests {
        @Test("three schedulers enqueue exactly one job per period")
        func periodicOncePerPeriod() async throws {
            let database = try await makeDatabase()
            let periodic = PeriodicJob(kind: "noop", json: #"{"source": "periodic"}"#, every: .seconds(1), name: "tick")
            let schedulers = (0..<3).map { _ in
                PeriodicScheduler(
                    jobs: [periodic],
                    database: makeDatabase(sharing: database, maxConnections: 2),
                    logger: testLogger
                )
            }
            try await withServices(schedulers) {
                try await Task.sleep(for: .milliseconds(3500))
            }
            let rows = try await database.rows(
                "SELECT unique_key, count(*) AS n FROM jobs WHERE kind = 'noop' GROUP BY unique_key ORDER BY unique_key"
            )
            let counts = try rows.map {
                (try $0.decode("unique_key", as: String.self), try $0.decode("n", as: Int.self))
            }
            #expect(counts.count >= 3 && counts.count <= 5, "periods: \(counts)")
            #expect(counts.allSatisfy { $0.1 == 1 })
            #expect(counts.allSatisfy { $0.0.hasPrefix("periodic:tick:") })
            let runs = try await database.rows("SELECT count(*) AS n FROM periodic_runs WHERE name = 'tick'")
            #expect(try runs[0].decode("n", as: Int.self) == counts.count)

            // A finished period is not enqueued again, even after its job left the unique index.
            _ = try await database.rows("UPDATE jobs SET state = 'succeeded', finished_at = now()")
            let again = await PeriodicScheduler(jobs: [periodic], database: database, logger: testLogger)
                .enqueueDue(at: Date().addingTimeInterval(-1))
            #expect(try again.get().isEmpty)
        }

        @Test("period starts are aligned to the epoch")
        func periodStarts() {
            let hourly = PeriodicJob(kind: "noop", every: .seconds(3600))
            let date = Date(timeIntervalSince1970: 1_767_229_199.5)
            #expect(hourly.periodStart(containing: date) == Date(timeIntervalSince1970: 1_767_225_600))
        }

        @Test("the pruner deletes old finished jobs in batches and keeps the rest")
        func pruning() async throws {
            let database = try await makeDatabase()
            _ = try await database.rows(
                """
                INSERT INTO jobs (kind, state, finished_at)
                SELECT 'noop', s.state, now() - s.age
                FROM (VALUES
                    ('succeeded', interval '25 hours'), ('succeeded', interval '25 hours'),
                    ('succeeded', interval '26 hours'), ('cancelled', interval '30 hours'),
                    ('succeeded', interval '1 hour'), ('cancelled', interval '2 hours'),
                    ('dead', interval '8 days'), ('dead', interval '2 days')
                ) AS s(state, age)
                """
            )
            _ = try await JobQueueClient(database: database).enqueue([
                NewJob(kind: "noop"), NewJob(kind: "noop", schedule: .after(.seconds(3600))),
            ]).get()
            _ = try await database.rows(
                "INSERT INTO periodic_runs (name, period_start) VALUES ('old', now() - interval '8 days'), ('new', now())"
            )
            let pruner = JobPruner(database: database, batchSize: 2, logger: testLogger)
            let pass = try await pruner.pruneOnce().get()
            #expect(pass == JobPruner.Pass(completed: 4, dead: 1, periodicRuns: 1))
            let left = try await database.rows("SELECT state, count(*) AS n FROM jobs GROUP BY state ORDER BY state")
            let byState = Dictionary(
                uniqueKeysWithValues: try left.map {
                    (try $0.decode("state", as: String.self), try $0.decode("n", as: Int.self))
                })
            #expect(byState == ["available": 1, "cancelled": 1, "dead": 1, "scheduled": 1, "succeeded": 1])
        }
    }
}

extension RunnerSuite.MaintenanceTests {
    /// Two workers' schedulers, ticking every simulated minute across Berlin's spring-forward and fall-back nights,
    /// enqueue each scheduled run of `30 2 * * *` and `*/30 * * * *` exactly once (recorded in `periodic_runs`).
    @Test("cron runs across DST gaps and repeats happen exactly once across workers")
    func cronAcrossDaylightSavingTime() async throws {
        let database = try await makeDatabase()
        let jobs = [
            PeriodicJob(kind: "noop", schedule: try .parse("30 2 * * * Europe/Berlin"), name: "nightly"),
            PeriodicJob(kind: "noop", schedule: try .parse("*/30 * * * * Europe/Berlin"), name: "half-hourly"),
        ]
        let schedulers = [
            PeriodicScheduler(jobs: jobs, database: database, logger: testLogger),
            PeriodicScheduler(
                jobs: jobs, database: makeDatabase(sharing: database, maxConnections: 1), logger: testLogger),
        ]
        let nights = [
            (CronScheduleTests.utc("2026-03-28T23:00:00Z"), CronScheduleTests.utc("2026-03-29T03:00:00Z")),
            (CronScheduleTests.utc("2026-10-24T23:00:00Z"), CronScheduleTests.utc("2026-10-25T03:00:00Z")),
        ]
        for (start, end) in nights {
            var minute = start
            while minute <= end {
                for scheduler in schedulers { _ = try await scheduler.enqueueDue(at: minute).get() }
                minute = minute.addingTimeInterval(60)
            }
        }
        let rows = try await database.rows(
            "SELECT name, extract(epoch FROM period_start)::float8 AS at FROM periodic_runs ORDER BY name, period_start"
        )
        func runs(_ name: String) throws -> [Date] {
            try rows.filter { try $0.decode("name", as: String.self) == name }.map {
                Date(timeIntervalSince1970: try $0.decode("at", as: Double.self))
            }
        }
        #expect(try runs("nightly") == ["2026-03-29T01:00:00Z", "2026-10-25T00:30:00Z"].map(CronScheduleTests.utc))
        // Spring: 8 local half-hours from 00:00 to 03:00 UTC minus the collapsed gap; fall: 8 half-hours from 23:00
        // to 03:00 UTC, the repeated 02:00 and 02:30 local (01:00, 01:30 UTC) skipped.
        let halfHourly = try runs("half-hourly")
        let spring = stride(from: 0.0, through: 4 * 3600, by: 1800).map { nights[0].0.addingTimeInterval($0) }
        let fall = stride(from: 0.0, through: 4 * 3600, by: 1800).map { nights[1].0.addingTimeInterval($0) }
            .filter {
                ![CronScheduleTests.utc("2026-10-25T01:00:00Z"), CronScheduleTests.utc("2026-10-25T01:30:00Z")]
                    .contains($0)
            }
        #expect(halfHourly == spring + fall)
        let jobsCount = try await database.rows("SELECT count(*) AS n FROM jobs")
        #expect(try jobsCount[0].decode("n", as: Int.self) == halfHourly.count + 2)
    }
}
