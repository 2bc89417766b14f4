import Domain
import Foundation
import Persistence
import Repositories
import Testing

@Suite("Reminder and slot event repositories")
struct ReminderAndEventRepositoryTests {
    @Test func markSentIsTrueOnceThenFalse() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([heldSlot(recruiter, city, minutes: 1500, status: .booked)])[0]
            try await database.seed { uow throws in
                #expect(try await uow.reminders.markSent(slotID: slot.id!, kind: SentReminder.kind24h, at: base).get())
                #expect(try await uow.reminders.markSent(slotID: slot.id!, kind: SentReminder.kind24h).get() == false)
                #expect(try await uow.reminders.markSent(slotID: slot.id!, kind: SentReminder.kind2h, at: base).get())
            }
            let sent = try await database.read { uow throws in try await uow.reminders.getAll().get() }
            #expect(sent.map(\.kind) == ["24h", "2h"])
            #expect(sent.map(\.slotID) == [slot.id!, slot.id!])
            #expect(sent.map(\.sentAt) == [base, base])
            #expect(
                try await database.seed { uow throws in
                    try await uow.reminders.markSent(slotID: slot.id!, kind: "24h").get()
                }
                    == false)
        }
    }

    @Test func markSentFailures() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 60)])[0]
            let unknownSlot = try await database.read { uow throws in
                await uow.reminders.markSent(slotID: 999, kind: "24h")
            }
            #expect(unknownSlot.failure?.conflictConstraint == "sent_reminders_slot_id_fkey")
            let badKind = try await database.read { uow throws in
                await uow.reminders.markSent(slotID: slot.id!, kind: "later")
            }
            #expect(badKind.failure?.validationField == "sent_reminders_kind_check")
        }
    }

    @Test func concurrentMarkSentLetsExactlyOneWin() async throws {
        try await withDatabase(maxConnections: 8) { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([heldSlot(recruiter, city, minutes: 60, status: .booked)])[0]
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await database.seed { uow throws in
                            try await uow.reminders.markSent(slotID: slot.id!, kind: "2h").get()
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(outcomes.count == 10)
            #expect(try await database.read { uow throws in try await uow.reminders.count().get() } == 1)
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
