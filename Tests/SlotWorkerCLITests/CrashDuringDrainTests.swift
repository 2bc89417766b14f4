import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("server crash during a drain")
    struct CrashDuringDrain {
        /// A worker drains after SIGTERM with eight 1 s jobs in flight when PostgreSQL (durable settings) crashes
        /// (`pg_ctl stop -m immediate`: no shutdown checkpoint, WAL replay at the next start). The worker still
        /// exits at its shutdown timeout; after the restart a second worker finishes every job committed before the
        /// crash, finished jobs stay finished, and only jobs that were in flight at the crash ran twice.
        @Test func immediateStopDuringADrain() async throws {
            try await PrivatePostgres.with(durable: true) { server in
                let url = server.url()
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", url])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let total = 40
                let environment = [
                    "SLOT_WORKER_WORKER_LEASE_SECONDS": "3",
                    "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                    "SLOT_WORKER_WORKER_SHUTDOWN_TIMEOUT_SECONDS": "3",
                    "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                ]
                try await WorkerScope.with { scope in
                    let enqueue = try await scope.command(
                        ["enqueue", "--from", "-"],
                        databaseURL: url,
                        stdin: jsonLines(total) { _ in #"{"kind":"sleep","payload":{"milliseconds":1000}}"# }
                    )
                    #expect(enqueue.stdout == "enqueued \(total) jobs\n", "stderr: \(enqueue.stderr)")
                    let probe = Probe(try PostgresConfiguration(url))
                    let draining = try await scope.startWorker(
                        databaseURL: url, arguments: ["--concurrency", "8"], environment: environment)
                    try await waitFor("8 jobs done and 8 running", timeout: .seconds(30), every: .milliseconds(20)) {
                        let done = try await Self.count(probe, "state = 'succeeded'")
                        let running = try await Self.count(probe, "state = 'running'")
                        return done >= 8 && running == 8
                    }
                    draining.running.signal(SIGTERM)
                    try await waitFor("the drain began", timeout: .seconds(10), every: .milliseconds(10)) {
                        (try? await draining.get("/readyz", timeoutSeconds: 2))?.status == 503
                    }
                    let succeededBefore = try await probe.ids("SELECT id FROM jobs WHERE state = 'succeeded'")
                    let inFlight = try await probe.ids("SELECT id FROM jobs WHERE state = 'running' ORDER BY id")
                    await probe.close()
                    try await server.stop(mode: "immediate")

                    let output = try await draining.running.finish(timeout: .seconds(30))
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                    #expect(
                        output.stderr.contains("giving up on job completions at shutdown"),
                        "stderr: \(output.stderr.suffix(3000))")

                    try await server.start()
                    let after = Probe(try PostgresConfiguration(url), retries: 3)
                    #expect(try await Self.count(after, "true") == total, "committed jobs were lost in the crash")
                    #expect(
                        try await Self.count(after, "state = 'succeeded' AND id = ANY ($1::int8[])", [succeededBefore])
                            == succeededBefore.count, "jobs finished before the crash are not finished after it")
                    let finisher = try await scope.startWorker(
                        databaseURL: url, arguments: ["--concurrency", "8"], environment: environment)
                    try await waitFor("every job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                        try await after.unfinished(kind: "sleep") == 0
                    }
                    let finished = try await finisher.terminate()
                    #expect(finished.status == 0, "stderr: \(finished.stderr.suffix(3000))")

                    #expect(try await Self.count(after, "state = 'succeeded'") == total)
                    let twice = try await after.ids("SELECT id FROM jobs WHERE attempts = 2 ORDER BY id")
                    #expect(!twice.isEmpty, "no job was in flight at the crash")
                    #expect(Set(twice).isSubset(of: inFlight), "ran twice: \(twice), in flight: \(inFlight)")
                    #expect(try await Self.count(after, "attempts NOT IN (1, 2)") == 0)
                    print("crash during a drain: \(inFlight.count) in flight, \(twice.count) ran twice")
                    await after.close()
                }
            }
        }

        static func count(_ probe: Probe, _ clause: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
            try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND \(clause)", binds)
        }
    }
}
