import Foundation
import JobQueue
import Persistence
import Synchronization
import Testing

extension RunnerSuite {
    @Suite("Poison input")
    struct PoisonInputTests {
        struct Poison: Codable, Sendable {
            var kind: String
        }

        struct PoisonError: Error, CustomStringConvertible {
            var description: String
        }

        /// Error texts a handler or a remote API could produce: a NUL byte in the middle, bytes that are not UTF-8
        /// (decoded the way a response body is), and 10 MB.
        static func text(_ kind: String) -> String {
            switch kind {
            case "nul": "remote said: bad\u{0}request\u{0}"
            case "utf8":
                "remote said: " + String(decoding: [0x66, 0xff, 0xfe, 0xc3, 0x28, 0x6f] as [UInt8], as: UTF8.self)
            default: "remote said: " + String(repeating: "é0123456789", count: 1_000_000)
            }
        }

        /// Three failing handlers' errors (NUL, invalid UTF-8, 10 MB) finish in the same completion batches as 40
        /// successful jobs: every row is written, the errors stored sanitised and cut to size.
        @Test func errorTextIsStoredSanitisedAndTruncated() async throws {
            let database = try await makeDatabase()
            let client = JobQueueClient(database: database)
            var registry = JobRegistry()
            registry.register(kind: "poison", payload: Poison.self, maxAttempts: 1) { payload, _ in
                throw PoisonError(description: Self.text(payload.kind))
            }
            var ids: [String: Int64] = [:]
            for kind in ["nul", "utf8", "huge"] {
                ids[kind] = try await client.enqueue(NewJob(kind: "poison", json: #"{"kind":"\#(kind)"}"#)).get().id
            }
            _ = try await client.enqueue((0..<40).map { _ in NewJob(kind: "noop") }).get()
            var configuration = testConfiguration(concurrency: 64)
            configuration.completionFlushInterval = .milliseconds(300)
            let runner = JobRunner(
                configuration: configuration, registry: registry, database: database, logger: testLogger)
            try await withServices([runner]) {
                let reached = try await eventually {
                    try await database.count(where: "state IN ('succeeded', 'dead')") == 43
                }
                #expect(reached)
            }
            #expect(try await database.count(where: "kind = 'noop' AND state = 'succeeded'") == 40)

            let nul = try await database.job(ids["nul"]!)
            #expect(nul.state == .dead)
            #expect(nul.lastError?.contains("bad\u{FFFD}request\u{FFFD}") == true, "\(nul.lastError ?? "nil")")
            let utf8 = try await database.job(ids["utf8"]!)
            #expect(utf8.state == .dead)
            #expect(utf8.lastError?.contains("f\u{FFFD}\u{FFFD}\u{FFFD}(o") == true, "\(utf8.lastError ?? "nil")")
            let huge = try await database.job(ids["huge"]!)
            #expect(huge.state == .dead)
            let stored = try #require(huge.lastError)
            #expect(stored.utf8.count < 9000, "stored \(stored.utf8.count) bytes")
            #expect(stored.hasPrefix("remote said: é0123456789é"))
            #expect(stored.hasSuffix("…") || stored.contains(" of 120000"), "\(stored.suffix(120))")
        }

        /// One row of a completion batch is refused by the database (a trigger standing in for any row-level
        /// failure): the batch is split, the other 30 rows land, and the refused row is stored with a readable error
        /// saying what happened instead of its own text.
        @Test func aBatchFailingForOneRowIsSplit() async throws {
            let database = try await makeDatabase()
            _ = try await database.rows(
                """
                CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.last_error LIKE '%REFUSE-ME%' THEN
                        RAISE EXCEPTION 'this row is refused by a test trigger';
                    END IF;
                    RETURN NEW;
                END $$
                """)
            _ = try await database.rows(
                "CREATE TRIGGER refuse_marked BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_marked()")
            let client = JobQueueClient(database: database)
            let bad = try await client.enqueue(
                NewJob(kind: "fail", json: #"{"message":"REFUSE-ME","permanent":true}"#)
            ).get()
            _ = try await client.enqueue((0..<30).map { _ in NewJob(kind: "noop") }).get()
            var configuration = testConfiguration(concurrency: 64)
            configuration.completionFlushInterval = .milliseconds(300)
            let runner = JobRunner(
                configuration: configuration, registry: JobRegistry(), database: database, logger: testLogger)
            try await withServices([runner]) {
                let reached = try await eventually {
                    try await database.count(where: "state IN ('succeeded', 'dead')") == 31
                }
                #expect(reached)
            }
            #expect(try await database.count(where: "kind = 'noop' AND state = 'succeeded'") == 30)
            let job = try await database.job(bad.id)
            #expect(job.state == .dead)
            #expect(job.lastError?.contains("could not be stored as reported") == true, "\(job.lastError ?? "nil")")
            #expect(job.lastError?.contains("this row is refused by a test trigger") == true)
        }

        /// A handler that ignores cancellation cannot hold shutdown: at the shutdown timeout (0.5 s) it is
        /// cancelled, given one more second, then abandoned; the runner stops and its job is released with a
        /// readable error.
        @Test func aHandlerIgnoringCancellationCannotHoldShutdown() async throws {
            let database = try await makeDatabase()
            var registry = JobRegistry()
            registry.register(kind: "stubborn", payload: DiagnosticJobs.NoopPayload.self) { _, _ in
                // A wait that cancellation does not end (a blocking library call, a continuation never told).
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 30) { continuation.resume() }
                }
                return .success
            }
            let job = try await JobQueueClient(database: database).enqueue(NewJob(kind: "stubborn")).get()
            let runner = JobRunner(
                configuration: testConfiguration(shutdownTimeout: .milliseconds(500)),
                registry: registry,
                database: database,
                logger: testLogger
            )
            let clock = ContinuousClock()
            var shutdownStarted = clock.now
            try await withServices([runner]) {
                let reached = try await eventually { try await database.count(where: "state = 'running'") == 1 }
                #expect(reached)
                shutdownStarted = clock.now
            }
            let stopped = clock.now - shutdownStarted
            #expect(stopped >= .milliseconds(1400), "stopped \(stopped) after shutdown began")
            #expect(stopped < .seconds(10), "the stubborn handler held shutdown for \(stopped)")
            let row = try await database.job(job.id)
            #expect(row.state == .available)
            #expect(row.lastError?.contains("ignored cancellation") == true, "\(row.lastError ?? "nil")")
        }
    }
}
