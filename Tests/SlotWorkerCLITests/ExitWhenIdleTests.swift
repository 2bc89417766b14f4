import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("run --exit-when-idle")
    struct ExitWhenIdle {
        /// `run --exit-when-idle` works off every ready job, then exits 0 by itself; a job due in an hour is not
        /// waited for and stays scheduled.
        @Test func exitsZeroOnceTheReadyJobsAreDone() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: url,
                    stdin: jsonLines(60) {
                        $0 % 10 == 0
                            ? #"{"kind":"sleep","payload":{"milliseconds":300}}"# : #"{"kind":"noop","payload":{}}"#
                    }
                )
                #expect(enqueue.stdout == "enqueued 60 jobs\n", "stderr: \(enqueue.stderr)")
                let later = try await scope.command(["enqueue", "noop", "--run-at", "+1h"], databaseURL: url)
                let laterID = try #require(GarbageInput.enqueuedID(later.stdout), "stderr: \(later.stderr)")

                let worker = try await scope.startWorker(databaseURL: url, arguments: ["--exit-when-idle"])
                let output = try await worker.running.finish(timeout: .seconds(60))
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")

                #expect(
                    try await probe.int(
                        """
                        SELECT count(*) FROM jobs
                        WHERE kind IN ('noop', 'sleep') AND id <> $1 AND state = 'succeeded' AND attempts = 1
                        """, [laterID]) == 60)
                #expect(try await probe.strings("SELECT state FROM jobs WHERE id = $1", [laterID]) == ["scheduled"])
                #expect(try await probe.int("SELECT count(*) FROM jobs WHERE state = 'running'") == 0)
            }
            await probe.close()
        }
    }
}
