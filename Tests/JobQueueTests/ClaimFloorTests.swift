import Foundation
import Persistence
import PostgresClient
import Synchronization
import Testing

@testable import JobQueue

/// The claim floor's rule, without I/O.
@Suite("Claim floor")
struct ClaimFloorTests {
    static func job(priority: Int, runAt: Double) -> ClaimedJob {
        ClaimedJob(id: 1, kind: "noop", priority: priority, runAt: Date(timeIntervalSince1970: runAt))
    }

    @Test("the floor is the smallest claimed (priority, run_at) less the margin; an empty claim keeps the old one")
    func floorAfterClaim() {
        let floor = ClaimFloor.after(
            claiming: [
                Self.job(priority: 1, runAt: 50), Self.job(priority: 0, runAt: 100), Self.job(priority: 0, runAt: 90),
            ],
            kinds: ["b", "a"])
        #expect(floor == ClaimFloor(priority: 0, runAt: 90 - ClaimFloor.margin, kinds: ["a", "b"]))
        #expect(floor?.applies(to: ["a", "b"]) == true)
        #expect(floor?.applies(to: ["b", "a"]) == true)
        #expect(floor?.applies(to: ["a"]) == false)  // a kind at its concurrency limit changes the set
        #expect(ClaimFloor.after(claiming: [], kinds: ["a"]) == nil)
    }

    @Test("requeued rows and more urgent enqueues undercut the floor; plain enqueues do not")
    func undercut() {
        let floor = ClaimFloor(priority: 0, runAt: 1000, kinds: ["noop"])
        #expect(floor.isUndercut(by: JobNotification(queue: "default", available: 5, requeued: true)))
        #expect(floor.isUndercut(by: JobNotification(queue: "default", available: 5, requeued: false, priority: -1)))
        #expect(!floor.isUndercut(by: JobNotification(queue: "default", available: 5, requeued: false, priority: 0)))
        #expect(!floor.isUndercut(by: JobNotification(queue: "default", available: 5, requeued: false, priority: 3)))
        #expect(!floor.isUndercut(by: JobNotification(queue: "default", available: 5)))
    }
}

extension RunnerSuite {
    /// The short functional version of `scripts/bench queue-sustained`'s held run: with a REPEATABLE READ snapshot
    /// held open (VACUUM can remove nothing, dead index entries of claimed jobs stay), the runner still finds every
    /// ready job — new ones above its floor, and ones that become ready below it (promoted scheduled jobs, retries,
    /// a job of a more urgent priority).
    @Suite("Held snapshot")
    struct HeldSnapshotTests {
        @Test("a held snapshot does not stop the claim from finding ready jobs, below its floor included")
        func heldSnapshot() async throws {
            let database = try await makeDatabase()
            let holder = try await PostgresConnection.connect(database.pool.configuration)
            try await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            _ = try await holder.query("SELECT count(*) AS n FROM periodic_runs")
            let client = JobQueueClient(database: database)
            var registry = JobRegistry()
            let failures = FailureCounter()
            registry.register(
                kind: "flaky", payload: DiagnosticJobs.NoopPayload.self,
                retry: RetryPolicy(base: .milliseconds(10), cap: .milliseconds(20), jitter: 0)
            ) { _, context in
                if context.attempt == 1 {
                    failures.add()
                    throw DiagnosticJobs.DiagnosticFailure(description: "first attempt fails")
                }
                return .success
            }
            let runner = JobRunner(
                configuration: testConfiguration(concurrency: 50, pollInterval: .seconds(30)),
                registry: registry, database: database, logger: testLogger)
            try await withServices([runner]) {
                for round in 1...4 {
                    _ = try await client.enqueue((0..<500).map { _ in NewJob(kind: "noop") }).get()
                    let done = try await eventually(timeout: .seconds(30)) {
                        try await database.count(where: "kind = 'noop' AND state = 'succeeded'") == round * 500
                    }
                    #expect(done, "round \(round)")
                }
                // Below the floor: a job due 300 ms ago is promoted late, an urgent one, a retried one.
                _ = try await client.enqueue(NewJob(kind: "noop", schedule: .after(.milliseconds(300)))).get()
                _ = try await client.enqueue(NewJob(kind: "noop", priority: -5)).get()
                _ = try await client.enqueue(NewJob(kind: "flaky")).get()
                let rest = try await eventually(timeout: .seconds(20)) {
                    try await database.count(where: "state = 'succeeded'") == 2003
                }
                #expect(rest)
            }
            #expect(failures.count == 1)
            // The snapshot was held throughout: its session still pins the xmin horizon.
            let holders = try await database.pool.query(
                """
                SELECT count(*) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND state = 'idle in transaction' AND backend_xmin IS NOT NULL
                """)
            #expect(try holders[0].decode("n", as: Int.self) == 1)
            try await holder.execute("COMMIT")
            await holder.close()
        }
    }
}

final class FailureCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
