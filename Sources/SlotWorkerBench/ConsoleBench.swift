import Console
import Foundation
import HTTPServer
import JobQueue
import Logging
import PostgresClient

/// `console`: p95 render time of every console page, and of every job-list filter an operator can build (each
/// state or none × kind × queue, matching or not, ids, a deep page, the last page, a continued search), with
/// 1,000,000 jobs in the table (the shipped defaults: exact counts up to 100,000, a 2 s statement timeout, the list's
/// 50,000-id scan window), each page's queries and HTML through `Console.handle` (the HTTP path itself is the
/// `http` figure). The table holds what a busy day leaves before the pruner: mostly succeeded jobs spread over 24
/// hours, some dead, cancelled, ready, scheduled and running ones in three queues; the reminders table what five weeks
/// of 50,000 booked slots leave (two reminders each, sent, skipped by reason, failed, planned). Everything is vacuumed
/// and analyzed first, as autovacuum would have. One JSON line per page, then the worst; baseline: the 100 ms goal
/// (ratio = 100 / p95).
enum ConsoleBench {
    static let databaseName = "slotworker_bench_console"

    static func run(_ arguments: BenchArguments, server: PostgresConfiguration) async throws {
        let jobs = arguments.int("jobs", default: 1_000_000)
        let samples = max(5, arguments.int("samples", default: 40))
        let configuration = try await QueueBench.freshDatabase(databaseName, server: server)
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2))
        let started = ContinuousClock.now
        try await seedJobs(jobs, pool: pool)
        try await seedReminders(pool: pool)
        _ = try await pool.withConnection { try await $0.execute("VACUUM ANALYZE", cancellable: false) }
        QueueBench.log(
            "console: \(jobs) jobs and the reminders loaded and analyzed in \(ContinuousClock.now - started)")

        let deadID: Int64 = try await pool.query("SELECT max(id) AS id FROM jobs WHERE state = 'dead'")[0].decode("id")
        let oldestID: Int64 = try await pool.query("SELECT min(id) AS id FROM jobs")[0].decode("id")
        let newestID: Int64 = try await pool.query("SELECT max(id) AS id FROM jobs")[0].decode("id")
        let periodic = [
            PeriodicJob(kind: "slots.release_lapsed", schedule: .every(.seconds(60))),
            PeriodicJob(kind: "slots.expire_past", schedule: try .parse("*/5 * * * * Europe/Moscow")),
        ]
        let console = Console(
            pool: pool,
            configuration: ConsoleConfiguration(periodicJobs: periodic),
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        // Where the search for a filter matching nothing continues (the page's "continue searching" link).
        let nothing = JobFilter(states: [.dead], kind: "fail", queue: "mail")
        let continued = try await JobOperations(pool: pool).list(nothing).next ?? 0
        var pages: [(name: String, target: String, status: Int)] = [
            ("overview", "/ui", 200),
            ("job", "/ui/jobs/\(deadID)", 200),
            ("job-missing", "/ui/jobs/\(newestID + 1000)", 404),
            ("periodic", "/ui/periodic", 200),
            ("workers", "/ui/workers", 200),
            ("reminders", "/ui/reminders", 200),
            ("jobs", "/ui/jobs", 200),
            ("jobs?before=middle", "/ui/jobs?before=\((oldestID + newestID) / 2)", 200),
            ("jobs?before=last", "/ui/jobs?before=\(oldestID + 10)", 200),
            (
                "jobs?state=dead&kind=fail&queue=mail&before=continued",
                "/ui/jobs?state=dead&kind=fail&queue=mail&before=\(continued)", 200
            ),
            (
                "jobs?state=dead&kind=fail&queue=mail&before=last",
                "/ui/jobs?state=dead&kind=fail&queue=mail&before=\(oldestID + 10)", 200
            ),
            ("jobs?id=dead", "/ui/jobs?id=\(deadID)", 200),
            ("jobs?id=missing", "/ui/jobs?id=\(newestID + 1000)", 200),
            ("jobs?id=dead&state=succeeded", "/ui/jobs?id=\(deadID)&state=succeeded", 200),
        ]
        // Every combination the filter form builds: any state or one, with a kind and/or a queue that match
        // (fail, mail) or match nothing (nope).
        for state in [""] + JobState.allCases.map(\.rawValue) {
            for (kind, queue) in [("", ""), ("fail", ""), ("", "mail"), ("fail", "mail"), ("nope", ""), ("", "nope")] {
                let query = [("state", state), ("kind", kind), ("queue", queue)].filter { !$0.1.isEmpty }
                    .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
                guard !query.isEmpty else { continue }
                pages.append(("jobs?" + query, "/ui/jobs?" + query, 200))
            }
        }
        var worst = (name: "", p95: 0.0)
        for page in pages {
            let parts = page.target.split(separator: "?", maxSplits: 1).map(String.init)
            let request = HTTPRequest(method: "GET", path: parts[0], query: parts.count > 1 ? parts[1] : nil)
            var times: [Double] = []
            for round in 0..<(samples + 3) {
                let start = ContinuousClock.now
                let response = await console.handle(request)
                let elapsed = (ContinuousClock.now - start).seconds * 1000
                guard response.status == page.status else {
                    throw BenchFailure(
                        "console \(page.name): status \(response.status): \(String(decoding: response.body, as: UTF8.self).prefix(300))"
                    )
                }
                if round >= 3 { times.append(elapsed) }
            }
            times.sort()
            let p95 = percentile(times, 95)
            if p95 > worst.p95 { worst = (page.name, p95) }
            QueueBench.log(
                "console \(page.name): median \(String(format: "%.1f", percentile(times, 50))) ms, "
                    + "p95 \(String(format: "%.1f", p95)) ms, max \(String(format: "%.1f", times.last!)) ms"
            )
            BenchFigure(
                bench: "console-\(page.name)", value: p95, unit: "ms p95", baseline: 100, higherIsBetter: false
            ).print()
        }
        QueueBench.log("console: the worst p95 of \(pages.count) pages is \(worst.name)")
        BenchFigure(bench: "console-worst", value: worst.p95, unit: "ms p95", baseline: 100, higherIsBetter: false)
            .print()
        await pool.close()
        await QueueBench.dropDatabase(databaseName, server: server)
    }

    /// The jobs: enqueued and finished in id order over the last 24 hours (as a queue table grows), mostly succeeded,
    /// 2% dead, 1% cancelled, 2% ready, in three queues, four kinds and three priorities; 2,000 scheduled reminder sends; 100 running on four registered workers; two periodic jobs' ledger.
    static func seedJobs(_ jobs: Int, pool: PostgresPool) async throws {
        _ = try await pool.query(
            """
            INSERT INTO jobs (kind, queue, state, payload, attempts, run_at, created_at, attempted_at, finished_at,
                last_error, priority)
            SELECT k.kind, (ARRAY['default', 'mail', 'reports'])[1 + i % 3], s.state, '{"n": 1}', 1,
                t.at, t.at,
                CASE WHEN s.state IN ('succeeded', 'dead', 'cancelled') THEN t.at END,
                CASE WHEN s.state IN ('succeeded', 'dead', 'cancelled') THEN t.at END,
                CASE WHEN s.state = 'dead' THEN 'boom <b>' || i || '</b>' END, (i / 7 % 3)::int2
            FROM generate_series(1, $1::int8) AS i,
                LATERAL (SELECT now() - ($1::int8 - i) * (interval '1 day' / $1::int8) AS at) AS t,
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
            INSERT INTO jobs (kind, state, attempts, attempted_at, locked_by, lease_expires_at)
            SELECT 'noop', 'running', 1, now(), 'bench:' || (1 + i % 4), now() + interval '5 minutes'
            FROM generate_series(1, 100) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO periodic_runs (name, period_start)
            SELECT name, now() - i * interval '1 minute' FROM generate_series(1, 1440) AS i,
                unnest(ARRAY['slots.release_lapsed', 'slots.expire_past']) AS name
            """)
    }

    /// The reminders: 50,000 booked slots of 100 recruiters, one every minute from 30 days ago to 5 days ahead, each
    /// with a 24h and a 2h reminder. Those already due are sent (90%), skipped by reason (6%) or failed (4%), a
    /// few still sending; the rest are planned.
    static func seedReminders(pool: PostgresPool) async throws {
        _ = try await pool.query(
            """
            WITH c AS (INSERT INTO cities (name, time_zone) VALUES ('Berlin', 'Europe/Berlin') RETURNING id)
            INSERT INTO recruiters (name) SELECT 'Recruiter ' || i FROM generate_series(1, 100) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
            SELECT (SELECT min(id) FROM recruiters) + i % 100, (SELECT id FROM cities),
                date_trunc('minute', now()) - interval '30 days' + i * interval '1 minute', 30, 'BOOKED', 100000 + i
            FROM generate_series(0, 49999) AS i
            """)
        _ = try await pool.query(
            """
            INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at, state, reason, chat_id, message_id,
                attempts, last_error, created_at, updated_at, sent_at)
            SELECT s.id, o.seconds, s.starts_at, d.due_at, r.state,
                CASE r.state WHEN 'skipped' THEN (ARRAY['late', 'moved', 'not_booked', 'unreachable'])[1 + s.id % 4]
                    WHEN 'failed' THEN 'http_5xx' END,
                s.candidate_telegram_id, CASE WHEN r.state = 'sent' THEN s.id END,
                CASE WHEN r.state IN ('planned') THEN 0 ELSE 1 END,
                CASE WHEN r.state = 'failed' THEN 'Bad Gateway' END,
                d.due_at - interval '1 day', least(now(), d.due_at + interval '1 second'),
                CASE WHEN r.state = 'sent' THEN d.due_at + interval '1 second' END
            FROM slots AS s,
                (VALUES (86400), (7200)) AS o(seconds),
                LATERAL (SELECT s.starts_at - o.seconds * interval '1 second' AS due_at) AS d,
                LATERAL (SELECT CASE
                    WHEN d.due_at > now() THEN 'planned'
                    WHEN d.due_at > now() - interval '5 seconds' THEN 'sending'
                    WHEN s.id % 100 < 90 THEN 'sent' WHEN s.id % 100 < 96 THEN 'skipped' ELSE 'failed' END AS state) AS r
            """)
    }
}
