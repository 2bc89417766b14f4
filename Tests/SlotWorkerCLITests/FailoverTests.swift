import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("failover")
    struct Failover {
        /// The worker's `DATABASE_URL` names a primary and its streaming replica
        /// (`host=A,B`, `target_session_attrs=read-write`). The primary stops mid-run and the replica is promoted:
        /// the worker resumes on the new primary within 10 s of the promotion, no committed job is lost, and only
        /// jobs in flight at the stop run again.
        @Test func theWorkerFollowsAPromotedReplica() async throws {
            try await PrivatePostgres.with { primary in
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", primary.url()])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let standby = try await PrivatePostgres.standby(of: primary)
                do {
                    try await Self.run(primary: primary, standby: standby)
                    await standby.remove()
                } catch {
                    print("standby log:\n\(standby.log.suffix(3000))")
                    await standby.remove()
                    throw error
                }
            }
        }

        static func run(primary: PrivatePostgres, standby: PrivatePostgres) async throws {
            let url =
                "postgresql://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/postgres"
                + "?target_session_attrs=read-write"
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
                        "SLOT_WORKER_WORKER_LEASE_SECONDS": "3",
                        "SLOT_WORKER_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
                    ]
                )
                let before = Probe(try PostgresConfiguration(primary.url()))
                try await waitFor("20 jobs done before the failover", timeout: .seconds(30)) {
                    try await succeeded(before) >= 20
                }
                let inFlight = try await before.ids("SELECT id FROM jobs WHERE state = 'running'")
                await before.close()

                // A clean stop sends every committed WAL record to the standby before the primary exits.
                try await primary.stop(mode: "fast")
                try await standby.promote()
                let promoted = ContinuousClock.now
                let after = Probe(try PostgresConfiguration(standby.url()), retries: 3)
                let doneAtPromotion = try await succeeded(after)
                #expect(doneAtPromotion < total, "the failover came after all work was done")
                try await waitFor("work resumes on the new primary", timeout: .seconds(10), every: .milliseconds(50)) {
                    try await succeeded(after) > doneAtPromotion
                }
                let resumedAfter = ContinuousClock.now - promoted
                try await waitFor("every job finished", timeout: .seconds(60), every: .milliseconds(100)) {
                    try await after.unfinished(kind: "sleep") == 0
                }
                let output = try await worker.terminate()
                #expect(output.status == 0, "stderr: \(output.stderr.suffix(3000))")
                print("failover: work resumed \(resumedAfter) after the promotion; \(inFlight.count) in flight")

                #expect(try await after.int("SELECT count(*) FROM jobs WHERE kind = 'sleep'") == total)
                #expect(try await succeeded(after) == total)
                let twice = try await after.ids("SELECT id FROM jobs WHERE kind = 'sleep' AND attempts > 1")
                #expect(
                    Set(twice).isSubset(of: inFlight), "ran again: \(twice), in flight at the stop: \(inFlight)")
                await after.close()
            }
        }

        static func succeeded(_ probe: Probe) async throws -> Int {
            try await probe.int("SELECT count(*) FROM jobs WHERE kind = 'sleep' AND state = 'succeeded'")
        }
    }
}
