import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("connections refused")
    struct ConnectionsRefused {
        /// PostgreSQL reaches `max_connections` while the worker runs (its pool connections are terminated and
        /// another client takes every slot): the worker keeps the LISTEN connection it holds, retries with backoff,
        /// logs the refusal once (not per attempt), `/readyz` reports it, and nothing crashes; once slots free up,
        /// work resumes and every job succeeds.
        @Test func theWorkerRidesOutMaxConnections() async throws {
            // Above what the worker can hold at once (pool 10, runner 4, console 2, LISTEN 2), so the hog below
            // always gets a first connection to terminate the worker's from; it then takes every slot.
            try await PrivatePostgres.with(configuration: [
                "max_connections = 20", "superuser_reserved_connections = 0",
            ]) { server in
                let url = server.url()
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", url])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let total = 120
                let probe = Probe(try PostgresConfiguration(url), retries: 3)
                var hog: [PostgresConnection] = []
                try await WorkerScope.with { scope in
                    let enqueue = try await scope.command(
                        ["enqueue", "--from", "-"],
                        databaseURL: url,
                        stdin: jsonLines(total) { _ in #"{"kind":"sleep","payload":{"milliseconds":50}}"# }
                    )
                    #expect(enqueue.stdout == "enqueued \(total) jobs\n", "stderr: \(enqueue.stderr)")
                    let worker = try await scope.startWorker(
                        databaseURL: url,
                        arguments: ["--concurrency", "2"],
                        environment: [
                            "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                            "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                        ]
                    )
                    try await waitFor("10 jobs done", timeout: .seconds(30)) {
                        try await Self.succeeded(probe) >= 10
                    }
                    let listenPID = try #require(
                        try await probe.ids(
                            "SELECT pid FROM pg_stat_activity WHERE application_name = 'slot-worker' "
                                + "AND query LIKE 'LISTEN%'"
                        ).first)
                    await probe.close()

                    // Take every free slot, then the worker's pool connections' slots as they are terminated.
                    let configuration = try PostgresConfiguration(url, applicationName: "hog")
                    func fill() async {
                        while let connection = try? await PostgresConnection.connect(configuration) {
                            hog.append(connection)
                        }
                    }
                    await fill()
                    let admin = try #require(hog.first)
                    for _ in 0..<20 {
                        let terminated = try await admin.query(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                + "WHERE application_name = 'slot-worker' AND pid <> $1",
                            [listenPID]
                        )[0].decode(at: 0, as: Int64.self)
                        await fill()
                        if terminated == 0 { break }
                    }
                    let refused = ContinuousClock.now
                    var failing: HTTPReply?
                    try await waitFor("/readyz reports refused connections", timeout: .seconds(20)) {
                        let reply = try await worker.get("/readyz")
                        if reply.status == 503 { failing = reply }
                        return reply.status == 503 && reply.body.contains("too many clients")
                    }
                    let reply = try #require(failing)
                    #expect(reply.body.contains(#""database":{"status":"fail""#), "body: \(reply.body)")
                    // Several seconds of refused connects.
                    try await Task.sleep(until: refused + .seconds(6))
                    #expect(worker.isRunning, "the worker exited while PostgreSQL refused connections")
                    let metrics = try await worker.get("/metrics").body
                    let failures =
                        samples(of: "slotworker_db_pool_errors_total", in: metrics)
                        .first { $0.0["event"] == "connect_failed" }?.1 ?? 0
                    #expect(failures >= 3, "connect failures counted: \(failures)")
                    let log = worker.stderr
                    // Once per pool and refusal (the worker and the console have a pool each; a connect that slips
                    // in while the hog refills ends one refusal and starts another), never once per failed connect.
                    let refusals = log.components(separatedBy: "cannot open a database connection").count - 1
                    #expect(refusals >= 1 && refusals <= 4, "refusals logged: \(refusals)")
                    #expect(
                        !log.contains("still cannot open database connections"), "logged more than once per interval")

                    // Free the slots: work resumes, the LISTEN connection held throughout is still the same.
                    for connection in hog { await connection.close() }
                    hog = []
                    let after = Probe(try PostgresConfiguration(url), retries: 3)
                    try await waitFor("every job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                        try await after.unfinished(kind: "sleep") == 0
                    }
                    try await waitFor("/readyz is 200 again", timeout: .seconds(20)) {
                        try await worker.get("/readyz").status == 200
                    }
                    #expect(
                        try await after.int("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [listenPID]) == 1,
                        "the LISTEN connection was not kept")
                    #expect(worker.stderr.contains("database connections open again"))
                    let output = try await worker.terminate()
                    #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                    #expect(try await Self.succeeded(after) == total)
                    await after.close()
                }
                for connection in hog { await connection.close() }
            }
        }

        static func succeeded(_ probe: Probe) async throws -> Int {
            try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded'")
        }
    }
}
