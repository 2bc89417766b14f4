import Domain
import Foundation
import Persistence
import Repositories
import Testing

@Suite("Slot repository")
struct SlotRepositoryTests {
    @Test func addGetAndUpdateRoundTripEveryColumn() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let startsAt = base.addingTimeInterval(0.123_456)
            let added = try await database.seed { uow throws in
                try await uow.slots.add(
                    Slot(recruiterID: recruiter.id!, cityID: city.id!, startsAt: startsAt, durationMinutes: 45)
                ).get()
            }
            #expect(added.startsAt == startsAt)
            #expect(added.durationMinutes == 45)
            #expect(added.status == .free)
            #expect(added.candidateTelegramID == nil)
            #expect(added.reservedUntil == nil)
            #expect(added.createdAt != nil)
            #expect(added.updatedAt == added.createdAt)

            var reserved = added
            reserved.status = .reserved
            reserved.candidateTelegramID = 9001
            reserved.reservedUntil = at(minutes: -30)
            let updated = try await database.seed { uow throws in try await uow.slots.update(reserved).get() }
            #expect(updated.status == .reserved)
            #expect(updated.candidateTelegramID == 9001)
            #expect(updated.reservedUntil == at(minutes: -30))
            #expect(updated.createdAt == added.createdAt)
            #expect(updated.updatedAt! >= added.updatedAt!)
            #expect(try await database.read { uow throws in try await uow.slots.get(added.id!).get() } == updated)
        }
    }

    @Test func forbiddenTransitionsAndBadRowsAreValidationErrors() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 60)])[0]
            var booked = slot
            booked.status = .booked
            booked.candidateTelegramID = 1
            let skip = try await database.read { uow throws in await uow.slots.update(booked) }
            #expect(skip.failure?.validationField == "slots_status_transition")

            var reservedWithoutDeadline = slot
            reservedWithoutDeadline.status = .reserved
            reservedWithoutDeadline.candidateTelegramID = 1
            let noDeadline = try await database.read { uow throws in await uow.slots.update(reservedWithoutDeadline) }
            #expect(noDeadline.failure?.validationField == "slots_reservation_check")

            let tooLong = try await database.read { uow throws in
                await uow.slots.add(freeSlot(recruiter, city, minutes: 120, duration: 481))
            }
            #expect(tooLong.failure?.validationField == "slots_duration_check")
            let unknownCity = try await database.read { uow throws in
                await uow.slots.add(Slot(recruiterID: recruiter.id!, cityID: 999, startsAt: base, durationMinutes: 30))
            }
            #expect(unknownCity.failure?.conflictConstraint == "slots_city_id_fkey")
        }
    }

    @Test func getWithRelationsLoadsSlotRecruiterAndCityInOneQuery() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity(
                recruiter: "Anna",
                city: "Irkutsk",
                timeZone: "Asia/Irkutsk"
            )
            let slot = try await database.seedSlots([heldSlot(recruiter, city, minutes: 90, status: .booked)])[0]
            let observer = RecordingObserver()
            let loaded = try await withDatabaseSharing(database, observer: observer) { database in
                try await database.read { uow throws in try await uow.slots.getWithRelations(slot.id!).get() }
            }
            #expect(loaded == SlotWithRelations(slot: slot, recruiter: recruiter, city: city))
            #expect(observer.operations == [.init(repository: "slots", operation: "get_with_relations", error: nil)])

            let missing = try await database.read { uow throws in await uow.slots.getWithRelations(4242) }
            #expect(missing == .failure(.notFound(entity: "Slot", id: "4242")))
        }
    }

    @Test func getForUpdateLocksTheRowUntilTheUnitOfWorkEnds() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let slot = try await database.seedSlots([freeSlot(recruiter, city, minutes: 60)])[0]
            let events = EventLog()
            try await database.withUnitOfWork { holder throws in
                let locked = try await holder.slots.getForUpdate(slot.id!).get()
                #expect(locked == slot)
                let waiter = Task {
                    try await database.read { uow throws in
                        let seen = try await uow.slots.getForUpdate(slot.id!).get()
                        events.append("waiter got the lock")
                        return seen
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                var reserved = locked
                reserved.status = .reserved
                reserved.candidateTelegramID = 7
                reserved.reservedUntil = at(minutes: 10)
                _ = try await holder.slots.update(reserved).get()
                events.append("holder commits")
                try await holder.commit()
                let seen = try await waiter.value
                #expect(seen.status == .reserved)
                #expect(seen.candidateTelegramID == 7)
            }
            #expect(events.entries == ["holder commits", "waiter got the lock"])
            let missing = try await database.read { uow throws in await uow.slots.getForUpdate(4242) }
            #expect(missing == .failure(.notFound(entity: "Slot", id: "4242")))
        }
    }

    @Test func addManyInsertsInOneStatementAndKeepsInputOrderAndNulls() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let input = [
                freeSlot(recruiter, city, minutes: 300, duration: 15),
                Slot(
                    recruiterID: recruiter.id!, cityID: city.id!, startsAt: base.addingTimeInterval(0.000_001),
                    durationMinutes: 480, status: .reserved, candidateTelegramID: Int64.max,
                    reservedUntil: base.addingTimeInterval(-0.5)
                ),
                heldSlot(recruiter, city, minutes: 120, status: .booked, candidate: 12),
                Slot(
                    id: 999, recruiterID: recruiter.id!, cityID: city.id!, startsAt: at(minutes: 60), durationMinutes: 1
                ),
            ]
            let observer = RecordingObserver()
            let stored = try await withDatabaseSharing(database, observer: observer) { database in
                try await database.seed { uow throws in try await uow.slots.addMany(input).get() }
            }
            #expect(observer.operations == [.init(repository: "slots", operation: "add_many", error: nil)])
            #expect(stored.count == 4)
            #expect(stored.map(\.id!) == stored.map(\.id!).sorted())
            #expect(stored[3].id != 999)
            for (given, got) in zip(input, stored) {
                #expect(got.recruiterID == given.recruiterID)
                #expect(got.cityID == given.cityID)
                #expect(got.startsAt == given.startsAt)
                #expect(got.durationMinutes == given.durationMinutes)
                #expect(got.status == given.status)
                #expect(got.candidateTelegramID == given.candidateTelegramID)
                #expect(got.reservedUntil == given.reservedUntil)
            }
            let all = try await database.read { uow throws in try await uow.slots.getAll().get() }
            #expect(all == stored)
            #expect(try await database.read { uow throws in try await uow.slots.addMany([]).get() } == [])
        }
    }

    @Test func addManyIsAllOrNothing() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let badDuration = try await database.read { uow throws in
                await uow.slots.addMany([
                    freeSlot(recruiter, city, minutes: 60), freeSlot(recruiter, city, minutes: 120, duration: 0),
                ])
            }
            #expect(badDuration.failure?.validationField == "slots_duration_check")
            let duplicateStart = try await database.read { uow throws in
                await uow.slots.addMany([
                    freeSlot(recruiter, city, minutes: 60), freeSlot(recruiter, city, minutes: 60),
                ])
            }
            #expect(duplicateStart.failure?.conflictConstraint == "slots_recruiter_starts_at_key")
            #expect(try await database.read { uow throws in try await uow.slots.count().get() } == 0)
        }
    }
}

/// The same database seen through another observer (a second `Database` on the same pool).
func withDatabaseSharing<T>(
    _ database: Database,
    observer: any RepositoryObserver,
    _ body: (Database) async throws -> T
) async throws -> T {
    try await body(Database(pool: database.pool, observer: observer, logger: database.logger))
}
