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

/// Reminders planned from `slots` written by plain SQL and sent by in-process workers to a local fake Bot API.
/// Offsets are seconds, not hours; timing checks leave room for a loaded machine.
@Suite("Reminder dispatch: planning, skips, workers, rate limits")
struct ReminderDispatchTests {
    @Test func bookingsWrittenByPlainSQLGetEveryReminderOnce() async throws {
        let harness = try await Harness.make()
        let other = try await harness.database.pool.query(
            "INSERT INTO cities (name, time_zone) VALUES ('New York', 'America/New_York') RETURNING id"
        )[0].decode("id", as: Int64.self)
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        // Interviews start 6 s after their last reminder: a loaded machine may delay sends by seconds.
        let settings = testSettings(offsets: [12, 6])
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await Harness.planning(harness)
            // 20 slots as the backend writes them, after the worker started: 8 BOOKED, 8 CONFIRMED, 4 CANCELED.
            let base = Date().addingTimeInterval(14).wholeMilliseconds
            var expected: [Int64] = []
            for index in 0..<20 {
                let status = index < 8 ? "BOOKED" : index < 16 ? "CONFIRMED" : "CANCELED"
                try await harness.insertSlot(
                    startsAt: base.addingTimeInterval(Double(index) * 0.05), candidate: 100 + Int64(index),
                    status: status, cityID: index % 2 == 0 ? harness.cityID : other)
                if index < 16 { expected.append(100 + Int64(index)) }
            }
            try await eventually { fake.requests.count >= 32 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(fake.requests.count == 32)
            for chat in expected { #expect(fake.requests(to: chat).count == 2, "chat \(chat)") }
            try await eventually { observer.count("12s", "sent") == 16 && observer.count("6s", "sent") == 16 }
            // Never early; the 2-second goal is measured by `scripts/bench reminders`, not asserted under test load.
            #expect(observer.lags.allSatisfy { $0 >= -0.05 && $0 < 5 }, "lags \(observer.lags)")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int8 AS n FROM reminders WHERE state = 'sent' AND message_id IS NOT NULL") == 32)
        }
    }

    @Test func aMovedSlotIsRemindedForItsNewTimeOnly() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [3])
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await Harness.planning(harness)
            let first = Date().addingTimeInterval(12).wholeMilliseconds
            let slot = try await harness.insertSlot(startsAt: first, candidate: 501)
            try await eventually { try await harness.reminders(slot: slot) == ["3s planned"] }
            let moved = first.addingTimeInterval(2)
            try await harness.execute("UPDATE slots SET starts_at = $2 WHERE id = $1", [slot, moved])
            try await eventually { try await harness.reminders(slot: slot) == ["3s skipped moved", "3s sent"] }
            #expect(fake.requests(to: 501).count == 1)
            // The observer hears of each outcome just after its row is recorded.
            try await eventually { observer.count("3s", "skipped:moved") == 1 && observer.count("3s", "sent") == 1 }
            let sentAt = try #require(fake.requests(to: 501).first?.at)
            #expect(sentAt >= moved.timeIntervalSince1970 - 3.05, "sent before the new due time")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int8 AS n FROM jobs WHERE kind = 'reminders.send' AND state = 'cancelled' "
                        + "AND last_error LIKE 'skipped (moved)%'") == 1)
        }
    }

    /// A reminder skipped `moved` or `not_booked` no longer holds its (slot, offset, start): a slot back at that
    /// start gets it again, however often it moved; one already sent for a start is never sent again for it.
    @Test func aSlotBackAtAStartGetsItsReminderOnceForThatStart() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        // A grace far above the test's own delays: the moves back happen just after the skipped due times.
        let settings = testSettings(offsets: [3], grace: .seconds(30))
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await Harness.planning(harness)
            // Starts 14 s ahead: planning the five and the first moves must be done before the first due time
            // (t ≈ 11 s) even on a loaded machine (at 8 s ahead, a loaded CI run once freed `rebooked` too late).
            let base = Date().addingTimeInterval(14).wholeMilliseconds
            func start(_ slot: Int, away: Bool = false) -> Date {
                base.addingTimeInterval(Double(slot) * 0.1 + (away ? 6 : 0))
            }
            func move(_ id: Int64, to instant: Date) async throws {
                try await harness.execute("UPDATE slots SET starts_at = $2 WHERE id = $1", [id, instant])
            }
            func free(_ id: Int64) async throws {
                try await harness.execute(
                    "UPDATE slots SET status = 'FREE', candidate_telegram_id = NULL WHERE id = $1", [id])
            }
            func rebook(_ id: Int64, candidate: Int64) async throws {
                try await harness.execute(
                    "UPDATE slots SET status = 'RESERVED', candidate_telegram_id = $2, "
                        + "reserved_until = now() + interval '1 hour' WHERE id = $1", [id, candidate])
                try await harness.execute(
                    "UPDATE slots SET status = 'BOOKED', reserved_until = NULL WHERE id = $1", [id])
            }
            let back = try await harness.insertSlot(startsAt: start(0), candidate: 801)
            let twice = try await harness.insertSlot(startsAt: start(1), candidate: 802)
            let sentFirst = try await harness.insertSlot(startsAt: start(2), candidate: 803)
            let rebooked = try await harness.insertSlot(startsAt: start(3), candidate: 804)
            let sentThenRebooked = try await harness.insertSlot(startsAt: start(4), candidate: 805)
            try await eventually {
                try await harness.count("SELECT count(*)::int8 AS n FROM reminders WHERE state = 'planned'") == 5
            }
            // Away before the first due time (t ≈ 11 s); freed before it.
            try await move(back, to: start(0, away: true))
            try await move(twice, to: start(1, away: true))
            try await free(rebooked)
            // The originals fall due away from their start: skipped; back (or booked again) at it: planned anew.
            try await eventually { try await harness.reminders(slot: back).first == "3s skipped moved" }
            try await move(back, to: start(0))
            try await eventually { try await harness.reminders(slot: twice).first == "3s skipped moved" }
            try await move(twice, to: start(1))
            try await eventually { try await harness.reminders(slot: rebooked) == ["3s skipped not_booked"] }
            try await rebook(rebooked, candidate: 804)
            // Sent for the original start, then away and back (or freed and booked again) before anything else.
            try await eventually { try await harness.reminders(slot: sentFirst) == ["3s sent"] }
            try await move(sentFirst, to: start(2, away: true))
            try await eventually { try await harness.reminders(slot: sentFirst) == ["3s sent", "3s planned"] }
            try await move(sentFirst, to: start(2))
            try await eventually { try await harness.reminders(slot: sentThenRebooked) == ["3s sent"] }
            try await free(sentThenRebooked)
            try await rebook(sentThenRebooked, candidate: 805)
            // `twice` goes away again once its away reminder was skipped (t ≈ 17 s): planned anew for that start.
            try await eventually {
                try await harness.reminders(slot: twice) == ["3s skipped moved", "3s skipped moved", "3s sent"]
            }
            try await move(twice, to: start(1, away: true))
            try await eventually {
                try await harness.reminders(slot: back) == ["3s skipped moved", "3s skipped moved", "3s sent"]
            }
            try await eventually {
                try await harness.reminders(slot: twice)
                    == ["3s skipped moved", "3s skipped moved", "3s sent", "3s sent"]
            }
            try await eventually { try await harness.reminders(slot: sentFirst) == ["3s sent", "3s skipped moved"] }
            // A planner run with repair changes nothing more.
            let outcome = try await ReminderPlanner(database: harness.database, settings: settings).plan(repair: true)
            #expect(outcome == .init(planned: 0, late: 0))
            #expect(try await harness.reminders(slot: rebooked) == ["3s skipped not_booked", "3s sent"])
            #expect(try await harness.reminders(slot: sentThenRebooked) == ["3s sent"])
            #expect(fake.requests(to: 801).count == 1)
            #expect(fake.requests(to: 802).count == 2)
            #expect(fake.requests(to: 803).count == 1)
            #expect(fake.requests(to: 804).count == 1)
            #expect(fake.requests(to: 805).count == 1)
        }
    }

    @Test func canceledOrFreedSlotsGetNone() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(
                database: harness.database, sender: sender, settings: testSettings(offsets: [3]), observer: observer)
        ) {
            try await Harness.planning(harness)
            let start = Date().addingTimeInterval(12).wholeMilliseconds
            let canceled = try await harness.insertSlot(startsAt: start, candidate: 601)
            let freed = try await harness.insertSlot(startsAt: start.addingTimeInterval(0.1), candidate: 602)
            try await eventually {
                try await harness.count("SELECT count(*)::int8 AS n FROM reminders") == 2
            }
            try await harness.execute("UPDATE slots SET status = 'CANCELED' WHERE id = $1", [canceled])
            try await harness.execute(
                "UPDATE slots SET status = 'FREE', candidate_telegram_id = NULL WHERE id = $1", [freed])
            try await eventually { observer.count("3s", "skipped:not_booked") == 2 }
            #expect(try await harness.reminders(slot: canceled) == ["3s skipped not_booked"])
            #expect(try await harness.reminders(slot: freed) == ["3s skipped not_booked"])
            #expect(fake.requests.isEmpty)
        }
    }

    @Test func aWorkerDownPastTheGraceSendsNothingAndCountsLate() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [10], grace: .seconds(1))
        // Booked while no worker runs; due in 2 s; the worker starts after the grace.
        let slot = try await harness.insertSlot(startsAt: Date().addingTimeInterval(12), candidate: 701)
        try await Task.sleep(for: .milliseconds(3500))
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await eventually { try await harness.reminders(slot: slot) == ["10s skipped late"] }
            try await eventually { observer.count("10s", "skipped:late") == 1 }
        }
        #expect(fake.requests.isEmpty)
    }

    @Test func aPlannedReminderWhoseWorkerStoppedIsSentByTheNextOneOrSkippedLate() async throws {
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let settings = testSettings(offsets: [6], grace: .seconds(1))
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        // The first worker plans both (woken by the inserts), then stops (a restart) before either is due. `late` is
        // due `lead` seconds after the inserts: the time the first worker has to plan both and stop (6 s were too
        // few for a loaded CI machine once).
        let lead = 12.0
        var t0 = Date()
        var onTime: Int64 = 0
        var late: Int64 = 0
        try await withServices(
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
        ) {
            try await Harness.planning(harness)
            t0 = Date()
            // Due at +lead + 8 s and at +lead.
            onTime = try await harness.insertSlot(startsAt: t0.addingTimeInterval(lead + 14), candidate: 801)
            late = try await harness.insertSlot(startsAt: t0.addingTimeInterval(lead + 6), candidate: 802)
            try await eventually { try await harness.count("SELECT count(*)::int8 AS n FROM reminders") == 2 }
        }
        #expect(Date() < t0.addingTimeInterval(lead), "the first worker stopped only after the reminder was due")
        // Restart after `late` is more than the grace past due (+lead + 1 s), before `onTime` is due.
        let restart = t0.addingTimeInterval(lead + 2)
        try await Task.sleep(for: .milliseconds(Int64(max(0, restart.timeIntervalSinceNow) * 1000)))
        let next = harness.otherDatabase()
        try await withServices(
            try Harness.worker(database: next, sender: sender, settings: settings, observer: observer)
        ) {
            try await eventually { try await harness.reminders(slot: late) == ["6s skipped late"] }
            try await eventually { try await harness.reminders(slot: onTime) == ["6s sent"] }
        }
        await next.pool.close()
        #expect(fake.requests(to: 801).count == 1 && fake.requests(to: 802).isEmpty)
    }

    @Test func twoWorkersSendEachReminderOnceWithinTheSharedRate() async throws {
        // 200 reminders due at once, over 100 chats (two slots each), two workers, a cap of 40 per second.
        let harness = try await Harness.make(maxConnections: 10)
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        // Offsets of 30 s: the interviews start long after the ~7 s the backlog takes at this rate.
        let settings = testSettings(offsets: [30], grace: .seconds(60), rate: 40)
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        let second = harness.otherDatabase(maxConnections: 10)
        let services =
            try Harness.worker(database: harness.database, sender: sender, settings: settings, observer: observer)
            + (try Harness.worker(database: second, sender: sender, settings: settings, observer: observer))
        try await withServices(services) {
            let base = Date().addingTimeInterval(32).wholeMilliseconds
            try await harness.execute(
                """
                INSERT INTO slots (recruiter_id, city_id, starts_at, duration_minutes, status, candidate_telegram_id)
                SELECT $1, $2, $3::timestamptz + i * interval '1 millisecond', 30, 'BOOKED', 1000 + i % 100
                FROM generate_series(0, 199) AS i
                """,
                [harness.recruiterID, harness.cityID, base])
            try await eventually(timeout: .seconds(60)) { fake.requests.count >= 200 }
            try await Task.sleep(for: .milliseconds(300))
        }
        await second.pool.close()
        let requests = fake.requests
        #expect(requests.count == 200)
        #expect(Set(requests.map { $0.message.chatID ?? 0 }).count == 100)
        let times = requests.map(\.at).sorted()
        var busiest = 0
        for (index, start) in times.enumerated() {
            busiest = max(busiest, times[index...].prefix { $0 < start + 1 }.count)
        }
        #expect(busiest <= 40, "\(busiest) messages within one second")
        for chat in 1000..<1100 {
            let at = fake.requests(to: Int64(chat)).map(\.at).sorted()
            #expect(at.count == 2)
            if at.count == 2 { #expect(at[1] - at[0] >= 1, "chat \(chat): \(at[1] - at[0]) s apart") }
        }
        #expect(observer.count("30s", "sent") == 200)
        #expect(try await harness.count("SELECT count(*)::int8 AS n FROM reminders WHERE state = 'sent'") == 200)
    }

    @Test func aBookingCommittedShortlyBeforeItsDueTimeIsPlannedByTheWakeUp() async throws {
        // A planner period of 10 minutes: only the NOTIFY wake-up can plan this in time.
        let harness = try await Harness.make()
        let fake = try FakeTelegram()
        let observer = RecordingObserver()
        let sender = TelegramClient(apiURL: fake.url, token: "1:tok")
        try await withServices(
            try Harness.worker(
                database: harness.database, sender: sender, settings: testSettings(offsets: [3]), observer: observer)
        ) {
            // Once the planner LISTENs (the periodic run of this period is over by then), a booking due in 5 s: time
            // for the wake-up's planning on a loaded machine (due in 2 s, a CI run sent it 3.4 s late), and still
            // minutes before the next periodic run could plan it.
            try await Harness.planning(harness)
            let start = Date().addingTimeInterval(8).wholeMilliseconds
            try await harness.insertSlot(startsAt: start, candidate: 901)
            try await eventually { fake.requests(to: 901).count == 1 }
            let at = try #require(fake.requests(to: 901).first?.at)
            #expect(at - (start.timeIntervalSince1970 - 3) < 2.5, "lag \(at - (start.timeIntervalSince1970 - 3)) s")
        }
    }
}
