import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("graceful shutdown")
    struct GracefulShutdown {
        /// SIGTERM while five 500 ms jobs and one 60 s job run, with a 2 s shutdown timeout: `/readyz` answers 503
        /// during the drain, the short jobs finish, the long one is cancelled and released to `available` without
        /// spending its attempt, and the process exits 0.
        @Test func sigtermDrainsShortJobsAndReleasesTheLongOne() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let lines =
                    jsonLines(5) { _ in #"{"kind":"sleep","payload":{"milliseconds":500}}"# }
                    + #"{"kind":"sleep","payload":{"milliseconds":60000}}"# + "\n"
                let enqueue = try await scope.command(["enqueue", "--from", "-"], databaseURL: url, stdin: lines)
                #expect(enqueue.stdout == "enqueued 6 jobs\n", "stderr: \(enqueue.stderr)")
                let longID = try #require(
                    try await probe.ids("SELECT id FROM jobs WHERE payload->>'milliseconds' = '60000'").first)

                let worker = try await scope.startWorker(
                    databaseURL: url,
                    arguments: ["--concurrency", "8"],
                    environment: [
                        "SLOT_WORKER_WORKER_SHUTDOWN_TIMEOUT_SECONDS": "2",
                        "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                    ]
                )
                try await waitFor("all 6 jobs running", timeout: .seconds(30), every: .milliseconds(10)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'running'") == 6
                }
                let before = try await worker.get("/readyz")
                #expect(before.status == 200, "readyz before SIGTERM: \(before.body)")

                let signalled = ContinuousClock.now
                worker.running.signal(SIGTERM)
                var during: HTTPReply?
                while worker.isRunning, ContinuousClock.now - signalled < .seconds(20) {
                    if let reply = try? await worker.get("/readyz", timeoutSeconds: 2), reply.status == 503 {
                        during = reply
                        break
                    }
                    try await Task.sleep(for: .milliseconds(25))
                }
                let drainReply = try #require(during, "no 503 from /readyz during the drain")
                #expect(drainReply.body.contains(#""shutdown":{"status":"fail","detail":"shutting down""#))
                #expect(drainReply.body.hasPrefix(#"{"status":"fail""#))
                // Still serving while the long job waits for the shutdown timeout.
                #expect(try await worker.get("/livez").status == 200)

                let output = try await worker.running.finish(timeout: .seconds(30))
                let drained = ContinuousClock.now - signalled
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                #expect(drained >= .milliseconds(1800), "exited \(drained) after SIGTERM, before the 2 s timeout")

                #expect(
                    try await probe.int(
                        """
                        SELECT count(*) FROM jobs WHERE kind = 'sleep' AND payload->>'milliseconds' = '500'
                            AND state = 'succeeded' AND attempts = 1
                        """) == 5)
                let long = try #require(
                    try await probe.query(
                        "SELECT state, attempts, locked_by, lease_expires_at, finished_at FROM jobs WHERE id = $1",
                        [longID]
                    ).first)
                #expect(try long.decode("state", as: String.self) == "available")
                #expect(try long.decode("attempts", as: Int64.self) == 0)
                #expect(long.isNull("locked_by"))
                #expect(long.isNull("lease_expires_at"))
                #expect(long.isNull("finished_at"))
            }
            await probe.close()
        }
    }
}
