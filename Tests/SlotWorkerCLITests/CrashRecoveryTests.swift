import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("crash recovery")
    struct CrashRecovery {
        /// A worker killed with SIGKILL mid-job: a second process takes its jobs back once their 3 s lease lapsed
        /// (not before) and runs them to success; the rescued jobs show two attempts, the others one. On a private
        /// cluster with durable settings, like every crash test.
        @Test func jobsOfAKilledWorkerAreRerunAfterTheLease() async throws {
            try await PrivatePostgres.with(durable: true) { server in
                let url = server.url()
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", url])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let probe = Probe(try PostgresConfiguration(url))
                let environment = [
                    "SLOT_WORKER_WORKER_LEASE_SECONDS": "3",
                    "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                ]
                try await WorkerScope.with { scope in
                    let enqueue = try await scope.command(
                        ["enqueue", "--from", "-"],
                        databaseURL: url,
                        stdin: jsonLines(8) { _ in #"{"kind":"sleep","payload":{"milliseconds":2000}}"# }
                    )
                    #expect(enqueue.status == 0, "stderr: \(enqueue.stderr)")

                    let doomed = try await scope.startWorker(
                        databaseURL: url, arguments: ["--concurrency", "4"], environment: environment)
                    try await waitFor("the first worker runs 4 jobs", timeout: .seconds(30), every: .milliseconds(20)) {
                        try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'running'") == 4
                    }
                    doomed.running.signal(SIGKILL)
                    let killed = try await doomed.running.finish(timeout: .seconds(10))
                    #expect(doomed.running.process.terminationReason == .uncaughtSignal)
                    #expect(killed.status == SIGKILL)
                    let killedAt = try await probe.double("SELECT extract(epoch FROM now())::float8")
                    let orphans = try await probe.ids(
                        "SELECT id FROM jobs WHERE kind = 'sleep' AND state = 'running' ORDER BY id")
                    #expect(orphans.count == 4, "the killed worker's jobs stay running until their lease lapses")

                    let rescuer = try await scope.startWorker(
                        databaseURL: url, arguments: ["--concurrency", "8"], environment: environment)
                    try await waitFor("all 8 sleep jobs finished", timeout: .seconds(60), every: .milliseconds(100)) {
                        try await probe.unfinished(kind: "sleep") == 0
                    }
                    let output = try await rescuer.terminate()
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")

                    #expect(
                        try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded'")
                            == 8)
                    #expect(
                        try await probe.ids(
                            "SELECT id FROM jobs WHERE kind = 'sleep' AND attempts = 2 ORDER BY id") == orphans)
                    #expect(
                        try await probe.int(
                            "SELECT count(*) FROM jobs WHERE kind = 'sleep' AND attempts = 1 AND last_error IS NULL")
                            == 4)
                    #expect(
                        try await probe.int(
                            """
                            SELECT count(*) FROM jobs
                            WHERE id = ANY ($1::int8[]) AND last_error LIKE 'lease expired: worker % stopped renewing attempt 1 %'
                            """, [orphans]) == 4)
                    // Re-run only after the lease: the last renewal was at most a heartbeat (1 s) before the kill.
                    let firstRerun = try await probe.double(
                        "SELECT extract(epoch FROM min(attempted_at))::float8 FROM jobs WHERE id = ANY ($1::int8[])",
                        [orphans])
                    #expect(firstRerun - killedAt >= 1.5, "re-run \(firstRerun - killedAt) s after the kill")
                }
                await probe.close()
            }
        }
    }
}
