import Domain
import Foundation
import Persistence
import Repositories
import Services
import Testing

@Suite("Recruiter and publishing services")
struct ServiceTests {
    @Test func listActiveReturnsActiveRecruitersByNameAndCommits() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            let service = RecruiterService(database: database)
            #expect(await service.listActive() == .success([]))
            try await database.seed { uow throws in
                for (name, active) in [("Vera", true), ("Anna", true), ("Oleg", false)] {
                    _ = try await uow.recruiters.add(Recruiter(name: name, active: active)).get()
                }
            }
            let names = try await service.listActive().get().map(\.name)
            #expect(names == ["Anna", "Vera"])
            #expect(observer.transactions == [.committed, .committed, .committed])
        }
    }

    @Test func createRecruiterPersistsAndReportsFailures() async throws {
        try await withDatabase { database throws in
            let service = RecruiterService(database: database)
            let created = try await service.createRecruiter(name: "  Anna  ", telegramChatID: 100).get()
            #expect(created.name == "Anna")
            #expect(created.telegramChatID == 100)
            #expect(created.active)
            #expect(
                try await database.read { uow throws in try await uow.recruiters.get(created.id!).get() } == created)

            let blank = await service.createRecruiter(name: " \n ", telegramChatID: nil)
            #expect(blank.failure == .validation(field: "name", message: "a recruiter's name must not be blank"))
            let duplicate = await service.createRecruiter(name: "Boris", telegramChatID: 100)
            #expect(duplicate.failure?.conflictConstraint == "recruiters_telegram_chat_id_key")
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 1)
        }
    }

    @Test func publishInsertsAThousandSlotsInOneStatementAndOneTransaction() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let before = observer.operations.count
            let slots = (0..<1000).map { freeSlot(recruiter, city, minutes: Double($0) * 30) }
            let service = SlotPublishingService(database: database, now: { at(minutes: -1) })
            let published = try await service.publish(slots).get()
            #expect(published.count == 1000)
            #expect(published.map(\.startsAt) == slots.map(\.startsAt))
            #expect(published.allSatisfy { $0.status == .free && $0.id != nil })
            #expect(Set(published.map(\.id!)).count == 1000)
            #expect(
                Array(observer.operations.dropFirst(before)) == [
                    .init(repository: "slots", operation: "add_many", error: nil)
                ])
            #expect(observer.transactions.last == .committed)
            #expect(try await database.read { uow throws in try await uow.slots.count().get() } == 1000)
        }
    }

    @Test func publishIsAllOrNothing() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            let service = SlotPublishingService(database: database, now: { base })
            let clash = await service.publish([
                freeSlot(recruiter, city, minutes: 60), freeSlot(recruiter, city, minutes: 90),
                freeSlot(recruiter, city, minutes: 60),
            ])
            #expect(clash.failure?.conflictConstraint == "slots_recruiter_starts_at_key")
            let unknownCity = await service.publish([
                freeSlot(recruiter, city, minutes: 60),
                Slot(recruiterID: recruiter.id!, cityID: 999, startsAt: at(minutes: 120), durationMinutes: 30),
            ])
            #expect(unknownCity.failure?.conflictConstraint == "slots_city_id_fkey")
            let held = await service.publish([heldSlot(recruiter, city, minutes: 60, status: .booked)])
            #expect(held.failure?.validationField == "status")
            let past = await service.publish([
                freeSlot(recruiter, city, minutes: 60), freeSlot(recruiter, city, minutes: 0),
            ])
            #expect(past.failure == .validation(field: "starts_at", message: "slot #1 starts in the past"))
            #expect(try await database.read { uow throws in try await uow.slots.count().get() } == 0)
            #expect(await service.publish([]) == .success([]))
        }
    }
}
