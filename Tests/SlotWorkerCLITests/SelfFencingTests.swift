import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    /// Two workers, A and B, and `trace` jobs (each attempt records its start and, if it still held the lease at
    /// the end, its end in `job_trace`). A runs the jobs, then loses the database (a partition, or SIGSTOP); B
    /// takes them over after their lease lapses. A run of one job never overlaps another: A's runs never reach
    /// their end, B's do, and nothing A writes after the fact lands.
    @Suite("self-fencing")
    struct SelfFencing {
        static let jobs = 3
        static let environment = [
            "SLOT_WORKER_WORKER_LEASE_SECONDS": "3",
            "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
            "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
            "SLOT_WORKER_DATABASE_STATEMENT_TIMEOUT_MS": "1000",
            "SLOT_WORKER_DATABASE_TCP_USER_TIMEOUT_MS": "1000",
            "SLOT_WORKER_DATABASE_KEEPALIVES_IDLE_SECONDS": "1",
        ]

        /// A reaches PostgreSQL through a proxy that goes silent: A cannot renew its leases, stops its handlers
        /// before the leases lapse (and counts them in `slotworker_jobs_fenced_total`); B reruns the jobs.
        @Test func aPartitionedWorkerStopsItsHandlersBeforeTheLeaseLapses() async throws {
            let configuration = try await TestDatabase.create()
            let direct = try TestDatabase.url(database: configuration.database!)
            let proxy = try StallProxy(targetPort: Int(configuration.port)!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let a = try await Self.startRunning(
                    scope: scope, probe: probe, url: proxy.url(for: direct), enqueueURL: direct, milliseconds: 8000)
                let b = try await scope.startWorker(
                    databaseURL: direct, arguments: ["--concurrency", "4"], environment: Self.environment)
                try proxy.stall()
                try await waitFor("B finished every job", timeout: .seconds(60), every: .milliseconds(100)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'trace' AND state = 'succeeded'")
                        == Self.jobs
                }
                let metrics = try await a.worker.get("/metrics").body
                let fenced = samples(of: "slotworker_jobs_fenced_total", in: metrics).first?.1 ?? 0
                // Every trace job; A may also have been running a periodic job (the reminder planner) when it lost
                // the database, which is fenced too.
                #expect(fenced >= Double(Self.jobs), "A fenced \(fenced) handlers")
                try proxy.resume()
                // A's connections come back; whatever it still had to write must not land.
                try await Task.sleep(for: .seconds(3))
                try await Self.expectNoOverlap(probe: probe, a: a.id)
                #expect(try await b.terminate().status == 0)
                let output = try await a.worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                #expect(output.stderr.contains("could not renew"), "stderr: \(output.stderr.suffix(3000))")
            }
            await probe.close()
        }

        /// A is stopped with SIGSTOP while its handlers run and continued (SIGCONT) after B took the jobs over: the
        /// resumed handlers find their lease no longer sure and stop without their end, and A records no outcome.
        @Test func aWorkerResumedAfterSIGSTOPWritesNothingForJobsItLost() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let a = try await Self.startRunning(
                    scope: scope, probe: probe, url: url, enqueueURL: url, milliseconds: 4000)
                let b = try await scope.startWorker(
                    databaseURL: url, arguments: ["--concurrency", "4"], environment: Self.environment)
                a.worker.running.signal(SIGSTOP)
                try await waitFor("B started every job", timeout: .seconds(30), every: .milliseconds(50)) {
                    try await probe.int("SELECT count(*) FROM job_trace WHERE worker <> $1", [a.id]) == Self.jobs
                }
                a.worker.running.signal(SIGCONT)
                try await waitFor("B finished every job", timeout: .seconds(30), every: .milliseconds(100)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'trace' AND state = 'succeeded'")
                        == Self.jobs
                }
                try await Task.sleep(for: .seconds(2))
                try await Self.expectNoOverlap(probe: probe, a: a.id)
                #expect(try await b.terminate().status == 0)
                let output = try await a.worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
            }
            await probe.close()
        }

        /// Creates `job_trace`, enqueues the trace jobs and starts A; returns once A runs all of them.
        static func startRunning(
            scope: WorkerScope,
            probe: Probe,
            url: String,
            enqueueURL: String,
            milliseconds: Int
        ) async throws -> (worker: Worker, id: String) {
            _ = try await probe.query(
                "CREATE TABLE job_trace (job_id bigint, attempt int, worker text, started_at timestamptz, "
                    + "ended_at timestamptz)")
            let enqueue = try await scope.command(
                ["enqueue", "--from", "-"],
                databaseURL: enqueueURL,
                stdin: jsonLines(jobs) { _ in #"{"kind":"trace","payload":{"milliseconds":\#(milliseconds)}}"# }
            )
            #expect(enqueue.stdout == "enqueued \(jobs) jobs\n", "stderr: \(enqueue.stderr)")
            let worker = try await scope.startWorker(
                databaseURL: url, arguments: ["--concurrency", "4"], environment: environment)
            try await waitFor("A runs every job", timeout: .seconds(30), every: .milliseconds(20)) {
                try await probe.int("SELECT count(*) FROM job_trace") == jobs
            }
            let id = try #require(try await probe.strings("SELECT DISTINCT worker FROM job_trace").first)
            return (worker, id)
        }

        /// Every job: A's run has no end, B's run has one and started after A's; the outcome is B's (attempt 2,
        /// succeeded, the rescuer's note as its last error).
        static func expectNoOverlap(probe: Probe, a: String) async throws {
            #expect(try await probe.int("SELECT count(*) FROM job_trace WHERE worker = $1", [a]) == jobs)
            #expect(
                try await probe.int("SELECT count(*) FROM job_trace WHERE worker = $1 AND ended_at IS NOT NULL", [a])
                    == 0, "A ran a job to its end after losing the lease")
            #expect(
                try await probe.int(
                    """
                    SELECT count(*) FROM job_trace b JOIN job_trace a ON a.job_id = b.job_id AND a.worker = $1
                    WHERE b.worker <> $1 AND b.ended_at IS NOT NULL AND b.started_at > a.started_at
                    """, [a]) == jobs)
            #expect(
                try await probe.int(
                    """
                    SELECT count(*) FROM jobs WHERE kind = 'trace' AND state = 'succeeded' AND attempts = 2
                        AND locked_by IS NULL AND last_error LIKE 'lease expired: worker ' || $1 || ' %'
                    """, [a]) == jobs)
        }
    }
}
