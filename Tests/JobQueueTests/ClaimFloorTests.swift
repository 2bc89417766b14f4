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

    static let noop = ["noop"]
    static func key(_ priority: Int, _ runAt: Double) -> ClaimFloor.Key {
        ClaimFloor.Key(priority: priority, runAt: runAt)
    }

    @Test("where a notification's rows start against the floor: above it, below it at a key, or unknown (requeued)")
    func bound() {
        let floor = ClaimFloor(priority: 0, runAt: 1000, kinds: Self.noop)
        let table: [(JobNotification, ClaimFloor.Bound)] = [
            (JobNotification(queue: "default", available: 5, requeued: true), .unknown),
            (
                JobNotification(available: 5, requeued: false, priority: -1),
                .below(Self.key(-1, ClaimFloor.unbounded.runAt))
            ),
            (JobNotification(available: 5, requeued: false, priority: 0), .above),
            (JobNotification(available: 5, requeued: false, priority: 3), .above),
            (JobNotification(available: 5), .above),
            // An enqueue committed late: its earliest run_at at the floor's priority.
            (JobNotification(available: 5, priority: 0, runAt: 999.5), .below(Self.key(0, 999.5))),
            (JobNotification(available: 5, priority: 0, runAt: 1000), .above),
            (JobNotification(available: 5, priority: 0, runAt: 1001), .above),
            (JobNotification(available: 5, priority: 1, runAt: 10), .above),  // less urgent
            (JobNotification(available: 5, runAt: 999), .below(Self.key(0, 999))),  // no priority: the floor's
            (JobNotification(available: 5, priority: -1, runAt: 2000), .below(Self.key(-1, 2000))),
        ]
        for (notification, expected) in table {
            #expect(floor.bound(of: notification) == expected, "\(notification)")
        }
    }

    @Test("lowering the floor: to a key below it less the margin; a key at or above it changes nothing")
    func lowered() {
        let floor = ClaimFloor(priority: 0, runAt: 1000, kinds: Self.noop)
        #expect(
            floor.lowered(to: Self.key(0, 990))
                == ClaimFloor(priority: 0, runAt: 990 - ClaimFloor.margin, kinds: Self.noop))
        #expect(
            floor.lowered(to: Self.key(-2, 5000))
                == ClaimFloor(priority: -2, runAt: 5000 - ClaimFloor.margin, kinds: Self.noop))
        #expect(floor.lowered(to: Self.key(0, 1000)) == floor)
        #expect(floor.lowered(to: Self.key(1, 10)) == floor)
    }

    @Test(
        "the tracker: a floor after each claim, lowered by notifications (also ones heard during the claim), never dropped"
    )
    func tracker() {
        var tracker = ClaimFloorTracker()
        let t0 = ContinuousClock.now
        // The first claim scans from the front; its jobs set the floor.
        let firstFloor = tracker.claimSent(kinds: Self.noop, at: t0)
        #expect(firstFloor == nil)
        tracker.claimReturned([Self.job(priority: 0, runAt: 100)], kinds: Self.noop, at: t0 + .milliseconds(2))
        let floor = ClaimFloor(priority: 0, runAt: 100 - ClaimFloor.margin, kinds: Self.noop)
        let secondFloor = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(1))
        #expect(secondFloor == floor)
        // An enqueue that committed during that claim with rows below the floor it sets: that floor is lowered.
        tracker.notified(JobNotification(available: 1, priority: 0, runAt: 99))
        tracker.claimReturned([Self.job(priority: 0, runAt: 120)], kinds: Self.noop, at: t0 + .seconds(1))
        #expect(tracker.floor?.runAt == 99 - ClaimFloor.margin)
        #expect(!tracker.probeRequested)
        _ = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(2))
        tracker.claimReturned([Self.job(priority: 0, runAt: 130)], kinds: Self.noop, at: t0 + .seconds(2))
        // A plain enqueue above the floor keeps it; one below, heard while no claim is out, lowers it at once.
        tracker.notified(JobNotification(available: 1, priority: 0, runAt: 140))
        #expect(tracker.floor?.runAt == 130 - ClaimFloor.margin)
        tracker.notified(JobNotification(available: 1, priority: 0, runAt: 125))
        #expect(tracker.floor?.runAt == 125 - ClaimFloor.margin)
        // Requeued rows (a key nobody knows): the floor stays and a probe is requested.
        tracker.notified(JobNotification(available: 1, requeued: true))
        #expect(tracker.floor?.runAt == 125 - ClaimFloor.margin)
        #expect(tracker.probeRequested)
        // A failed claim keeps the floor and requests a probe.
        _ = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(3))
        tracker.claimFailed()
        #expect(tracker.floor?.runAt == 125 - ClaimFloor.margin)
        #expect(tracker.probeRequested)
        // Another set of kinds scans from the front (and that claim counts as a probe).
        let otherKindsFloor = tracker.claimSent(kinds: ["noop", "sleep"], at: t0 + .seconds(4))
        #expect(otherKindsFloor == nil)
        #expect(!tracker.probeRequested)
        tracker.claimReturned([Self.job(priority: 0, runAt: 170)], kinds: ["sleep", "noop"], at: t0 + .seconds(4))
        #expect(tracker.floor == ClaimFloor(priority: 0, runAt: 170 - ClaimFloor.margin, kinds: ["noop", "sleep"]))
        let backFloor = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(5))
        #expect(backFloor == nil)
    }

    @Test(
        "probes: due 5 s after the last (spaced out when slow), at once when requested, one at a time; a result lowers the floor"
    )
    func probes() {
        var tracker = ClaimFloorTracker()
        let t0 = ContinuousClock.now
        // No floor: no probe (the claim from the front finds everything).
        tracker.requestProbe()
        #expect(tracker.nextProbe() == nil)
        _ = tracker.claimSent(kinds: Self.noop, at: t0)
        tracker.claimReturned([Self.job(priority: 0, runAt: 100)], kinds: Self.noop, at: t0 + .milliseconds(1))
        #expect(tracker.nextProbe() == t0 + .seconds(5))
        let earlyProbe = tracker.probeSent(at: t0 + .seconds(4))
        #expect(earlyProbe == nil)
        // A probe that found nothing below the floor leaves it; it was slow: the next comes 50 times later.
        let dueProbe = tracker.probeSent(at: t0 + .seconds(5))
        #expect(dueProbe == tracker.floor)
        #expect(tracker.nextProbe() == nil)  // one in flight
        let loweredByNothing = tracker.probeReturned(nil, at: t0 + .seconds(6))
        #expect(!loweredByNothing)
        #expect(tracker.lastProbeDuration == .seconds(1))
        #expect(tracker.nextProbe() == t0 + .seconds(55))
        // A request: due at once; claims keep their floor meanwhile.
        tracker.notified(JobNotification(available: 3, requeued: true))
        #expect(tracker.nextProbe()! <= t0 + .seconds(7))
        let probed = tracker.probeSent(at: t0 + .seconds(7))
        #expect(probed?.runAt == 100 - ClaimFloor.margin)
        let claimFloor = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(7))
        #expect(claimFloor == probed)
        // Requested again during the probe: another runs right after it.
        tracker.requestProbe()
        // The probe's result arrives while a claim is in flight: the floor now and the one that claim sets go down.
        let loweredByProbe = tracker.probeReturned(Self.key(0, 50), at: t0 + .seconds(8))
        #expect(loweredByProbe)
        #expect(tracker.floor?.runAt == 50 - ClaimFloor.margin)
        tracker.claimReturned([Self.job(priority: 0, runAt: 110)], kinds: Self.noop, at: t0 + .seconds(8))
        #expect(tracker.floor?.runAt == 50 - ClaimFloor.margin)
        // The request made during the claim is made again (the probe before looked below the old floor only).
        #expect(tracker.probeRequested)
        let repeatedProbe = tracker.probeSent(at: t0 + .seconds(8))
        #expect(repeatedProbe != nil)
        // A failed probe is requested again.
        tracker.probeFailed(at: t0 + .seconds(9))
        #expect(tracker.probeRequested)
        // A result for another set of kinds than the floor's now changes nothing.
        _ = tracker.probeSent(at: t0 + .seconds(10))
        _ = tracker.claimSent(kinds: ["noop", "sleep"], at: t0 + .seconds(10))
        tracker.claimReturned([Self.job(priority: 0, runAt: 200)], kinds: ["noop", "sleep"], at: t0 + .seconds(11))
        let loweredForOtherKinds = tracker.probeReturned(Self.key(0, 20), at: t0 + .seconds(11))
        #expect(!loweredForOtherKinds)
        #expect(tracker.floor?.runAt == 200 - ClaimFloor.margin)
    }

    @Test("unrequested probes come every 5 s, spaced out to 50 times their duration, at most every 300 s")
    func probeInterval() {
        #expect(ClaimFloorTracker.probeInterval(after: .milliseconds(1)) == .seconds(5))
        #expect(ClaimFloorTracker.probeInterval(after: .milliseconds(400)) == .seconds(20))
        #expect(ClaimFloorTracker.probeInterval(after: .seconds(30)) == .seconds(300))
        var tracker = ClaimFloorTracker()
        let t0 = ContinuousClock.now
        _ = tracker.claimSent(kinds: Self.noop, at: t0)
        // A claim from the front that took 400 ms counts as a probe of that duration.
        tracker.claimReturned([Self.job(priority: 0, runAt: 100)], kinds: Self.noop, at: t0 + .milliseconds(400))
        #expect(tracker.lastProbeDuration == .milliseconds(400))
        _ = tracker.claimSent(kinds: Self.noop, at: t0 + .seconds(19))
        tracker.claimReturned([Self.job(priority: 0, runAt: 110)], kinds: Self.noop, at: t0 + .seconds(19))
        #expect(tracker.lastProbeDuration == .milliseconds(400))  // claims at a floor do not count
        #expect(tracker.nextProbe() == t0 + .seconds(20))
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
            // below every floor they set, and plain SQL sends no notification: the probe below the floor finds it.
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

/// The probe's statement on PostgreSQL.
@Suite("Claim floor probe")
struct ClaimFloorProbeTests {
    @Test(
        "the probe reads the smallest ready key below the floor, of the floor's kinds and the queue, and nothing else")
    func statement() async throws {
        let operations = OperationNames()
        let database = Database(pool: try await makeDatabase().pool, observer: operations, logger: testLogger)
        _ = try await database.pool.query(
            """
            INSERT INTO jobs (kind, queue, state, priority, run_at) VALUES
                ('noop', 'default', 'available', 0, to_timestamp(1000)),
                ('noop', 'default', 'available', 0, to_timestamp(3000)),
                ('noop', 'other', 'available', 0, to_timestamp(500)),
                ('sleep', 'default', 'available', -1, to_timestamp(100)),
                ('noop', 'default', 'scheduled', -5, to_timestamp(100)),
                ('noop', 'default', 'available', -3, now() + interval '1 hour')
            """)
        func probe(_ priority: Int, _ runAt: Double, _ kinds: [String]) async throws -> ClaimFloor.Key? {
            try await database.withJobs {
                await $0.probeBelowFloor(
                    queue: "default", floor: ClaimFloor(priority: priority, runAt: runAt, kinds: kinds))
            }.get()
        }
        #expect(try await probe(0, 2000, ["noop"]) == ClaimFloor.Key(priority: 0, runAt: 1000))
        #expect(try await probe(0, 1000, ["noop"]) == nil)  // strictly below the floor
        #expect(try await probe(1, 0, ["noop"]) == ClaimFloor.Key(priority: 0, runAt: 1000))
        #expect(try await probe(0, 2000, ["noop", "sleep"]) == ClaimFloor.Key(priority: -1, runAt: 100))
        #expect(try await probe(0, 2000, ["fail"]) == nil)
        // It locks nothing: a claim from the front takes the row it found.
        let claimed = try await database.withJobs {
            await $0.claim(queue: "default", limit: 1, workerID: "w", lease: .seconds(30), kinds: ["noop"])
        }.get()
        #expect(claimed.map(\.runAt.timeIntervalSince1970) == [1000])
        // Reported under an operation the repository declares, so its series exist from the start.
        #expect(operations.names.contains("probe_floor"))
        #expect(operations.names.allSatisfy(JobTable.operations.contains))
    }
}

/// Records the operation names a repository reports.
final class OperationNames: RepositoryObserver {
    private let recorded = Mutex<Set<String>>([])
    var names: Set<String> { recorded.withLock { $0 } }
    func prepare(repository: String, operations: [String]) {}
    func recordOperation(repository: String, operation: String, duration: Duration, error: RepositoryErrorClass?) {
        recorded.withLock { _ = $0.insert(operation) }
    }
    func recordTransaction(outcome: TransactionOutcome, duration: Duration) {}
}
