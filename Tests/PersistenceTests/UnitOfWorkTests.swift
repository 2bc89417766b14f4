import Domain
import Foundation
import Persistence
import PostgresClient
import Repositories
import Testing

@Suite("Unit of Work")
struct UnitOfWorkTests {
    struct Boom: Error {}

    @Test func leavingTheScopeWithoutCommitRollsBack() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            let id = try await database.withUnitOfWork { uow throws in
                let added = try await uow.recruiters.add(Recruiter(name: "Ghost")).get()
                #expect(try await uow.recruiters.get(added.id!).get() == added)
                return added.id!
            }
            try await database.read { uow throws in
                #expect(await uow.recruiters.get(id).failure == .notFound(entity: "Recruiter", id: "\(id)"))
                #expect(try await uow.recruiters.count().get() == 0)
            }
            #expect(observer.transactions == [.rolledBack, .rolledBack])
        }
    }

    @Test func throwingOutOfTheScopeRollsBackAndRethrows() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            await #expect(throws: Boom.self) {
                try await database.withUnitOfWork { uow throws in
                    _ = try await uow.recruiters.add(Recruiter(name: "Ghost")).get()
                    throw Boom()
                }
            }
            #expect(observer.transactions == [.rolledBack])
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 0)
        }
    }

    @Test func explicitRollbackDiscardsAndEndsTheUnitOfWork() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            try await database.withUnitOfWork { uow throws in
                _ = try await uow.recruiters.add(Recruiter(name: "Ghost")).get()
                await uow.rollback()
                #expect(!uow.isActive)
                let after = await uow.recruiters.count()
                #expect(after.failure?.databaseFailure?.operation == "recruiters.count")
                #expect(after.failure?.databaseFailure?.message.contains("no longer active") == true)
                await uow.rollback()
                let commit = await #expect(throws: RepositoryError.self) { try await uow.commit() }
                #expect(commit?.databaseFailure?.operation == "uow.commit")
            }
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 0)
            #expect(observer.transactions == [.rolledBack, .rolledBack])
        }
    }

    @Test func useAfterCommitAndDoubleCommitFail() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            let id = try await database.withUnitOfWork { uow throws in
                let added = try await uow.recruiters.add(Recruiter(name: "Kept")).get()
                try await uow.commit()
                #expect(!uow.isActive)
                let late = await uow.recruiters.get(added.id!)
                #expect(late.failure?.databaseFailure?.operation == "recruiters.get")
                #expect(late.failure?.databaseFailure?.sqlState == nil)
                let second = await #expect(throws: RepositoryError.self) { try await uow.commit() }
                #expect(second?.databaseFailure?.operation == "uow.commit")
                #expect(second?.databaseFailure?.message.contains("no longer active") == true)
                return added.id!
            }
            #expect(try await database.read { uow throws in try await uow.recruiters.get(id).get().name } == "Kept")
            #expect(observer.transactions == [.committed, .rolledBack])
            #expect(observer.operations.last == .init(repository: "recruiters", operation: "get", error: nil))
            #expect(
                observer.operations.contains(.init(repository: "recruiters", operation: "get", error: .database))
            )
        }
    }

    @Test func commitAfterAFailedStatementPersistsNothing() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            try await database.withUnitOfWork { uow throws in
                _ = try await uow.recruiters.add(Recruiter(name: "A", telegramChatID: 5)).get()
                let conflict = await uow.recruiters.add(Recruiter(name: "B", telegramChatID: 5))
                #expect(conflict.failure?.conflictConstraint == "recruiters_telegram_chat_id_key")
                // PostgreSQL answers COMMIT of an aborted transaction with a ROLLBACK tag and no error.
                let error = await #expect(throws: RepositoryError.self) { try await uow.commit() }
                #expect(error?.databaseFailure?.operation == "uow.commit")
                #expect(error?.databaseFailure?.sqlState == "25P02")
                #expect(observer.transactions == [.failed])
            }
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 0)
        }
    }

    @Test func addedRowsHaveIdsAtOnceForLaterStatementsOfTheSameUnit() async throws {
        try await withDatabase { database throws in
            let slot = try await database.seed { uow throws in
                let recruiter = try await uow.recruiters.add(Recruiter(name: "Anna")).get()
                let city = try await uow.cities.add(City(name: "Perm", timeZone: "Asia/Yekaterinburg")).get()
                return try await uow.slots.add(freeSlot(recruiter, city, minutes: 60)).get()
            }
            let loaded = try await database.read { uow throws in try await uow.slots.getWithRelations(slot.id!).get() }
            #expect(loaded.recruiter.name == "Anna")
            #expect(loaded.city.name == "Perm")
        }
    }

    @Test func serializationFailureOnCommitIsADatabaseErrorWith40001() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: observer) { database throws in
            // Write skew: each transaction counts the recruiters, then adds one. Serially the second would see the
            // first's row; under SERIALIZABLE the second commit must fail.
            let error = try await database.withUnitOfWork(isolation: .serializable) { first throws in
                try await database.withUnitOfWork(isolation: .serializable) { second throws in
                    #expect(try await first.recruiters.count().get() == 0)
                    #expect(try await second.recruiters.count().get() == 0)
                    _ = try await first.recruiters.add(Recruiter(name: "First")).get()
                    _ = try await second.recruiters.add(Recruiter(name: "Second")).get()
                    try await first.commit()
                    return await #expect(throws: RepositoryError.self) { try await second.commit() }
                }
            }
            let failure = try #require(error?.databaseFailure)
            #expect(failure.operation == "uow.commit")
            #expect(failure.sqlState == "40001")
            #expect(failure.isTransient)
            #expect(failure.underlying?.kind == .serializationFailure)
            let names = try await database.read { uow throws in try await uow.recruiters.getAll().get().map(\.name) }
            #expect(names == ["First"])
            #expect(observer.transactions.prefix(2) == [.committed, .failed])
        }
    }
}
