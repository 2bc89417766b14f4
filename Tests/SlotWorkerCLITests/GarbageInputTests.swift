import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("garbage in")
    struct GarbageInput {
        /// A payload that does not decode, enqueued through the CLI, is dead after one attempt with a readable
        /// `last_error`; a kind this worker does not run (a rolling deploy: enqueued by a newer version) is left
        /// available and untouched; 200 good jobs next to them succeed.
        @Test func undecodablePayloadsDieReadablyAndUnknownKindsWaitWhileOthersRun() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)
            try await WorkerScope.with { scope in
                let badPayload = try await scope.command(
                    ["enqueue", "sleep", "--payload", #"{"milliseconds":"soon"}"#], databaseURL: url)
                #expect(badPayload.status == 0, "stderr: \(badPayload.stderr)")
                let badPayloadID = try #require(Self.enqueuedID(badPayload.stdout))
                let unknown = try await scope.command(["enqueue", "no.such.kind"], databaseURL: url)
                #expect(unknown.status == 0, "stderr: \(unknown.stderr)")
                let unknownID = try #require(Self.enqueuedID(unknown.stdout))
                let good = try await scope.command(
                    ["enqueue", "--from", "-"],
                    databaseURL: url,
                    stdin: jsonLines(200) { #"{"kind":"sleep","payload":{"milliseconds":\#($0 % 5)}}"# }
                )
                #expect(good.stdout == "enqueued 200 jobs\n", "stderr: \(good.stderr)")

                let worker = try await scope.startWorker(
                    databaseURL: url, environment: ["SLOT_WORKER_WORKER_POLL_INTERVAL_MS": "200"])
                try await waitFor("every sleep job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                    try await probe.int(
                        """
                        SELECT count(*) FROM jobs
                        WHERE kind = 'sleep' AND state NOT IN ('succeeded', 'dead', 'cancelled')
                        """) == 0
                }
                #expect(worker.isRunning)
                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(2000))")
                #expect(output.stderr.contains("job payload does not decode; the job is dead"))

                let dead = try await probe.query(
                    "SELECT id, kind, attempts, last_error FROM jobs WHERE state = 'dead' ORDER BY id")
                #expect(try dead.map { try $0.decode("id", as: Int64.self) } == [badPayloadID])
                #expect(try dead.map { try $0.decode("attempts", as: Int64.self) } == [1])
                let errors = try dead.map { try $0.decode("last_error", as: String.self) }
                #expect(
                    errors.first?.hasPrefix(
                        #"payload does not decode as SleepPayload: expected Int at milliseconds; payload: "#) == true,
                    "last_error: \(errors.first ?? "")")
                #expect(errors.first?.contains(#""soon""#) == true, "last_error: \(errors.first ?? "")")
                let waiting = try await probe.query(
                    "SELECT state, attempts, locked_by, last_error FROM jobs WHERE id = $1", [unknownID])
                #expect(try waiting[0].decode("state", as: String.self) == "available")
                #expect(try waiting[0].decode("attempts", as: Int64.self) == 0)
                #expect(waiting[0].isNull("locked_by") && waiting[0].isNull("last_error"))
                #expect(
                    try await probe.int(
                        "SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded' AND attempts = 1")
                        == 200)
            }
            await probe.close()
        }

        /// Input the CLI cannot use is refused with a non-zero status and a message naming the problem, and
        /// creates no job: a `--payload` that is not JSON, and a JSON-lines batch with one bad line (the batch is
        /// one transaction, so its good lines are not enqueued either).
        @Test func malformedInputIsRefusedAndEnqueuesNothing() async throws {
            let configuration = try await TestDatabase.create()
            let url = try TestDatabase.url(database: configuration.database!)
            let probe = Probe(configuration)

            let notJSON = try await WorkerProcess.run(
                ["enqueue", "sleep", "--payload", "not json"], environment: ["DATABASE_URL": url])
            #expect(notJSON.status != 0)
            #expect(notJSON.stderr.contains("--payload is not valid JSON: not json"), "stderr: \(notJSON.stderr)")
            #expect(notJSON.stdout.isEmpty)

            let batch = [
                #"{"kind":"noop"}"#,
                #"{"kind":"sleep","payload":{"milliseconds":5}}"#,
                "",
                #"{"kind":"noop","payload":{"n":3}"#,
                #"{"kind":"noop"}"#,
            ].joined(separator: "\n")
            let badLine = try await WorkerProcess.run(
                ["enqueue", "--from", "-"], environment: ["DATABASE_URL": url], stdin: batch)
            #expect(badLine.status != 0)
            #expect(badLine.stderr.contains("invalid line 4: not a JSON object"), "stderr: \(badLine.stderr)")
            #expect(badLine.stdout.isEmpty)

            let unknownKey = try await WorkerProcess.run(
                ["enqueue", "--from", "-"],
                environment: ["DATABASE_URL": url],
                stdin: #"{"kind":"noop"}"# + "\n" + #"{"kind":"noop","paylod":{}}"# + "\n"
            )
            #expect(unknownKey.status != 0)
            #expect(
                unknownKey.stderr.contains(#"invalid line 2: unknown key "paylod""#), "stderr: \(unknownKey.stderr)")

            let badRunAt = try await WorkerProcess.run(
                ["enqueue", "noop", "--run-at", "tomorrow"], environment: ["DATABASE_URL": url])
            #expect(badRunAt.status != 0)
            #expect(badRunAt.stderr.contains(#"--run-at "tomorrow" is neither an ISO 8601 time"#))

            #expect(try await probe.int("SELECT count(*) FROM jobs") == 0)
            await probe.close()
        }

        /// The id in `enqueued job ID`.
        static func enqueuedID(_ stdout: String) -> Int64? {
            guard stdout.hasPrefix("enqueued job ") else { return nil }
            return Int64(stdout.dropFirst("enqueued job ".count).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
