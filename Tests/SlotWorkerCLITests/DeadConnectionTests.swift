import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("dead connections")
    struct DeadConnections {
        /// The worker reaches PostgreSQL through a proxy that goes silent mid-run without closing anything (a dead
        /// network; its kernel still acknowledges, so only the client deadline can notice). With a 1 s statement
        /// timeout and a 1 s TCP user timeout, `/readyz` reports the database failing within about twice that,
        /// the process stays up, and once the proxy forwards again fresh connections replace the dead ones and
        /// every job succeeds, each in one attempt (a claim whose answer was lost is given back at once).
        @Test func aSilentNetworkIsDetectedAndItsConnectionsReplaced() async throws {
            let configuration = try await TestDatabase.create()
            let direct = try TestDatabase.url(database: configuration.database!)
            let proxy = try StallProxy(targetPort: Int(configuration.port)!)
            let probe = Probe(configuration)
            let total = 60
            try await WorkerScope.with { scope in
                let enqueue = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: direct,
                    stdin: jsonLines(total) { _ in #"{"kind":"sleep","payload":{"milliseconds":100}}"# }
                )
                #expect(enqueue.stdout == "enqueued \(total) jobs\n", "stderr: \(enqueue.stderr)")
                let worker = try await scope.startWorker(
                    databaseURL: proxy.url(for: direct),
                    arguments: ["--concurrency", "2"],
                    environment: [
                        "SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200",
                        "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                        "SLOT_WORKER_DATABASE_STATEMENT_TIMEOUT_MS": "1000",
                        "SLOT_WORKER_DATABASE_TCP_USER_TIMEOUT_MS": "1000",
                        "SLOT_WORKER_DATABASE_KEEPALIVES_IDLE_SECONDS": "1",
                    ]
                )
                try await waitFor("10 jobs done before the stall", timeout: .seconds(30)) {
                    try await Self.succeeded(probe) >= 10
                }
                #expect(try await worker.get("/readyz").status == 200)

                try proxy.stall()
                let stalled = ContinuousClock.now
                var failing: HTTPReply?
                do {
                    try await waitFor("/readyz reports the database failing", timeout: .seconds(30)) {
                        let reply = try await worker.get("/readyz")
                        if reply.status == 503 { failing = reply }
                        return reply.status == 503 && reply.body.contains(#""database":{"status":"fail""#)
                    }
                } catch {
                    Issue.record(
                        "\(error); last 503: \(failing?.body ?? "none"); stderr:\n\(worker.stderr.suffix(4000))")
                    throw error
                }
                let detected = ContinuousClock.now - stalled
                let reply = try #require(failing)
                #expect(reply.body.contains("no answer from"), "body: \(reply.body)")
                // Configured: 2 s (1 s statement timeout + 1 s TCP user timeout); twice that, plus a poll and slack
                // for a loaded machine.
                #expect(detected < .seconds(7), "the silent network was noticed only after \(detected)")
                #expect(worker.isRunning)
                let doneAtResume = try await Self.succeeded(probe)
                #expect(doneAtResume < total, "the stall hit after all work was done")

                try proxy.resume()
                let resumed = ContinuousClock.now
                try await waitFor("every job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                    try await probe.unfinished(kind: "sleep") == 0
                }
                try await waitFor("/readyz is 200 again", timeout: .seconds(10)) {
                    try await worker.get("/readyz").status == 200
                }
                let recovered = ContinuousClock.now - resumed
                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                print(
                    "dead connection: /readyz failed \(detected) after the network went silent; ready again \(recovered) after it came back"
                )
                #expect(try await Self.succeeded(probe) == total)
                // Nothing ran twice: a claim whose answer was lost with the dead connection was given back with its
                // attempt (not left to lapse), and completions whose answer was lost had landed.
                #expect(try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND attempts <> 1") == 0)
                #expect(recovered < .seconds(20), "work finished only \(recovered) after the network came back")
            }
            await probe.close()
        }

        static func succeeded(_ probe: Probe) async throws -> Int {
            try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded'")
        }
    }
}
