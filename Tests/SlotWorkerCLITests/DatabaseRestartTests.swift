import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("database restart")
    struct DatabaseRestart {
        /// PostgreSQL (a private cluster, durable settings) stops for about 2 s while a worker processes jobs:
        /// `/readyz` turns 503 with the database check failing, the process stays up, and once the server is back
        /// work resumes within 5 s and every job succeeds — none lost, none run twice (the outage is shorter than
        /// the lease, so completions held during it land, and a claim whose answer was lost is given back).
        @Test func workerRidesOutAPostgresRestart() async throws {
            try await PrivatePostgres.with(durable: true) { server in
                let url = server.url()
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", url])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let probe = Probe(try PostgresConfiguration(url), retries: 3)
                let total = 150
                try await WorkerScope.with { scope in
                    let enqueue = try await scope.command(
                        ["enqueue", "--from", "-"],
                        databaseURL: url,
                        stdin: jsonLines(total) { _ in #"{"kind":"sleep","payload":{"milliseconds":100}}"# }
                    )
                    #expect(enqueue.stdout == "enqueued \(total) jobs\n", "stderr: \(enqueue.stderr)")
                    let worker = try await scope.startWorker(
                        databaseURL: url,
                        arguments: ["--concurrency", "4"],
                        environment: [
                            "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                            "SLOT_WORKER_WORKER_LEASE_SECONDS": "6",
                            "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                        ]
                    )
                    try await waitFor("20 jobs done before the outage", timeout: .seconds(30)) {
                        try await Self.succeeded(probe) >= 20
                    }
                    #expect(try await worker.get("/readyz").status == 200)

                    let stopped = ContinuousClock.now
                    try await server.stop()
                    var outage: HTTPReply?
                    try await waitFor("/readyz fails on the database check", timeout: .seconds(15)) {
                        let reply = try await worker.get("/readyz")
                        if reply.status == 503 { outage = reply }
                        return reply.status == 503 && reply.body.contains(#""database":{"status":"fail""#)
                    }
                    let down = try #require(outage)
                    #expect(down.body.contains(#""shutdown":{"status":"ok""#), "body: \(down.body)")
                    let remaining = .seconds(2) - (ContinuousClock.now - stopped)
                    if remaining > .zero { try await Task.sleep(for: remaining) }
                    #expect(worker.isRunning, "the worker exited while the database was down")
                    #expect(try await worker.get("/livez").status == 200)

                    try await server.start()
                    let restarted = ContinuousClock.now
                    let doneAtRestart = try await Self.succeeded(probe)
                    #expect(doneAtRestart < total, "the outage hit after all work was done")
                    try await waitFor("work resumes", timeout: .seconds(5), every: .milliseconds(50)) {
                        try await Self.succeeded(probe) > doneAtRestart
                    }
                    let resumedAfter = ContinuousClock.now - restarted
                    try await waitFor("every job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                        try await probe.unfinished(kind: "sleep") == 0
                    }
                    try await waitFor("/readyz is 200 again", timeout: .seconds(10)) {
                        try await worker.get("/readyz").status == 200
                    }
                    #expect(worker.isRunning)
                    let output = try await worker.terminate()
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                    print("database restart: work resumed \(resumedAfter) after the server came back")

                    #expect(try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep'") == total)
                    #expect(try await Self.succeeded(probe) == total)
                    #expect(try await probe.int("SELECT count(*) FROM jobs WHERE state = 'dead'") == 0)
                    #expect(
                        try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND attempts <> 1") == 0)
                }
                await probe.close()
            }
        }

        static func succeeded(_ probe: Probe) async throws -> Int {
            try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded'")
        }
    }
}
