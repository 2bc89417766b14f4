import Domain
import Foundation
import Persistence
import PostgresClient
import Repositories
import Services
import Testing

@Suite("Slot booking service")
struct SlotBookingServiceTests {
    /// A service whose clock is `base`.
    func service(
        _ database: Database,
        afterReserve: SlotBookingService<Database>.Hook? = nil,
        afterConfirm: SlotBookingService<Database>.Hook? = nil,
        now: Date = base
    ) -> SlotBookingService<Database> {
        SlotBookingService(database: database, afterReserve: afterReserve, afterConfirm: afterConfirm, now: { now })
    }

    @Test func bookingReservesAFreeSlotAndRecordsTheEventAtomically() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 120)])[0]
            let booked = try await service(database).book(
                slotID: slot.id!,
                candidateTelegramID: 4242,
                reservationTTL: .seconds(900)
            ).get()
            #expect(booked.id == slot.id)
            #expect(booked.status == .reserved)
            #expect(booked.candidateTelegramID == 4242)
            #expect(booked.reservedUntil == at(minutes: 15))
            try await database.read { uow throws in
                #expect(try await uow.slots.get(slot.id!).get() == booked)
                let events = try await uow.slotEvents.getForSlot(slot.id!).get()
                #expect(events.map(\.kind) == [.reserved])
                #expect(events.map(\.candidateTelegramID) == [4242])
            }
        }
    }

    @Test func onlyAFreeSlotThatHasNotStartedCanBeBooked() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                heldSlot(recruiter, city, minutes: 120, status: .booked, candidate: 1),
                freeSlot(recruiter, city, minutes: -1),
                freeSlot(recruiter, city, minutes: 180),
            ])
            let booking = service(database)
            let taken = await booking.book(slotID: slots[0].id!, candidateTelegramID: 2, reservationTTL: .seconds(60))
            #expect(
                taken.failure
                    == .validation(
                        field: "status",
                        message: "slot \(slots[0].id!) is BOOKED; only a FREE slot can be reserved"
                    )
            )
            let started = await booking.book(slotID: slots[1].id!, candidateTelegramID: 2, reservationTTL: .seconds(60))
            #expect(started.failure?.validationField == "starts_at")
            let missing = await booking.book(slotID: 999_999, candidateTelegramID: 2, reservationTTL: .seconds(60))
            #expect(missing.failure == .notFound(entity: "Slot", id: "999999"))
            let badCandidate = await booking.book(
                slotID: slots[2].id!, candidateTelegramID: 0, reservationTTL: .seconds(60))
            #expect(badCandidate.failure?.validationField == "candidate_telegram_id")
            let badTTL = await booking.book(slotID: slots[2].id!, candidateTelegramID: 2, reservationTTL: .zero)
            #expect(badTTL.failure?.validationField == "reservation_ttl")
            try await database.read { uow throws in
                #expect(try await uow.slots.get(slots[2].id!).get() == slots[2])
                #expect(try await uow.slotEvents.count().get() == 0)
            }
        }
    }

    @Test func aFailingSideRecordLeavesTheSlotFree() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 120)])[0]
            // Make every event insert fail in this test's database, after the slot update succeeded.
            _ = try await database.pool.query(
                "ALTER TABLE slot_events ADD CONSTRAINT test_reject_events CHECK (false) NOT VALID"
            )
            let result = await service(database).book(
                slotID: slot.id!, candidateTelegramID: 7, reservationTTL: .seconds(60))
            #expect(result.failure?.validationField == "test_reject_events")
            try await database.read { uow throws in
                let stored = try await uow.slots.get(slot.id!).get()
                #expect(stored == slot)
                #expect(stored.status == .free)
                #expect(stored.candidateTelegramID == nil)
                #expect(try await uow.slotEvents.count().get() == 0)
            }
        }
    }

    @Test func theHookRunsInTheSameUnitOfWork() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                freeSlot(recruiter, city, minutes: 120), freeSlot(recruiter, city, minutes: 240),
            ])
            let seen = EventLog()
            let writing = service(database) { uow, slot in
                seen.append("\(slot.status.rawValue) \(slot.candidateTelegramID ?? 0)")
                return await uow.slotEvents.add(SlotEvent(slotID: slot.id!, kind: .confirmed)).map { _ in }
            }
            _ = try await writing.book(slotID: slots[0].id!, candidateTelegramID: 11, reservationTTL: .seconds(60))
                .get()
            #expect(seen.entries == ["RESERVED 11"])
            #expect(
                try await database.read { uow throws in
                    try await uow.slotEvents.getAll().get().filter { $0.kind == .confirmed }.map(\.slotID)
                } == [slots[0].id!])

            let refusing = service(database) { _, _ in .failure(.validation(field: "reminders", message: "queue full"))
            }
            let refused = await refusing.book(
                slotID: slots[1].id!, candidateTelegramID: 12, reservationTTL: .seconds(60))
            #expect(refused.failure == .validation(field: "reminders", message: "queue full"))
            try await database.read { uow throws in
                #expect(try await uow.slots.get(slots[1].id!).get().status == .free)
                #expect(try await uow.slotEvents.getForSlot(slots[1].id!).get() == [])
            }
        }
    }

    @Test func twentyConcurrentBookingsOfOneSlotHaveExactlyOneWinner() async throws {
        // Twelve bookings wait for one of the 8 connections while the others wait on the row lock; on a loaded
        // machine that wait can pass the pool's usual 5 s, which is not what this test is about.
        try await withDatabase(maxConnections: 8, acquireTimeout: .seconds(60)) { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 120)])[0]
            let booking = service(database)
            let results = await withTaskGroup(of: (Int64, Result<Slot, RepositoryError>).self) { group in
                for candidate in Int64(1)...20 {
                    group.addTask {
                        (
                            candidate,
                            await booking.book(
                                slotID: slot.id!, candidateTelegramID: candidate, reservationTTL: .seconds(600))
                        )
                    }
                }
                return await group.reduce(into: [(Int64, Result<Slot, RepositoryError>)]()) { $0.append($1) }
            }
            #expect(results.count == 20)
            let winners = results.filter { $0.1.isSuccess }
            #expect(winners.count == 1)
            let losers = results.compactMap { $0.1.failure }
            #expect(losers.count == 19)
            #expect(losers.filter { $0.validationField != "status" } == [])
            let winner = try #require(winners.first)
            try await database.read { uow throws in
                let stored = try await uow.slots.get(slot.id!).get()
                #expect(stored.status == .reserved)
                #expect(stored.candidateTelegramID == winner.0)
                #expect(try await uow.slotEvents.getForSlot(slot.id!).get().map(\.candidateTelegramID) == [winner.0])
            }
        }
    }

    @Test func confirmTurnsTheCandidatesReservationIntoABooking() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slots = try await database.seedSlots([
                freeSlot(recruiter, city, minutes: 120), freeSlot(recruiter, city, minutes: 240),
            ])
            let confirmed = EventLog()
            let booking = service(
                database,
                afterConfirm: { _, slot in
                    confirmed.append("\(slot.id!) \(slot.status.rawValue)")
                    return .success(())
                })
            _ = try await booking.book(slotID: slots[0].id!, candidateTelegramID: 5, reservationTTL: .seconds(600))
                .get()

            let stranger = await booking.confirm(slotID: slots[0].id!, candidateTelegramID: 6)
            #expect(stranger.failure?.validationField == "candidate_telegram_id")
            let free = await booking.confirm(slotID: slots[1].id!, candidateTelegramID: 5)
            #expect(free.failure?.validationField == "status")
            let late = await service(database, now: at(minutes: 11)).confirm(
                slotID: slots[0].id!, candidateTelegramID: 5)
            #expect(late.failure?.validationField == "reserved_until")
            #expect(confirmed.entries == [])

            let booked = try await booking.confirm(slotID: slots[0].id!, candidateTelegramID: 5).get()
            #expect(booked.status == .booked)
            #expect(booked.candidateTelegramID == 5)
            #expect(booked.reservedUntil == nil)
            #expect(confirmed.entries == ["\(slots[0].id!) BOOKED"])
            let events = try await database.read { uow throws in try await uow.slotEvents.getForSlot(slots[0].id!).get()
            }
            #expect(events.map(\.kind) == [.reserved, .booked])
            let again = await booking.confirm(slotID: slots[0].id!, candidateTelegramID: 5)
            #expect(again.failure?.validationField == "status")
        }
    }
}
