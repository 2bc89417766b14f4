import Domain
import Foundation
import JobQueue
import Logging
import Persistence
import PostgresClient
import Repositories
import TestSupport
import Testing

@testable import Tasks

@Suite("Slot expiry: lapsed reservations and past slots")
struct SlotExpiryTests {
    @Test func batchesRepeatUntilNothingIsLeftWithAnEventPerTransition() async throws {
        let harness = try await Harness.make()
        let observer = RecordingObserver()
        let future = Date().addingTimeInterval(86_400)
        for index in 0..<7 {  // reservations that lapsed a minute ago
            let id = try await harness.insertSlot(
                startsAt: future.addingTimeInterval(Double(index) * 60), candidate: 300 + Int64(index),
                status: "RESERVED")
            try await harness.execute(
                "UPDATE slots SET reserved_until = now() - interval '1 minute' WHERE id = $1", [id])
        }
        let past = Date().addingTimeInterval(-600)
        for index in 0..<5 {
            try await harness.insertSlot(
                startsAt: past.addingTimeInterval(Double(index)), candidate: nil, status: "FREE")
        }
        let expiry = SlotExpiry(
            database: harness.database, settings: testSettings(), observer: observer, now: { Date() })
        try await expiry.releaseLapsed(batch: SlotTasks.Batch(limit: 3), logger: testLogger)
        try await expiry.expirePast(batch: SlotTasks.Batch(limit: 2), logger: testLogger)
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM slots WHERE status = 'FREE'") == 7)
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM slots WHERE status = 'EXPIRED'") == 5)
        #expect(
            try await harness.count(
                "SELECT count(*)::int8 AS n FROM slot_events WHERE kind = 'released' AND candidate_telegram_id >= 300")
                == 7)
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM slot_events WHERE kind = 'expired'") == 5)
        #expect(observer.transitions("RESERVED->FREE lapsed") == 7)
        #expect(observer.transitions("FREE->EXPIRED past") == 5)
        // No notices unless switched on.
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM jobs") == 0)
    }

    @Test func severalWorkersTransitionEachSlotOnce() async throws {
        let harness = try await Harness.make(maxConnections: 10)
        let past = Date().addingTimeInterval(-3600)
        try await harness.execute(
            """
            INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status)
            SELECT $1, $2, $3::timestamptz + i * interval '1 second', 30, 'FREE' FROM generate_series(0, 999) AS i
            """, [harness.recruiterID, harness.cityID, past])
        let observer = RecordingObserver()
        let databases = [harness.database, harness.otherDatabase(), harness.otherDatabase()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for database in databases {
                group.addTask {
                    try await SlotExpiry(
                        database: database, settings: testSettings(), observer: observer, now: { Date() }
                    )
                    .expirePast(batch: SlotTasks.Batch(limit: 50), logger: testLogger)
                }
            }
            try await group.waitForAll()
        }
        for database in databases.dropFirst() { await database.pool.close() }
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM slots WHERE status = 'EXPIRED'") == 1000)
        #expect(try await harness.count("SELECT count(DISTINCT slot_id)::int8 AS n FROM slot_events") == 1000)
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM slot_events") == 1000)
        #expect(observer.transitions("FREE->EXPIRED past") == 1000)
    }

    @Test func theCandidateIsToldWhenTheReservationLapsedIfSwitchedOn() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(notifyLapsed: true)
        let id = try await harness.insertSlot(
            startsAt: Date().addingTimeInterval(86_400), candidate: 444, status: "RESERVED")
        try await harness.execute("UPDATE slots SET reserved_until = now() - interval '1 second' WHERE id = $1", [id])
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await eventually { fake.requests(to: 444).count == 1 }
        }
        #expect(fake.requests(to: 444).first?.message.text?.contains("lapsed") == true)
        #expect(try await harness.reminders(slot: id) == [])
        let sampler = SlotStatsSampler(
            database: harness.database, interval: .seconds(1), observer: observer, logger: testLogger)
        try await sampler.sample()
        #expect(observer.statuses[.free] == 1 && observer.statuses[.booked] == 0)
    }
}
