import Domain
import Foundation
import Persistence
import PostgresClient
import Repositories
import Testing

/// The generic CRUD of `Repository`, through the recruiters' mapping.
@Suite("Generic repository")
struct GenericRepositoryTests {
    @Test func addReturnsTheStoredEntityAndGetReadsItBack() async throws {
        try await withDatabase { database throws in
            let added = try await database.seed { uow throws in
                try await uow.recruiters.add(Recruiter(name: "Anna", telegramChatID: 77, active: false)).get()
            }
            #expect(added.id != nil)
            #expect(added.name == "Anna")
            #expect(added.telegramChatID == 77)
            #expect(added.active == false)
            #expect(added.createdAt != nil)
            let read = try await database.read { uow throws in try await uow.recruiters.get(added.id!).get() }
            #expect(read == added)
        }
    }

    @Test func getOfAMissingIdIsNotFound() async throws {
        try await withDatabase { database throws in
            let result = try await database.read { uow throws in await uow.recruiters.get(404) }
            #expect(result == .failure(.notFound(entity: "Recruiter", id: "404")))
            #expect(result.failure?.errorClass == .notFound)
        }
    }

    @Test func getAllPagesInIdOrder() async throws {
        try await withDatabase { database throws in
            let ids = try await database.seed { uow throws in
                var ids: [Int64] = []
                for name in ["D", "C", "B", "A"] {
                    ids.append(try await uow.recruiters.add(Recruiter(name: name)).get().id!)
                }
                return ids
            }
            try await database.read { uow throws in
                #expect(try await uow.recruiters.getAll().get().map(\.id!) == ids)
                #expect(try await uow.recruiters.getAll(limit: 2, offset: 1).get().map(\.name) == ["C", "B"])
                #expect(try await uow.recruiters.getAll(limit: 10, offset: 4).get() == [])
                let negative = await uow.recruiters.getAll(limit: -1)
                #expect(negative.failure?.validationField == "limit")
            }
        }
    }

    @Test func updateWritesEveryColumnAndReportsMissingRows() async throws {
        try await withDatabase { database throws in
            let added = try await database.seed { uow throws in
                try await uow.recruiters.add(Recruiter(name: "Anna")).get()
            }
            var changed = added
            changed.name = "Anna K."
            changed.telegramChatID = -100_123
            changed.active = false
            let updated = try await database.seed { uow throws in try await uow.recruiters.update(changed).get() }
            #expect(updated == changed)
            #expect(try await database.read { uow throws in try await uow.recruiters.get(added.id!).get() } == changed)

            var ghost = changed
            ghost.id = 999
            let missing = try await database.read { uow throws in await uow.recruiters.update(ghost) }
            #expect(missing == .failure(.notFound(entity: "Recruiter", id: "999")))
            let unsaved = try await database.read { uow throws in await uow.recruiters.update(Recruiter(name: "New")) }
            #expect(unsaved.failure?.validationField == "id")
        }
    }

    @Test func deleteExistsAndCount() async throws {
        try await withDatabase { database throws in
            let (a, b) = try await database.seed { uow throws in
                (
                    try await uow.recruiters.add(Recruiter(name: "A")).get(),
                    try await uow.recruiters.add(Recruiter(name: "B")).get()
                )
            }
            try await database.seed { uow throws in
                #expect(try await uow.recruiters.count().get() == 2)
                #expect(try await uow.recruiters.exists(a.id!).get() == true)
                try await uow.recruiters.delete(a.id!).get()
                #expect(try await uow.recruiters.exists(a.id!).get() == false)
                #expect(try await uow.recruiters.count().get() == 1)
                #expect(await uow.recruiters.delete(a.id!).failure == .notFound(entity: "Recruiter", id: "\(a.id!)"))
            }
            try await database.read { uow throws in
                #expect(try await uow.recruiters.getAll().get() == [b])
                #expect(await uow.recruiters.get(a.id!).failure?.errorClass == .notFound)
            }
        }
    }

    @Test func uniqueAndForeignKeyViolationsAreConflicts() async throws {
        try await withDatabase { database throws in
            let (recruiter, city) = try await database.seedRecruiterAndCity()
            _ = try await database.seedSlots([freeSlot(recruiter, city, minutes: 60)])
            let other = try await database.seed { uow throws in
                try await uow.recruiters.add(Recruiter(name: "Boris", telegramChatID: 1)).get()
            }

            let duplicate = try await database.read { uow throws in
                await uow.recruiters.add(Recruiter(name: "Clone", telegramChatID: 1))
            }
            #expect(duplicate.failure?.conflictConstraint == "recruiters_telegram_chat_id_key")
            #expect(duplicate.failure?.errorClass == .conflict)

            let referenced = try await database.read { uow throws in await uow.recruiters.delete(recruiter.id!) }
            #expect(referenced.failure?.conflictConstraint == "slots_recruiter_id_fkey")
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 2)
            #expect(try await database.read { uow throws in try await uow.recruiters.get(other.id!).get() } == other)
        }
    }

    @Test func checkAndNotNullViolationsAreValidationErrors() async throws {
        try await withDatabase { database throws in
            let blank = try await database.read { uow throws in await uow.recruiters.add(Recruiter(name: "   ")) }
            #expect(blank.failure?.validationField == "recruiters_name_check")
            #expect(blank.failure?.errorClass == .validation)

            // Not-null can't be reached through the typed models; a custom statement shows how it surfaces.
            let null = try await database.read { uow throws in
                await uow.recruiters.run("probe") { connection in
                    _ = try await connection.query("INSERT INTO recruiters (name) VALUES ($1)", [String?.none])
                }
            }
            guard case .validation(_, let message) = null.failure else {
                Issue.record("expected a validation error, got \(null)")
                return
            }
            #expect(message.contains("\"name\""))
        }
    }

    @Test func aFailedStatementAbortsTheRestOfTheUnitOfWork() async throws {
        try await withDatabase { database throws in
            try await database.read { uow throws in
                _ = try await uow.recruiters.add(Recruiter(name: "A", telegramChatID: 5)).get()
                let duplicate = await uow.recruiters.add(Recruiter(name: "B", telegramChatID: 5))
                #expect(duplicate.failure?.errorClass == .conflict)
                let next = await uow.recruiters.count()
                #expect(next.failure?.databaseFailure?.sqlState == "25P02")
                #expect(next.failure?.databaseFailure?.operation == "recruiters.count")
            }
        }
    }
}
