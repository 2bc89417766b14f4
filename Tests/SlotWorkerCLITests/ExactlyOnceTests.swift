import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("many workers, many jobs")
    struct ExactlyOnce {
        /// 20,000 jobs enqueued with `enqueue --from -` and drained by 4 worker processes: every job succeeded on
        /// its first attempt, no claim was repeated, and the processes' own counters add up to exactly 20,000
        /// executions (a job run twice would count twice), with every process taking part.
        @Test func twentyThousandJobsAcrossFourProcessesRunExactlyOnce() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let total = 20_000
            try await WorkerScope.with { scope in
                var workers: [Worker] = []
                for _ in 0..<4 {
                    workers.append(
                        try await scope.startWorker(
                            databaseURL: url,
                            environment: ["SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200"]
                        )
                    )
                }
                // All four are claiming (readiness needs a successful poll) before the first job exists.
                for worker in workers {
                    try await waitFor("worker \(worker.pid) ready", timeout: .seconds(30)) {
                        try await worker.get("/readyz").status == 200
                    }
                }

                let started = ContinuousClock.now
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: url,
                    stdin: jsonLines(total) { #"{"kind":"noop","payload":{"n":\#($0)}}"# }
                )
                #expect(enqueue.status == 0, "stderr: \(enqueue.stderr)")
                #expect(enqueue.stdout == "enqueued \(total) jobs\n")
                #expect(try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'noop'") == total)

                try await waitFor("all \(total) noop jobs finished", timeout: .seconds(240), every: .milliseconds(250))
                {
                    try await probe.unfinished(kind: "noop") == 0
                }
                let elapsed = ContinuousClock.now - started

                // Each process's own count of noop executions, read before it stops.
                var executions: [Double] = []
                for worker in workers {
                    let metrics = try await worker.get("/metrics")
                    #expect(metrics.status == 200)
                    let succeeded = samples(of: "slotworker_jobs_finished_total", in: metrics.body)
                        .filter { $0.0["kind"] == "noop" }
                    executions.append(succeeded.filter { $0.0["outcome"] == "succeeded" }.map(\.1).reduce(0, +))
                    #expect(
                        succeeded.filter { $0.0["outcome"] != "succeeded" }.map(\.1).reduce(0, +) == 0,
                        "worker \(worker.pid) finished noop jobs with another outcome")
                }
                #expect(executions.reduce(0, +) == Double(total), "executions per worker: \(executions)")
                #expect(executions.allSatisfy { $0 > 0 }, "executions per worker: \(executions)")

                for worker in workers {
                    let output = try await worker.terminate()
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")
                }
                print("20,000 noop jobs on 4 processes: \(elapsed), executions per process \(executions)")
            }

            #expect(
                try await probe.int(
                    "SELECT count(*) FROM jobs WHERE kind = 'noop' AND state = 'succeeded' AND attempts = 1") == total)
            #expect(
                try await probe.int(
                    """
                    SELECT count(*) FROM jobs WHERE kind = 'noop'
                        AND (state <> 'succeeded' OR attempts <> 1 OR locked_by IS NOT NULL
                            OR lease_expires_at IS NOT NULL OR last_error IS NOT NULL OR finished_at IS NULL)
                    """) == 0)
            // Every line became its own job.
            #expect(try await probe.int("SELECT count(DISTINCT payload->>'n') FROM jobs WHERE kind = 'noop'") == total)
            await probe.close()
        }
    }
}
