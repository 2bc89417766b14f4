import Foundation
import PostgresClient
import TestSupport
import Testing

extension WorkerProcessTests {
    @Suite("replication slot horizon")
    struct ReplicationSlotHorizon {
        /// A standby with `hot_standby_feedback` streams through a physical slot, then goes away: the slot keeps its
        /// `xmin`, and with it the primary's xmin horizon (VACUUM removes nothing newer). `pg_replication_slots` has
        /// no timestamp, so a running worker times the slot across its samples: its
        /// `slotworker_db_xmin_horizon_age_seconds` grows while the slot is left, and falls once it is dropped.
        @Test func aSlotLeftByAStandbyHoldsTheHorizonUntilDropped() async throws {
            let slot = "sw_left_standby"
            try await Self.withFeedbackStandby(slot: slot) { primary, standby, probe in
                try await standby.stop()
                await standby.remove()
                try await WorkerScope.with { scope in
                    let worker = try await scope.startWorker(
                        databaseURL: primary.url(), environment: ["SLOT_WORKER_WORKER_STATS_INTERVAL_MS": "200"])
                    try await waitFor("the horizon's age reached 3 s", timeout: .seconds(30)) {
                        try await Self.horizonAge(worker) >= 3
                    }
                    _ = try await probe.query("SELECT pg_drop_replication_slot($1)", [slot])
                    try await waitFor("the horizon's age fell after the slot was dropped", timeout: .seconds(30)) {
                        try await Self.horizonAge(worker) < 1
                    }
                    _ = try await worker.terminate()
                }
            }
        }

        /// The other side: a standby that keeps streaming with `hot_standby_feedback` also holds the slot's `xmin`,
        /// but it moves with every feedback message (here every second) as the worker's own writes replay, and a moved
        /// `xmin` is timed afresh. So the gauge stays near the feedback interval instead of growing with the standby's
        /// uptime, and `SlotWorkerXminHorizonHeld` (5 min) never fires for a healthy standby.
        @Test func aStreamingStandbyWithFeedbackDoesNotLookHeld() async throws {
            let slot = "sw_live_standby"
            try await Self.withFeedbackStandby(slot: slot, configuration: ["wal_receiver_status_interval = 1s"]) {
                primary, standby, probe in
                try await WorkerScope.with { scope in
                    let worker = try await scope.startWorker(
                        databaseURL: primary.url(), environment: ["SLOT_WORKER_WORKER_STATS_INTERVAL_MS": "200"])
                    // 8 s of samples: a slot timed from the first sample regardless of its xmin would pass 5 s in them.
                    var ages: [Double] = []
                    let until = ContinuousClock.now + .seconds(8)
                    while ContinuousClock.now < until {
                        ages.append(try await Self.horizonAge(worker))
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    print("horizon ages beside a streaming standby: max \(ages.max() ?? -1) s of \(ages.count)")
                    #expect(ages.count > 10)
                    #expect(ages.allSatisfy { $0 >= 0 && $0 < 5 }, "ages: \(ages)")
                    _ = try await worker.terminate()
                }
                // The standby was holding the slot all along (else the test proves nothing).
                #expect(try await probe.int(Self.slotHasXmin, [slot]) == 1)
                #expect(try await probe.int("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1)
                try await standby.stop()
                await standby.remove()
                _ = try await probe.query("SELECT pg_drop_replication_slot($1)", [slot])
            }
        }

        static let slotHasXmin = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND xmin IS NOT NULL"

        /// Runs `body` with a migrated private primary, a standby streaming from it through the physical slot `slot`
        /// with `hot_standby_feedback` (plus `configuration`) whose feedback already set the slot's `xmin`, and a
        /// probe connection to the primary. The standby's log is printed when `body` throws; it is removed either way.
        static func withFeedbackStandby(
            slot: String, configuration: [String] = [],
            _ body: (PrivatePostgres, PrivatePostgres, Probe) async throws -> Void
        ) async throws {
            try await PrivatePostgres.with { primary in
                let migrate = try await WorkerProcess.run(["migrate", "--database-url", primary.url()])
                #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
                let standby = try await PrivatePostgres.standby(
                    of: primary, slot: slot, configuration: ["hot_standby_feedback = on"] + configuration)
                let probe = Probe(try PostgresConfiguration(primary.url()))
                do {
                    try await waitFor("the standby's feedback set the slot's xmin", timeout: .seconds(30)) {
                        try await probe.int(slotHasXmin, [slot]) == 1
                    }
                    try await body(primary, standby, probe)
                } catch {
                    print("standby log:\n\(standby.log.suffix(3000))")
                    await standby.remove()
                    await probe.close()
                    throw error
                }
                await standby.remove()
                await probe.close()
            }
        }

        static func horizonAge(_ worker: Worker) async throws -> Double {
            let metrics = try await worker.get("/metrics")
            return samples(of: "slotworker_db_xmin_horizon_age_seconds", in: metrics.body).first?.1 ?? -1
        }
    }
}
