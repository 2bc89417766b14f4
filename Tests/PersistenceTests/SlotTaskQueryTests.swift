import Domain
import Foundation
import Persistence
import Repositories
import Testing

/// The background tasks' batch queries on slots.
@Suite("Slot task queries")
struct SlotTaskQueryTests {
    @Test func releaseLapsedReservationsFreesOnlyLapsedOnesOldestFirst() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                heldSlot(recruiter, city, minutes: 600, status: .reserved, candidate: 1, reservedMinutes: -5),
                heldSlot(recruiter, city, minutes: 660, status: .reserved, candidate: 2, reservedMinutes: -10),
                heldSlot(recruiter, city, minutes: 720, status: .reserved, candidate: 3, reservedMinutes: 5),
                heldSlot(recruiter, city, minutes: 780, status: .reserved, candidate: 4, reservedMinutes: 0),
                freeSlot(recruiter, city, minutes: 840),
                heldSlot(recruiter, city, minutes: 900, status: .booked, candidate: 5),
            ])
            let ids = slots.map(\.id!)

            let first = try await database.seed { uow throws in
                try await uow.slots.releaseLapsedReservations(now: base, limit: 1).get().map(\.slotID)
            }
            #expect(first == [ids[1]])
            let rest = try await database.seed { uow throws in
                try await uow.slots.releaseLapsedReservations(now: base, limit: 100).get().map(\.slotID)
            }
            #expect(rest == [ids[0]])
            #expect(
                try await database.seed { uow throws in
                    try await uow.slots.releaseLapsedReservations(now: base, limit: 100).get().map(\.slotID)
                } == [])

            let after = try await database.read { uow throws in try await uow.slots.getAll().get() }
            #expect(after.map(\.status) == [.free, .free, .reserved, .reserved, .free, .booked])
            #expect(after.map(\.candidateTelegramID) == [nil, nil, 3, 4, nil, 5])
            #expect(after[0].reservedUntil == nil)
            #expect(after[1].reservedUntil == nil)
            #expect(after[3].reservedUntil == base)

            let zero = try await database.read { uow throws in
                await uow.slots.releaseLapsedReservations(now: base, limit: 0)
            }
            #expect(zero.failure?.validationField == "limit")
        }
    }

    @Test func releaseSkipsRowsAnotherTransactionHolds() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                heldSlot(recruiter, city, minutes: 600, status: .reserved, candidate: 1, reservedMinutes: -10),
                heldSlot(recruiter, city, minutes: 660, status: .reserved, candidate: 2, reservedMinutes: -5),
            ])
            try await database.withUnitOfWork { holder throws in
                _ = try await holder.slots.getForUpdate(slots[0].id!).get()
                let released = try await database.seed { uow throws in
                    try await uow.slots.releaseLapsedReservations(now: base, limit: 10).get().map(\.slotID)
                }
                #expect(released == [slots[1].id!])
            }
            let released = try await database.seed { uow throws in
                try await uow.slots.releaseLapsedReservations(now: base, limit: 10).get().map(\.slotID)
            }
            #expect(released == [slots[0].id!])
        }
    }

    @Test func expirePastExpiresStartedFreeAndReservedSlotsOnly() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                freeSlot(recruiter, city, minutes: -60),
                heldSlot(recruiter, city, minutes: -120, status: .reserved, candidate: 7, reservedMinutes: 30),
                heldSlot(recruiter, city, minutes: -30, status: .booked, candidate: 8),
                heldSlot(recruiter, city, minutes: -90, status: .confirmed, candidate: 9),
                freeSlot(recruiter, city, minutes: 0),
                freeSlot(recruiter, city, minutes: 60),
                Slot(
                    recruiterID: recruiter.id!, cityID: city.id!, startsAt: at(minutes: -10), durationMinutes: 30,
                    status: .canceled),
            ])
            let ids = slots.map(\.id!)

            let first = try await database.seed { uow throws in
                try await uow.slots.expirePast(now: base, limit: 1).get().map(\.slotID)
            }
            #expect(first == [ids[1]])
            let rest = try await database.seed { uow throws in
                try await uow.slots.expirePast(now: base, limit: 50).get().map(\.slotID)
            }
            #expect(rest == [ids[0]])

            let after = try await database.read { uow throws in try await uow.slots.getAll().get() }
            #expect(after.map(\.status) == [.expired, .expired, .booked, .confirmed, .free, .free, .canceled])
            #expect(after[1].candidateTelegramID == 7)
            #expect(after[1].reservedUntil == nil)

            let negative = try await database.read { uow throws in await uow.slots.expirePast(now: base, limit: -1) }
            #expect(negative.failure?.validationField == "limit")
        }
    }
}
