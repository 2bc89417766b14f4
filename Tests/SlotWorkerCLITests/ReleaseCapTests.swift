import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("release cap")
    struct ReleaseCap {
        /// A job longer than the shutdown timeout, in a worker restarted again and again: the first two stops
        /// release it with its attempt given back (`SLOT_WORKER_WORKER_MAX_RELEASES=2`), later ones spend its
        /// attempts, and after its two attempts it is `dead` with an error saying why, instead of looping.
        @Test func aJobReleasedAgainAndAgainEndsDead() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: url,
                    stdin: #"{"kind":"sleep","payload":{"milliseconds":600000},"max_attempts":2}"# + "\n"
                )
                #expect(enqueue.stdout == "enqueued 1 jobs\n", "stderr: \(enqueue.stderr)")
                var restarts = 0
                while try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'dead'") == 0 {
                    restarts += 1
                    try #require(restarts <= 8, "still not dead after \(restarts - 1) restarts")
                    let worker = try await scope.startWorker(
                        databaseURL: url,
                        arguments: ["--concurrency", "2"],
                        environment: [
                            "SLOT_WORKER_WORKER_SHUTDOWN_TIMEOUT_SECONDS": "0",
                            "SLOT_WORKER_WORKER_MAX_RELEASES": "2",
                            "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "100",
                        ]
                    )
                    try await waitFor("the job runs", timeout: .seconds(30), every: .milliseconds(20)) {
                        try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'running'")
                            == 1
                    }
                    let output = try await worker.terminate()
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                }
                #expect(restarts == 4, "2 releases + 2 attempts, got \(restarts) runs")
                let row = try #require(
                    try await probe.query(
                        "SELECT attempts, releases, last_error FROM jobs WHERE kind = 'sleep'"
                    ).first)
                #expect(try row.decode("attempts", as: Int64.self) == 2)
                #expect(try row.decode("releases", as: Int64.self) == 2)
                let error = try row.decode("last_error", as: String.self)
                #expect(error.contains("interrupted at shutdown"), "last_error: \(error)")
                #expect(error.contains("none left"), "last_error: \(error)")
            }
            await probe.close()
        }
    }
}
