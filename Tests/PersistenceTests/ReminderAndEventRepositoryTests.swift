import Domain
import Foundation
import Persistence
import PostgresClient
import Repositories
import Testing

@Suite("Reminder and slot event repositories")
struct ReminderAndEventRepositoryTests {
    @Test func planningIsIdempotentAndKeyedBySlotOffsetAndStart() async throws {
        try await withDatabase(maxConnections: 8, acquireTimeout: .seconds(60)) { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([heldSlot(recruiter, city, minutes: 30, status: .booked)])[0]
            let offsets = [ReminderOffset(seconds: 1200), ReminderOffset(seconds: 600)]
            // Ten planners at once: each reminder is inserted exactly once.
            let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await database.seed { uow throws in
                            try await uow.reminders.plan(
                                offsets: offsets, now: base, horizon: .seconds(7200), grace: .seconds(60)
                            ).get().count
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(inserted == 2)
            let rows = try await database.read { uow throws in try await uow.reminders.getAll().get() }
            #expect(rows.map(\.offset.label) == ["20m", "10m"])
            #expect(rows.allSatisfy { $0.state == .planned && $0.startsAt == slot.startsAt })
            #expect(
                rows.map(\.dueAt) == [slot.startsAt.addingTimeInterval(-1200), slot.startsAt.addingTimeInterval(-600)])
            // Moving the slot plans the new start; the old rows stay for the sender to skip.
            var moved = slot
            moved.startsAt = slot.startsAt.addingTimeInterval(300)
            _ = try await database.seed { uow throws in try await uow.slots.update(moved).get() }
            let again = try await database.seed { uow throws in
                try await uow.reminders.plan(offsets: offsets, now: base, horizon: .seconds(7200), grace: .seconds(60))
                    .get()
            }
            #expect(again.count == 2)
            #expect(try await database.read { uow throws in try await uow.reminders.count().get() } == 4)
        }
    }

    @Test func reminderStateChangesAndUnreachableCandidates() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([heldSlot(recruiter, city, minutes: 30, status: .booked)])[0]
            let planned = try await database.seed { uow throws in
                try await uow.reminders.plan(
                    offsets: [ReminderOffset(seconds: 1800)], now: base, horizon: .seconds(60), grace: .seconds(60)
                ).get()
            }
            let id = try #require(planned.first?.id)
            try await database.seed { uow throws in
                let loaded = try await uow.reminders.loadForSend(id).get()
                #expect(loaded.slot?.status == .booked && loaded.values?.city == city.name)
                #expect(loaded.candidateUnreachable == false)
                try await uow.reminders.markSending(id, chatID: 77).get()
                try await uow.reminders.markSent(id, messageID: 9, at: base).get()
                try await uow.reminders.markUnreachable(telegramID: slot.candidateTelegramID!, reason: "blocked").get()
                #expect(try await uow.reminders.isUnreachable(telegramID: slot.candidateTelegramID!).get())
                #expect(try await uow.reminders.loadForSend(id).get().candidateUnreachable)
            }
            let sent = try await database.read { uow throws in try await uow.reminders.get(id).get() }
            #expect(sent.state == .sent && sent.messageID == 9 && sent.chatID == 77 && sent.attempts == 1)
            let missing = try await database.read { uow throws in await uow.reminders.loadForSend(999) }
            guard case .notFound = missing.failure else {
                Issue.record("expected notFound, got \(String(describing: missing.failure))")
                return
            }
        }
    }

    /// Finished reminders past the retention go once their slot started; open ones, recent ones and those of a
    /// start still ahead (a moved slot's old rows) stay. Batches are bounded by the limit.
    @Test func pruneDeletesOnlyFinishedRemindersPastRetentionWhoseStartPassed() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                heldSlot(recruiter, city, minutes: -40 * 1440, status: .booked),
                heldSlot(recruiter, city, minutes: 1440, status: .booked),
            ])
            let (past, ahead) = (slots[0], slots[1])
            // (slot, offset, state, days since its last change); `base` is the clock.
            let rows: [(Slot, Int, String, Int)] = [
                (past, 60, "sent", 31), (past, 120, "skipped", 31), (past, 180, "failed", 31),
                (past, 240, "sent", 29), (past, 300, "planned", 31), (ahead, 60, "skipped", 31),
            ]
            for (slot, offset, state, days) in rows {
                _ = try await database.pool.query(
                    """
                    INSERT INTO reminders (slot_id, offset_seconds, starts_at, due_at, state, reason, sent_at, updated_at)
                    VALUES ($1, $2, $3, $3::timestamptz - $2 * interval '1 second', $4,
                        CASE WHEN $4 IN ('skipped', 'failed') THEN 'moved' END,
                        CASE WHEN $4 = 'sent' THEN $5::timestamptz END, $5::timestamptz)
                    """, [slot.id!, offset, slot.startsAt, state, base.addingTimeInterval(-Double(days) * 86_400)])
            }
            let retention = Duration.seconds(30 * 86_400)
            let batches = try await database.seed { uow throws in
                [
                    try await uow.reminders.pruneFinished(olderThan: retention, now: base, limit: 2).get(),
                    try await uow.reminders.pruneFinished(olderThan: retention, now: base, limit: 2).get(),
                    try await uow.reminders.pruneFinished(olderThan: retention, now: base, limit: 2).get(),
                ]
            }
            #expect(batches == [2, 1, 0])
            let left = try await database.pool.query(
                "SELECT slot_id, offset_seconds FROM reminders ORDER BY slot_id, offset_seconds"
            ).map {
                "\(try $0.decode("slot_id", as: Int64.self) == past.id! ? "past" : "ahead"):\(try $0.decode("offset_seconds", as: Int.self))"
            }
            #expect(left == ["past:240", "past:300", "ahead:60"])
        }
    }

    @Test func slotEventsAreListedOldestFirst() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                freeSlot(recruiter, city, minutes: 60), freeSlot(recruiter, city, minutes: 120),
            ])
            let events = try await database.seed { uow throws in
                [
                    try await uow.slotEvents.add(SlotEvent(slotID: slots[0].id!, kind: .published)).get(),
                    try await uow.slotEvents.add(SlotEvent(slotID: slots[1].id!, kind: .published)).get(),
                    try await uow.slotEvents.add(
                        SlotEvent(slotID: slots[0].id!, kind: .reserved, candidateTelegramID: 31)
                    ).get(),
                ]
            }
            #expect(events.allSatisfy { $0.id != nil && $0.createdAt != nil })
            try await database.read { uow throws in
                #expect(try await uow.slotEvents.getForSlot(slots[0].id!).get() == [events[0], events[2]])
                #expect(try await uow.slotEvents.getForSlot(slots[1].id!).get() == [events[1]])
                #expect(try await uow.slotEvents.getForSlot(999).get() == [])
                #expect(try await uow.slotEvents.get(events[2].id!).get().candidateTelegramID == 31)
            }
            let orphan = try await database.read { uow throws in
                await uow.slotEvents.add(SlotEvent(slotID: 999, kind: .expired))
            }
            #expect(orphan.failure?.conflictConstraint == "slot_events_slot_id_fkey")
        }
    }
}
