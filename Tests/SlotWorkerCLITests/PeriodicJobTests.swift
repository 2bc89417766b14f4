import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("periodic jobs")
    struct PeriodicJobs {
        /// Three workers schedule `slots.release_lapsed` and `slots.expire_past` every second for about 4 s: each
        /// period is recorded once in `periodic_runs` and produced exactly one job (its unique key names the
        /// period), no period in between was skipped, and no job ran twice.
        @Test func threeWorkersEnqueueOneJobPerPeriod() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                var workers: [Worker] = []
                for _ in 0..<3 {
                    workers.append(
                        try await scope.startWorker(
                            databaseURL: url,
                            environment: [
                                "SLOT_WORKER_TASKS_RELEASE_LAPSED_SCHEDULE": "every 1s",
                                "SLOT_WORKER_TASKS_EXPIRE_PAST_SCHEDULE": "every 1s",
                                "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                            ]
                        )
                    )
                }
                try await Task.sleep(for: .seconds(4))
                for worker in workers { worker.running.signal(SIGTERM) }
                for worker in workers {
                    let output = try await worker.running.finish(timeout: .seconds(40))
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")
                }
            }

            for name in ["slots.release_lapsed", "slots.expire_past"] {
                let periods = try await probe.int("SELECT count(*) FROM periodic_runs WHERE name = $1", [name])
                #expect(periods >= 3, "\(name): \(periods) periods in about 4 s")
                #expect(try await probe.int("SELECT count(*) FROM jobs WHERE kind = $1", [name]) == periods)
                #expect(
                    try await probe.int("SELECT count(DISTINCT unique_key) FROM jobs WHERE kind = $1", [name])
                        == periods)
                // Each period's job carries that period's key: periodic:<name>:<period start, epoch seconds>.
                #expect(
                    try await probe.int(
                        """
                        SELECT count(*) FROM periodic_runs r
                        JOIN jobs j ON j.kind = r.name
                            AND j.unique_key = 'periodic:' || r.name || ':' || extract(epoch FROM r.period_start)::int8
                        WHERE r.name = $1
                        """, [name]) == periods)
                // Consecutive seconds: no period was skipped while the workers ran.
                #expect(
                    try await probe.int(
                        """
                        SELECT extract(epoch FROM max(period_start) - min(period_start))::int8 + 1
                        FROM periodic_runs WHERE name = $1
                        """, [name]) == periods)
                // Run once each: the last period's job may still wait if the workers stopped right after it.
                #expect(
                    try await probe.int(
                        """
                        SELECT count(*) FROM jobs WHERE kind = $1
                            AND NOT ((state = 'succeeded' AND attempts = 1) OR (state = 'available' AND attempts = 0))
                        """, [name]) == 0)
                #expect(
                    try await probe.int(
                        "SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'available'", [name]) <= 1)
            }
            await probe.close()
        }
    }
}
