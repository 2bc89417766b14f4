import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("series budget")
    struct SeriesBudget {
        /// The README's series budget, checked on the real thing: `slot-worker run` on the demo data, after every
        /// diagnostic kind (succeeding, retried, dead, undecodable), an unknown kind, the periodic domain tasks and a
        /// reminder plan ran, exposes at most 1,500 series, and every metric the Grafana dashboard and the alert
        /// rules read is among them. A repository operation has series only once it ran (none at 0).
        @Test func aWorkerAfterEveryKindStaysWithinTheBudgetAndServesWhatTheDashboardReads() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let seed = try await scope.command(["demo-seed"], databaseURL: url)
                #expect(seed.status == 0, "stderr: \(seed.stderr)")
                let jobs = [
                    #"{"kind":"noop"}"#, #"{"kind":"trace"}"#, #"{"kind":"sleep","payload":{"milliseconds":1}}"#,
                    #"{"kind":"fail","payload":{"message":"again"},"max_attempts":2}"#,
                    #"{"kind":"fail","payload":{"message":"boom","permanent":true}}"#,
                    #"{"kind":"sleep","payload":{"seconds":1}}"#, #"{"kind":"no.such.kind"}"#,
                ]
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"], databaseURL: url, stdin: jobs.joined(separator: "\n") + "\n")
                #expect(enqueue.stdout == "enqueued 7 jobs\n", "stderr: \(enqueue.stderr)")

                let worker = try await scope.startWorker(
                    databaseURL: url,
                    environment: [
                        "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                        "SLOT_WORKER_TASKS_RELEASE_LAPSED_SCHEDULE": "every 1s",
                        "SLOT_WORKER_TASKS_EXPIRE_PAST_SCHEDULE": "every 1s",
                        "SLOT_WORKER_TASKS_NOTIFY_LAPSED_RESERVATIONS": "true",
                    ]
                )
                try await waitFor("the diagnostic jobs and the domain tasks finished", timeout: .seconds(60)) {
                    try await probe.int(
                        """
                        SELECT count(DISTINCT kind) FROM jobs WHERE finished_at IS NOT NULL
                            AND kind IN ('noop', 'trace', 'sleep', 'fail', 'slots.release_lapsed',
                                'slots.expire_past', 'reminders.plan')
                        """) == 7
                }
                let metrics = try await worker.get("/metrics")
                #expect(metrics.status == 200)
                let lines = metrics.body.split(separator: "\n").filter { !$0.hasPrefix("#") }
                #expect(lines.count <= 1_500, "\(lines.count) series")

                let operations = samples(of: "slotworker_repository_operation_duration_seconds_count", in: metrics.body)
                // The README's figure comes from this line.
                print("series budget: \(lines.count) series, \(operations.count) repository operations ran")
                #expect(operations.count >= 10, "the queue's and the tasks' operations ran")
                let idle = operations.filter { $0.1 == 0 }.map {
                    "\($0.0["repository"] ?? "").\($0.0["operation"] ?? "")"
                }
                #expect(idle.isEmpty, "operations with series at 0: \(idle)")

                let exposed = Set(lines.map { $0.prefix { $0 != "{" && $0 != " " } }.map(String.init))
                let read = try Self.metricsRead()
                #expect(read.count >= 20, "the dashboard and the alerts read \(read.count) metrics")
                let missing = read.subtracting(exposed).sorted()
                #expect(missing.isEmpty, "read by the dashboard or the alerts, not exposed: \(missing)")
                _ = try await worker.terminate()
            }
        }

        /// The metric names in `dashboards/grafana-slotworker.json` and `dashboards/alerts.yml` (`slotworker_…` and
        /// `process_…`, as written: a histogram's as `…_bucket`, `…_sum` or `…_count`).
        static func metricsRead() throws -> Set<String> {
            let dashboards = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("dashboards")
            var names = Set<String>()
            for file in ["grafana-slotworker.json", "alerts.yml"] {
                let text = try String(contentsOf: dashboards.appendingPathComponent(file), encoding: .utf8)
                let pattern = try NSRegularExpression(pattern: "\\b(slotworker|process)_[a-z0-9_]*[a-z0-9]")
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    names.insert(String(text[Range(match.range, in: text)!]))
                }
            }
            return names
        }
    }
}
