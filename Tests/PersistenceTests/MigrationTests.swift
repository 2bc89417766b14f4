import Foundation
import Logging
import Persistence
import PostgresClient
import Schema
import TestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    let logger = Logger(label: "migration-tests")

    /// A pool on a fresh, empty database.
    func emptyPool(maxConnections: Int = 2) async throws -> PostgresPool {
        PostgresPool(
            configuration: try await TestDatabase.create(migrated: false),
            options: .init(maxConnections: maxConnections)
        )
    }

    @Test func domainMigrationsAreVersionedOneToNinetyNine() {
        let versions = DomainMigrations.all.map(\.version)
        #expect(versions == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(versions.allSatisfy { (1...99).contains($0) })
        #expect(Set(DomainMigrations.all.map(\.name)).count == DomainMigrations.all.count)
        let all = Schema.migrations.map(\.version)
        #expect(Array(all.prefix(versions.count)) == versions)
        #expect(Set(all).count == all.count)
    }

    @Test func freshDatabaseGetsEveryMigrationThenRerunIsANoOp() async throws {
        let pool = try await emptyPool()
        let migrator = Migrator(migrations: Schema.migrations, logger: logger)
        let applied = try await migrator.migrate(pool)
        #expect(applied == Schema.migrations.map(\.version).sorted())
        #expect(try await migrator.currentVersion(pool) == Schema.migrations.map(\.version).max())

        let tables = try await pool.query(
            """
            SELECT table_name::text AS name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_name = ANY($1::text[]) ORDER BY table_name
            """,
            [
                [
                    "recruiters", "cities", "recruiter_cities", "slots", "message_templates", "users", "reminders",
                    "slot_events", "unreachable_candidates", "telegram_send_limits", "telegram_chat_limits",
                ]
            ]
        ).map { try $0.decode("name", as: String.self) }
        #expect(
            tables == [
                "cities", "message_templates", "recruiter_cities", "recruiters", "reminders", "slot_events",
                "slots", "telegram_chat_limits", "telegram_send_limits", "unreachable_candidates", "users",
            ]
        )

        #expect(try await migrator.migrate(pool) == [])
        let recorded = try await pool.query("SELECT count(*) AS n FROM schema_migrations")
        #expect(try recorded[0].decode("n", as: Int.self) == Schema.migrations.count)
        await dispose(pool)
    }

    @Test func twoConcurrentRunsApplyEachVersionOnce() async throws {
        let pool = try await emptyPool(maxConnections: 2)
        let other = PostgresPool(configuration: pool.configuration, options: .init(maxConnections: 2))
        let first = Migrator(migrations: Schema.migrations, logger: logger)
        let second = Migrator(migrations: Schema.migrations, logger: logger)
        async let a = first.migrate(pool)
        async let b = second.migrate(other)
        let (appliedA, appliedB) = try await (a, b)
        #expect(Set(appliedA).isDisjoint(with: appliedB))
        #expect((appliedA + appliedB).sorted() == Schema.migrations.map(\.version).sorted())
        let rows = try await pool.query("SELECT version FROM schema_migrations ORDER BY version")
        #expect(try rows.map { try $0.decode("version", as: Int.self) } == Schema.migrations.map(\.version).sorted())
        await other.close()
        await dispose(pool)
    }

    @Test func newerDatabaseIsRefusedBeforeAnythingRuns() async throws {
        let pool = try await emptyPool()
        let migrator = Migrator(migrations: Schema.migrations, logger: logger)
        try await migrator.migrate(pool)
        _ = try await pool.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [9999, "future"])
        let error = await #expect(throws: Migrator.Failure.self) { try await migrator.migrate(pool) }
        #expect(error?.message.contains("newer") == true)
        #expect(error?.message.contains("9999") == true)
        await dispose(pool)
    }

    @Test func olderBinaryRefusesAndAppliesNothing() async throws {
        let pool = try await emptyPool()
        try await Migrator(migrations: Schema.migrations, logger: logger).migrate(pool)
        let older = Migrator(migrations: Array(DomainMigrations.all.prefix(2)), logger: logger)
        let error = await #expect(throws: Migrator.Failure.self) { try await older.migrate(pool) }
        #expect(error?.message.contains("newer") == true)
        #expect(error?.message.contains("(2)") == true)
        await dispose(pool)
    }
}
