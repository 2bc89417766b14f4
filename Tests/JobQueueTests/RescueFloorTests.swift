import Foundation
import Persistence
import PostgresClient
import Testing

@testable import JobQueue

/// The rescuer's floor: the rule without I/O, and the statement with and without a floor.
@Suite("Rescue floor")
struct RescueFloorTests {
    @Test(
        "after a complete pass the next starts a slack below its time; a pass from the front comes every minute or later"
    )
    func rule() {
        var floor = RescueFloor()
        let t0 = ContinuousClock.now
        #expect(floor.passStarting(at: t0) == nil)  // the first pass scans from the front
        floor.passEnded(from: nil, started: t0, at: t0 + .seconds(2), scannedAt: 1000)
        #expect(floor.lastFullScanDuration == .seconds(2))
        #expect(floor.passStarting(at: t0 + .seconds(8)) == 1000 - RescueFloor.slack)
        floor.passEnded(from: 990, started: t0 + .seconds(8), at: t0 + .seconds(8), scannedAt: 1008)
        #expect(floor.lastFullScanDuration == .seconds(2))  // passes at a floor do not count
        #expect(floor.passStarting(at: t0 + .seconds(99)) == 1008 - RescueFloor.slack)
        // A 2-s pass from the front comes again after 100 s (1/50 of the time), not after 60 s.
        #expect(floor.passStarting(at: t0 + .seconds(100)) == nil)
        #expect(RescueFloor.fullScanInterval(after: .milliseconds(10)) == .seconds(60))
        #expect(RescueFloor.fullScanInterval(after: .seconds(60)) == .seconds(600))
    }

    @Test("the rescue statement takes lapsed leases from the floor on, and reports its database time")
    func statement() async throws {
        let database = try await makeDatabase()
        _ = try await database.pool.query(
            """
            INSERT INTO jobs (kind, state, locked_by, lease_expires_at, attempts)
            VALUES ('noop', 'running', 'gone', now() - interval '1 hour', 1),
                ('noop', 'running', 'gone', now() - interval '1 second', 1),
                ('noop', 'running', 'alive', now() + interval '1 minute', 1)
            """)
        let now: Double = try await database.pool.query("SELECT extract(epoch FROM now())::float8 AS t")[0].decode("t")
        let recent = try await database.withJobs {
            await $0.rescueExpired(limit: 10, kindMaxAttempts: [:], defaultMaxAttempts: 5, from: now - 60)
        }.get()
        #expect(recent.jobs.count == 1)
        #expect(abs(recent.scannedAt - now) < 60)
        let nothing = try await database.withJobs {
            await $0.rescueExpired(limit: 10, kindMaxAttempts: [:], defaultMaxAttempts: 5, from: now - 60)
        }.get()
        #expect(nothing.jobs.isEmpty)
        #expect(nothing.scannedAt >= recent.scannedAt)
        let all = try await database.withJobs {
            await $0.rescueExpired(limit: 10, kindMaxAttempts: [:], defaultMaxAttempts: 5, from: nil)
        }.get()
        #expect(all.jobs.count == 1)  // the hour-old lease, below the floor before
        #expect(try await database.count(where: "state = 'running'") == 1)  // the live lease stays
    }
}
