import Domain
import Foundation
import InMemoryRepositories
import Persistence
import Services
import Testing

@Suite("Recruiter and publishing rules (in-memory repositories)")
struct RecruiterAndPublishingServiceUnitTests {
    @Test func createRecruiterTrimsTheNameAndListActiveSortsByName() async throws {
        let store = InMemoryStore()
        let service = RecruiterService(database: store)
        let created = try await service.createRecruiter(name: "  Zoe \n", telegramChatID: 10).get()
        #expect(created.name == "Zoe")
        #expect(created.id != nil)
        _ = try await service.createRecruiter(name: "Ann", telegramChatID: nil).get()
        #expect(try await service.listActive().get().map(\.name) == ["Ann", "Zoe"])
        #expect(store.outcomes == [.committed, .committed, .committed])
    }

    @Test func aBlankNameIsRefusedBeforeAnyUnitOfWorkAndADuplicateChatSavesNothing() async throws {
        let store = InMemoryStore()
        let service = RecruiterService(database: store)
        #expect(await service.createRecruiter(name: " \t", telegramChatID: nil).failure?.validationField == "name")
        #expect(store.outcomes.isEmpty)
        _ = try await service.createRecruiter(name: "Ann", telegramChatID: 10).get()
        let duplicate = await service.createRecruiter(name: "Bob", telegramChatID: 10)
        #expect(
            duplicate.failure
                == .conflict(
                    constraint: "recruiters_telegram_chat_id_key", message: "another recruiter has Telegram chat 10")
        )
        #expect(store.tables.recruiters.values.map(\.name) == ["Ann"])
        #expect(store.outcomes.last == .rolledBack)
    }

    @Test func publishingIsAllOrNothing() async throws {
        let (store, _) = try await store()
        let service = SlotPublishingService(database: store, now: { now })
        var first = slot(minutes: 60)
        first.recruiterID = 1
        var second = slot(minutes: 90)
        second.recruiterID = 1
        let published = try await service.publish([first, second]).get()
        #expect(published.map(\.startsAt) == [at(minutes: 60), at(minutes: 90)])
        #expect(store.tables.slots.count == 2)

        // A duplicate start fails the whole batch.
        var third = slot(minutes: 120)
        third.recruiterID = 1
        let before = store.tables
        let clash = await service.publish([third, first])
        #expect(clash.failure?.conflictConstraint == "slots_recruiter_starts_at_key")
        #expect(store.tables == before)

        // Checked before any Unit of Work: a held slot and a past start.
        let outcomes = store.outcomes
        #expect(await service.publish([slot(minutes: 60, status: .booked)]).failure?.validationField == "status")
        #expect(await service.publish([slot(minutes: -5)]).failure?.validationField == "starts_at")
        #expect(store.outcomes == outcomes)
    }

    @Test func aFinishedUnitOfWorkRefusesEveryCallAndASecondCommit() async throws {
        let store = InMemoryStore()
        try await store.withUnitOfWork { uow in
            try await uow.commit()
            #expect(!uow.isActive)
            #expect(await uow.slots.get(1).failure?.databaseOperation == "slots.get")
            #expect(await uow.recruiters.getActive().failure?.databaseOperation == "recruiters.get_active")
            await #expect(throws: RepositoryError.self) { try await uow.commit() }
        }
    }

    @Test func aFailedStatementAbortsTheUnitOfWorkLikePostgreSQL() async throws {
        let store = InMemoryStore()
        let error = await #expect(throws: RepositoryError.self) {
            try await store.withUnitOfWork { uow in
                _ = try await uow.recruiters.add(Recruiter(name: "Ann", telegramChatID: 1)).get()
                #expect(await uow.recruiters.add(Recruiter(name: "Bob", telegramChatID: 1)).failure != nil)
                #expect(await uow.recruiters.getActive().failure?.databaseSQLState == "25P02")
                try await uow.commit()
            }
        }
        #expect(error?.databaseSQLState == "25P02")
        #expect(store.tables.recruiters.isEmpty)
        #expect(store.outcomes == [.failed])
    }

    @Test func aConcurrentCommitMakesTheLaterOneFail() async throws {
        let store = InMemoryStore()
        let error = await #expect(throws: RepositoryError.self) {
            try await store.withUnitOfWork { outer in
                _ = try await outer.recruiters.add(Recruiter(name: "Outer")).get()
                try await store.withUnitOfWork { inner in
                    _ = try await inner.recruiters.add(Recruiter(name: "Inner")).get()
                    try await inner.commit()
                }
                try await outer.commit()
            }
        }
        #expect(error?.databaseSQLState == "40001")
        #expect(store.tables.recruiters.values.map(\.name) == ["Inner"])
    }
}

extension RepositoryError {
    var conflictConstraint: String? {
        if case .conflict(let constraint, _) = self { return constraint }
        return nil
    }

    var databaseOperation: String? {
        if case .database(let failure) = self { return failure.operation }
        return nil
    }

    var databaseSQLState: String? {
        if case .database(let failure) = self { return failure.sqlState }
        return nil
    }
}
