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

    @Test("the floor is the smallest claimed (priority, run_at) less the rounding margin; an empty claim keeps it")
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

    @Test("an enqueue committed late undercuts the floor by its earliest run_at at the floor's priority")
    func undercutByRunAt() {
        let floor = ClaimFloor(priority: 0, runAt: 1000, kinds: ["noop"])
        #expect(floor.isUndercut(by: JobNotification(available: 5, priority: 0, runAt: 999.5)))
        #expect(!floor.isUndercut(by: JobNotification(available: 5, priority: 0, runAt: 1000)))
        #expect(!floor.isUndercut(by: JobNotification(available: 5, priority: 0, runAt: 1001)))
        #expect(!floor.isUndercut(by: JobNotification(available: 5, priority: 1, runAt: 10)))  // less urgent
        #expect(floor.isUndercut(by: JobNotification(available: 5, runAt: 999)))  // no priority: run_at decides
        #expect(floor.isUndercut(by: JobNotification(available: 5, priority: -1, runAt: 2000)))
    }

    @Test("the tracker: a floor after each claim, dropped by notifications, also ones heard during the claim")
    func tracker() {
        var tracker = ClaimFloorTracker()
        let t0 = ContinuousClock.now
        // The first claim scans from the front; its jobs set the floor.
        #expect(tracker.claimSent(kinds: ["noop"], at: t0, fullClaim: false) == nil)
        tracker.claimReturned([Self.job(priority: 0, runAt: 100)], kinds: ["noop"], at: t0 + .milliseconds(2))
        let floor = ClaimFloor(priority: 0, runAt: 100 - ClaimFloor.margin, kinds: ["noop"])
        #expect(tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(1), fullClaim: false) == floor)
        // An enqueue that committed during that claim with rows below the floor it sets: the floor is dropped.
        tracker.notified(JobNotification(available: 1, priority: 0, runAt: 99))
        tracker.claimReturned([Self.job(priority: 0, runAt: 120)], kinds: ["noop"], at: t0 + .seconds(1))
        #expect(tracker.floor == nil)
        #expect(tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(2), fullClaim: false) == nil)
        tracker.claimReturned([Self.job(priority: 0, runAt: 130)], kinds: ["noop"], at: t0 + .seconds(2))
        // A plain enqueue above the floor keeps it; a notification heard while no claim is out is checked at once.
        tracker.notified(JobNotification(available: 1, priority: 0, runAt: 140))
        #expect(tracker.floor?.runAt == 130 - ClaimFloor.margin)
        tracker.notified(JobNotification(available: 1, requeued: true))
        #expect(tracker.floor == nil)
        // drop() during a claim also drops the floor that claim sets; a failed claim drops it too.
        _ = tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(3), fullClaim: false)
        tracker.drop()
        tracker.claimReturned([Self.job(priority: 0, runAt: 150)], kinds: ["noop"], at: t0 + .seconds(3))
        #expect(tracker.floor == nil)
        _ = tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(3), fullClaim: false)
        tracker.claimReturned([Self.job(priority: 0, runAt: 160)], kinds: ["noop"], at: t0 + .seconds(3))
        #expect(tracker.floor != nil)
        _ = tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(3), fullClaim: false)
        tracker.claimFailed()
        #expect(tracker.floor == nil)
        // Another set of kinds, or a forced full claim (a poll without LISTEN), scans from the front.
        _ = tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(4), fullClaim: false)
        tracker.claimReturned([Self.job(priority: 0, runAt: 170)], kinds: ["noop"], at: t0 + .seconds(4))
        #expect(tracker.claimSent(kinds: ["noop", "sleep"], at: t0 + .seconds(4), fullClaim: false) == nil)
        tracker.claimReturned([Self.job(priority: 0, runAt: 170)], kinds: ["noop"], at: t0 + .seconds(4))
        #expect(tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(4), fullClaim: true) == nil)
    }

    @Test("claims from the front come every 5 s, spaced out when they are slow (a held snapshot's dead entries)")
    func fullClaimInterval() {
        #expect(ClaimFloorTracker.fullClaimInterval(after: .milliseconds(1)) == .seconds(5))
        #expect(ClaimFloorTracker.fullClaimInterval(after: .milliseconds(400)) == .seconds(20))
        #expect(ClaimFloorTracker.fullClaimInterval(after: .seconds(30)) == .seconds(300))
        var tracker = ClaimFloorTracker()
        let t0 = ContinuousClock.now
        _ = tracker.claimSent(kinds: ["noop"], at: t0, fullClaim: false)
        // A full claim that took 400 ms: claims keep their floor for 20 s.
        tracker.claimReturned([Self.job(priority: 0, runAt: 100)], kinds: ["noop"], at: t0 + .milliseconds(400))
        #expect(tracker.lastFullClaimDuration == .milliseconds(400))
        #expect(tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(19), fullClaim: false) != nil)
        tracker.claimReturned([Self.job(priority: 0, runAt: 110)], kinds: ["noop"], at: t0 + .seconds(19))
        #expect(tracker.lastFullClaimDuration == .milliseconds(400))  // claims at a floor do not count
        #expect(tracker.claimSent(kinds: ["noop"], at: t0 + .seconds(20), fullClaim: false) == nil)
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
            // An enqueue transaction opened before the claims: its job's run_at (the transaction's start) sorts
            // below every floor they set, and plain SQL sends no notification: the claim from the front finds it.
            let late = try await PostgresConnection.connect(database.pool.configuration)
            try await late.execute("BEGIN")
            try await late.execute("INSERT INTO jobs (kind) VALUES ('noop')")
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
                try await late.execute("COMMIT")
                let rest = try await eventually(timeout: .seconds(30)) {
                    try await database.count(where: "state = 'succeeded'") == 2004
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
            await late.close()
        }
    }
}

final class FailureCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// The sampler's pacing rule, without I/O.
@Suite("Queue stats sampler pacing")
struct QueueStatsSamplerPacingTests {
    @Test("a slow sample (a held snapshot's dead entries) spaces out the next one; a fast one keeps the interval")
    func pause() {
        #expect(QueueStatsSampler.pause(after: .milliseconds(20), interval: .seconds(5)) == .seconds(5))
        #expect(QueueStatsSampler.pause(after: .milliseconds(800), interval: .seconds(5)) == .seconds(16))
        #expect(QueueStatsSampler.pause(after: .seconds(120), interval: .seconds(5)) == .seconds(600))
        #expect(QueueStatsSampler.pause(after: .zero, interval: .seconds(30)) == .seconds(30))
    }
}
