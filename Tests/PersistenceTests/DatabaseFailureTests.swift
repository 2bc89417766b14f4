import Domain
import Foundation
import Logging
import Persistence
import PostgresClient
import Repositories
import Services
import TestSupport
import Testing

/// Every repository operation once, on the failure path when the connection is dead or the Unit of Work is over.
/// Returns `repository.operation` → the call's failure (nil when it succeeded).
func callEveryOperation(_ uow: UnitOfWork) async -> [(String, RepositoryError?)] {
    let slot = Slot(id: 1, recruiterID: 1, cityID: 1, startsAt: base, durationMinutes: 30)
    let reminder = Reminder(
        id: 1, slotID: 1, offset: ReminderOffset(seconds: 60), startsAt: base, dueAt: base, state: .planned)
    return [
        ("recruiters.get", await uow.recruiters.get(1).failure),
        ("recruiters.get_all", await uow.recruiters.getAll().failure),
        ("recruiters.add", await uow.recruiters.add(Recruiter(name: "A")).failure),
        ("recruiters.update", await uow.recruiters.update(Recruiter(id: 1, name: "A")).failure),
        ("recruiters.delete", await uow.recruiters.delete(1).failure),
        ("recruiters.exists", await uow.recruiters.exists(1).failure),
        ("recruiters.count", await uow.recruiters.count().failure),
        ("recruiters.get_active", await uow.recruiters.getActive().failure),
        ("recruiters.get_active_in_city", await uow.recruiters.getActive(inCity: 1).failure),
        ("recruiters.assign_city", await uow.recruiters.assignCity(recruiterID: 1, cityID: 1).failure),
        ("cities.get", await uow.cities.get(1).failure),
        ("cities.get_all", await uow.cities.getAll().failure),
        ("cities.add", await uow.cities.add(City(name: "C", timeZone: "UTC")).failure),
        ("cities.update", await uow.cities.update(City(id: 1, name: "C", timeZone: "UTC")).failure),
        ("cities.delete", await uow.cities.delete(1).failure),
        ("cities.exists", await uow.cities.exists(1).failure),
        ("cities.count", await uow.cities.count().failure),
        ("cities.get_active", await uow.cities.getActive().failure),
        ("cities.get_for_recruiter", await uow.cities.getForRecruiter(1).failure),
        ("slots.get", await uow.slots.get(1).failure),
        ("slots.get_all", await uow.slots.getAll().failure),
        ("slots.add", await uow.slots.add(slot).failure),
        ("slots.update", await uow.slots.update(slot).failure),
        ("slots.delete", await uow.slots.delete(1).failure),
        ("slots.exists", await uow.slots.exists(1).failure),
        ("slots.count", await uow.slots.count().failure),
        ("slots.get_with_relations", await uow.slots.getWithRelations(1).failure),
        ("slots.get_for_update", await uow.slots.getForUpdate(1).failure),
        ("slots.add_many", await uow.slots.addMany([slot]).failure),
        ("slots.count_by_status", await uow.slots.countByStatus().failure),
        ("slots.release_lapsed_reservations", await uow.slots.releaseLapsedReservations(now: base, limit: 5).failure),
        ("slots.expire_past", await uow.slots.expirePast(now: base, limit: 5).failure),
        ("message_templates.get", await uow.templates.get(1).failure),
        ("message_templates.get_all", await uow.templates.getAll().failure),
        ("message_templates.add", await uow.templates.add(MessageTemplate(key: "k", body: "b")).failure),
        ("message_templates.update", await uow.templates.update(MessageTemplate(id: 1, key: "k", body: "b")).failure),
        ("message_templates.delete", await uow.templates.delete(1).failure),
        ("message_templates.exists", await uow.templates.exists(1).failure),
        ("message_templates.count", await uow.templates.count().failure),
        ("message_templates.find", await uow.templates.find(key: "k", cityID: 1).failure),
        ("users.get", await uow.users.get(1).failure),
        ("users.get_all", await uow.users.getAll().failure),
        ("users.add", await uow.users.add(User(telegramID: 1, name: "U")).failure),
        ("users.update", await uow.users.update(User(id: 1, telegramID: 1, name: "U")).failure),
        ("users.delete", await uow.users.delete(1).failure),
        ("users.exists", await uow.users.exists(1).failure),
        ("users.count", await uow.users.count().failure),
        ("users.get_by_telegram_id", await uow.users.getByTelegramID(1).failure),
        ("reminders.get", await uow.reminders.get(1).failure),
        ("reminders.get_all", await uow.reminders.getAll().failure),
        ("reminders.add", await uow.reminders.add(reminder).failure),
        ("reminders.update", await uow.reminders.update(reminder).failure),
        ("reminders.delete", await uow.reminders.delete(1).failure),
        ("reminders.exists", await uow.reminders.exists(1).failure),
        ("reminders.count", await uow.reminders.count().failure),
        (
            "reminders.plan",
            await uow.reminders.plan(
                offsets: [ReminderOffset(seconds: 60)], now: base, horizon: .seconds(60), grace: .seconds(60)
            ).failure
        ),
        ("reminders.open", await uow.reminders.open(now: base, horizon: .seconds(60), grace: .seconds(60)).failure),
        ("reminders.load_for_send", await uow.reminders.loadForSend(1).failure),
        ("reminders.mark_sending", await uow.reminders.markSending(1, chatID: 1).failure),
        ("reminders.mark_sent", await uow.reminders.markSent(1, messageID: 1, at: base).failure),
        ("reminders.finish", await uow.reminders.finish(1, state: .skipped, reason: "late", message: nil).failure),
        ("reminders.mark_retrying", await uow.reminders.markRetrying(1, message: "x").failure),
        ("reminders.mark_unreachable", await uow.reminders.markUnreachable(telegramID: 1, reason: "x").failure),
        ("reminders.is_unreachable", await uow.reminders.isUnreachable(telegramID: 1).failure),
        ("slot_events.get", await uow.slotEvents.get(1).failure),
        ("slot_events.get_all", await uow.slotEvents.getAll().failure),
        ("slot_events.add", await uow.slotEvents.add(SlotEvent(slotID: 1, kind: .reserved)).failure),
        ("slot_events.update", await uow.slotEvents.update(SlotEvent(id: 1, slotID: 1, kind: .reserved)).failure),
        ("slot_events.delete", await uow.slotEvents.delete(1).failure),
        ("slot_events.exists", await uow.slotEvents.exists(1).failure),
        ("slot_events.count", await uow.slotEvents.count().failure),
        ("slot_events.get_for_slot", await uow.slotEvents.getForSlot(1).failure),
    ]
}

@Suite("Database failures and the operation catalog")
struct DatabaseFailureTests {
    /// `repository.operation` for every entry of the catalog.
    var catalogNames: Set<String> {
        Set(RepositoryCatalog.operations.flatMap { repository, operations in operations.map { "\(repository).\($0)" } })
    }

    @Test func everyOperationReportsATerminatedBackendAsADatabaseErrorNamingIt() async throws {
        let observer = RecordingObserver()
        try await withDatabase(observer: NoopRepositoryObserver()) { plain in
            let database = Database(pool: plain.pool, observer: observer, logger: plain.logger)
            let calls = try await database.withUnitOfWork { uow throws in
                let pid = try await Repository<RecruiterTable>(context: uow.context).run("backend_pid") { connection in
                    try await connection.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int32.self)
                }.get()
                // With a timeout, pg_terminate_backend returns only once the backend is gone.
                let terminated = try await TestDatabase.admin(
                    "SELECT pg_terminate_backend($1, $2) AS done",
                    [pid, Int64(5000)]
                )
                #expect(try terminated[0].decode("done", as: Bool.self))
                return await callEveryOperation(uow)
            }
            for (name, error) in calls {
                let failure = error?.databaseFailure
                #expect(failure?.operation == name)
                #expect(failure?.isTransient == true, "\(name): \(String(describing: error))")
            }
            #expect(Set(calls.map(\.0)) == catalogNames)
            #expect(calls.count == catalogNames.count)
            // Every operation was recorded under the names the catalog lists, as a database error.
            let recorded = observer.operations.filter { $0.operation != "backend_pid" }
            #expect(Set(recorded.map { "\($0.repository).\($0.operation)" }) == catalogNames)
            #expect(recorded.allSatisfy { $0.error == .database })

            // The pool discarded the broken connection: the next Unit of Work works.
            #expect(try await database.read { uow throws in try await uow.recruiters.count().get() } == 0)
        }
    }

    @Test func everyOperationFailsOnAFinishedUnitOfWork() async throws {
        try await withDatabase { database throws in
            let calls = try await database.withUnitOfWork { uow throws in
                try await uow.commit()
                return await callEveryOperation(uow)
            }
            for (name, error) in calls {
                #expect(error?.databaseFailure?.operation == name)
                #expect(error?.databaseFailure?.message.contains("no longer active") == true, "\(name)")
            }
        }
    }

    @Test func unreachableServerFailsTheBeginNamingIt() async throws {
        let configuration = try PostgresConfiguration(
            "postgresql://postgres@127.0.0.1:1/nowhere", connectTimeoutSeconds: 2)
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2))
        let database = Database(pool: pool, logger: Logger(label: "unreachable"))
        let error = await #expect(throws: RepositoryError.self) {
            try await database.withUnitOfWork { uow throws in _ = try await uow.recruiters.count().get() }
        }
        #expect(error?.databaseFailure?.operation == "uow.begin")
        #expect(error?.databaseFailure?.underlying?.kind == .connectionFailed)
        let session = await #expect(throws: RepositoryError.self) {
            try await database.withSession { context in _ = try await SlotRepository(context: context).count().get() }
        }
        #expect(session?.databaseFailure?.operation == "session.acquire")
        let service = await RecruiterService(database: database).listActive()
        #expect(service.failure?.databaseFailure?.operation == "uow.begin")
        await pool.close()
    }

    @Test func droppedDatabaseFailsTheOperationAndThenTheBegin() async throws {
        let pool = try await TestDatabase.pool(maxConnections: 1)
        let database = Database(pool: pool, logger: Logger(label: "dropped"))
        // Open the pool's one connection, then drop the database under it.
        let count = try await database.withSession { context in try await SlotRepository(context: context).count().get()
        }
        #expect(count == 0)
        let name = try #require(pool.configuration.database)
        #expect(name.wholeMatch(of: /t_[0-9a-f]+/) != nil)
        _ = try await TestDatabase.admin("DROP DATABASE \(name) WITH (FORCE)")

        let result = try await database.withSession { context in await SlotRepository(context: context).count() }
        #expect(result.failure?.databaseFailure?.operation == "slots.count")
        #expect(result.failure?.databaseFailure?.isTransient == true)
        let begin = await #expect(throws: RepositoryError.self) {
            try await database.withUnitOfWork { _ in }
        }
        #expect(begin?.databaseFailure?.operation == "uow.begin")
        #expect(begin?.databaseFailure?.message.contains(name) == true)
        await pool.close()
    }

    @Test func catalogListsCrudFirstWithoutDuplicatesAndPreparesAnObserver() {
        for (repository, operations) in RepositoryCatalog.operations {
            #expect(Array(operations.prefix(7)) == SlotRepository.crudOperations, "\(repository)")
            #expect(Set(operations).count == operations.count, "\(repository)")
        }
        #expect(
            RepositoryCatalog.operations.keys.sorted() == [
                "cities", "message_templates", "recruiters", "reminders", "slot_events", "slots", "users",
            ]
        )
        let observer = RecordingObserver()
        RepositoryCatalog.prepare(observer)
        #expect(observer.prepared == RepositoryCatalog.operations)
        #expect(observer.preparedOrder == RepositoryCatalog.operations.keys.sorted())
    }
}
