import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("jobs commands and the HTTP port")
    struct JobsCommands {
        /// `jobs status --json` (counts keyed by every state name, counts by kind, oldest ready age), `jobs retry`
        /// of a dead job and `jobs cancel` of a scheduled one, with their refusals; meanwhile junk sent to the
        /// worker's HTTP port leaves it serving `/livez`.
        @Test func statusRetryCancelAndGarbageHTTP() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            let (deadID, scheduledID) = try await WorkerScope.with { scope in
                let failing = try await scope.command(
                    ["enqueue", "fail", "--payload", #"{"message":"boom","permanent":true}"#], databaseURL: url)
                let deadID = try #require(GarbageInput.enqueuedID(failing.stdout), "stderr: \(failing.stderr)")
                let later = try await scope.command(["enqueue", "noop", "--run-at", "+1h"], databaseURL: url)
                let scheduledID = try #require(GarbageInput.enqueuedID(later.stdout), "stderr: \(later.stderr)")

                let worker = try await scope.startWorker(
                    databaseURL: url, environment: ["SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200"])
                try await waitFor("the fail job is dead", timeout: .seconds(30)) {
                    try await probe.int("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'dead'", [deadID]) == 1
                }

                // Junk on the HTTP port: binary noise, a bogus request line, a huge header, a request cut short.
                let junk: [[UInt8]] = [
                    [0x00, 0xFF, 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
                        + Array(repeating: 0xAB, count: 512),
                    Array("BREW /coffee HTCPCP/1.0\r\n\r\n".utf8),
                    Array(
                        ("GET /livez HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 200_000)
                            + "\r\n\r\n").utf8),
                    Array("GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort".utf8),
                    Array("\r\n\r\n\r\n".utf8),
                ]
                for bytes in junk {
                    _ = try? await HTTPProbe.exchange(port: worker.port, bytes: bytes, timeoutSeconds: 2)
                    let live = try await worker.get("/livez")
                    #expect(live.status == 200)
                    #expect(live.body == "ok\n")
                }
                #expect(worker.isRunning)
                #expect(try await worker.get("/nope").status == 404)
                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")
                return (deadID, scheduledID)
            }

            // The worker also ran its periodic jobs: count what it left besides the two jobs of this test. A period
            // that began while it stopped leaves that period's jobs ready (enqueued, not claimed any more).
            let periodic = "(kind LIKE 'slots.%' OR kind = 'reminders.plan')"
            let periodicSucceeded = try await probe.int(
                "SELECT count(*) FROM jobs WHERE \(periodic) AND state = 'succeeded'")
            let periodicReady = try await probe.int(
                "SELECT count(*) FROM jobs WHERE \(periodic) AND state = 'available'")
            #expect(periodicSucceeded >= 3)
            #expect(
                try await probe.int("SELECT count(*) FROM jobs WHERE \(periodic)") == periodicSucceeded + periodicReady)

            var status = try await Self.status(url)
            #expect(
                status.byState == [
                    "scheduled": 1, "available": periodicReady, "running": 0, "succeeded": periodicSucceeded, "dead": 1,
                    "cancelled": 0,
                ])
            #expect(status.byKind["fail"] == ["dead": 1])
            #expect(status.byKind["noop"] == ["scheduled": 1])
            // Nothing ready, nothing waits; periodic jobs left ready were enqueued seconds ago.
            #expect(periodicReady == 0 ? status.oldestReadyAgeSeconds == 0 : status.oldestReadyAgeSeconds < 60)

            let retry = try await WorkerProcess.run(["jobs", "retry", "\(deadID)", "--database-url", url])
            #expect(retry.status == 0, "stderr: \(retry.stderr)")
            #expect(retry.stdout == "job \(deadID) is available again (kind fail)\n")
            let retried = try #require(
                try await probe.query("SELECT state, attempts, max_attempts FROM jobs WHERE id = $1", [deadID]).first)
            #expect(try retried.decode("state", as: String.self) == "available")
            // Attempts are the fencing token and never go back: the retried job gets its kind's limit on top.
            let spent = try retried.decode("attempts", as: Int64.self)
            #expect(spent >= 1)
            #expect(try retried.decode("max_attempts", as: Int64.self) == spent + 20)
            let retryAgain = try await WorkerProcess.run(["jobs", "retry", "\(deadID)", "--database-url", url])
            #expect(retryAgain.status != 0, "an available job cannot be retried")
            #expect(retryAgain.stderr.contains("state"), "stderr: \(retryAgain.stderr)")

            let cancel = try await WorkerProcess.run(["jobs", "cancel", "\(scheduledID)", "--database-url", url])
            #expect(cancel.status == 0, "stderr: \(cancel.stderr)")
            #expect(cancel.stdout == "job \(scheduledID) cancelled (was scheduled)\n")
            #expect(
                try await probe.strings("SELECT state FROM jobs WHERE id = $1", [scheduledID]) == ["cancelled"])
            let cancelAgain = try await WorkerProcess.run(["jobs", "cancel", "\(scheduledID)", "--database-url", url])
            #expect(cancelAgain.status != 0, "a finished job cannot be cancelled")
            let missing = try await WorkerProcess.run(["jobs", "retry", "987654321", "--database-url", url])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("987654321"), "stderr: \(missing.stderr)")

            // A job due long ago is the oldest ready one.
            let old = try await WorkerProcess.run(
                ["enqueue", "noop", "--run-at", "2020-01-01T00:00:00Z", "--database-url", url])
            #expect(old.status == 0, "stderr: \(old.stderr)")
            status = try await Self.status(url)
            #expect(status.byState["available"] == 2 + periodicReady)
            #expect(status.byState["cancelled"] == 1)
            #expect(status.byState["dead"] == 0)
            #expect(status.byKind["noop"] == ["available": 1, "cancelled": 1])
            let expectedAge = Date().timeIntervalSince1970 - 1_577_836_800
            #expect(abs(status.oldestReadyAgeSeconds - expectedAge) < 60, "age: \(status.oldestReadyAgeSeconds)")
            await probe.close()
        }

        /// The JSON of `jobs status --json`, with its shape checked: exactly these four keys.
        struct Status: Decodable {
            var byState: [String: Int]
            var byKind: [String: [String: Int]]
            var oldestReadyAgeSeconds: Double
            var unrunnable: [String: [String: Int]]
        }

        static func status(_ url: String) async throws -> Status {
            let output = try await WorkerProcess.run(["jobs", "status", "--json", "--database-url", url])
            #expect(output.status == 0, "stderr: \(output.stderr)")
            let data = Data(output.stdout.utf8)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(
                Set(object.keys) == ["byState", "byKind", "oldestReadyAgeSeconds", "unrunnable"],
                "stdout: \(output.stdout)")
            return try JSONDecoder().decode(Status.self, from: data)
        }
    }
}
