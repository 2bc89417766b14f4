import Console
import Foundation
import HTTPServer
import JobQueue
import Logging
import PostgresClient

/// `console`: p95 render time of every console page with 1,000,000 jobs in the table (the shipped defaults:
/// exact counts up to 100,000, a 2 s statement timeout), each page's query and HTML through `Console.handle`
/// (the HTTP path itself is the `http` figure). The table holds what a busy day leaves before the pruner: mostly
/// succeeded jobs spread over 24 hours, some dead, cancelled, ready and scheduled ones in three queues; it is
/// vacuumed and analyzed first, as autovacuum would have. Baseline: the 100 ms goal (ratio = 100 / p95).
enum ConsoleBench {
    static let databaseName = "slotworker_bench_console"

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let jobs = arguments.int("jobs", default: 1_000_000)
        let samples = max(5, arguments.int("samples", default: 40))
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2))
        let started = ContinuousClock.now
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, queue, state, payload, attempts, run_at, created_at, attempted_at, finished_at,
                last_error)
            SELECT k.kind, (ARRAY['default', 'mail', 'reports'])[1 + i % 3], s.state, '{"n": 1}', 1,
                now() - (i % 86400) * interval '1 second', now() - (i % 86400) * interval '1 second',
                CASE WHEN s.state IN ('succeeded', 'dead', 'cancelled') THEN now() - (i % 86400) * interval '1 second' END,
                CASE WHEN s.state IN ('succeeded', 'dead', 'cancelled') THEN now() - (i % 86400) * interval '1 second' END,
                CASE WHEN s.state = 'dead' THEN 'boom <b>' || i || '</b>' END
            FROM generate_series(1, $1::int8) AS i,
                LATERAL (SELECT CASE
                    WHEN i % 100 < 95 THEN 'succeeded' WHEN i % 100 < 97 THEN 'dead' WHEN i % 100 < 98 THEN 'cancelled'
                    ELSE 'available' END AS state) AS s,
                LATERAL (SELECT (ARRAY['noop', 'fail', 'reminders.send', 'slots.expire_past'])[1 + i % 4] AS kind) AS k
            """, [jobs])
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, state, run_at, payload)
            SELECT 'reminders.send', 'scheduled', now() + i * interval '1 minute', '{"slot_id": 1, "kind": "2h"}'
            FROM generate_series(1, 2000) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO workers (id, host, pid, queue, concurrency)
            SELECT 'bench:' || i, 'bench', i, 'default', 32 FROM generate_series(1, 4) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO periodic_runs (name, period_start)
            SELECT name, now() - i * interval '1 minute' FROM generate_series(1, 1440) AS i,
                unnest(ARRAY['slots.release_lapsed', 'slots.expire_past']) AS name
            """)
        _ = try await pool.withConnection { try await $0.execute("VACUUM ANALYZE", cancellable: false) }
        QueueBench.log("console: \(jobs) jobs loaded and analyzed in \(ContinuousClock.now - started)")

        let deadID: Int64 = try await pool.query("SELECT max(id) AS id FROM jobs WHERE state = 'dead'")[0].decode("id")
        let periodic = [
            PeriodicJob(kind: "slots.release_lapsed", schedule: .every(.seconds(60))),
            PeriodicJob(kind: "slots.expire_past", schedule: try .parse("*/5 * * * * Europe/Moscow")),
        ]
        let console = Console(
            pool: pool,
            configuration: ConsoleConfiguration(periodicJobs: periodic),
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let pages: [(String, String)] = [
            ("overview", "/ui"),
            ("jobs", "/ui/jobs"),
            ("jobs-older", "/ui/jobs?before=\(deadID)"),
            ("jobs-dead", "/ui/jobs?state=dead"),
            ("jobs-dead-kind", "/ui/jobs?state=dead&kind=fail&queue=mail"),
            ("job", "/ui/jobs/\(deadID)"),
            ("periodic", "/ui/periodic"),
            ("workers", "/ui/workers"),
            ("reminders", "/ui/reminders"),
        ]
        for (name, target) in pages {
            let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
            let request = HTTPRequest(method: "GET", path: parts[0], query: parts.count > 1 ? parts[1] : nil)
            var times: [Double] = []
            for round in 0..<(samples + 3) {
                let start = ContinuousClock.now
                let response = await console.handle(request)
                let elapsed = (ContinuousClock.now - start).seconds * 1000
                guard response.status == 200 else {
                    throw BenchFailure(
                        "console \(name): status \(response.status): \(String(decoding: response.body, as: UTF8.self).prefix(300))"
                    )
                }
                if round >= 3 { times.append(elapsed) }
            }
            times.sort()
            QueueBench.log(
                "console \(name): median \(String(format: "%.1f", percentile(times, 50))) ms, "
                    + "p95 \(String(format: "%.1f", percentile(times, 95))) ms, max \(String(format: "%.1f", times.last!)) ms"
            )
            BenchFigure(
                bench: "console-\(name)", value: percentile(times, 95), unit: "ms p95", baseline: 100,
                higherIsBetter: false
            ).print()
        }
        await pool.close()
        await QueueBench.dropDatabase(databaseName, server: server)
    }
}
