import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("slot-worker migrate and configuration errors")
struct MigrateCommandTests {
    @Test func migrateIsIdempotentAndRefusesANewerDatabase() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let url = try TestDatabase.url(database: database.database!)
        let first = try await WorkerProcess.run(["migrate", "--database-url", url])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("applied: 1"))
        let second = try await WorkerProcess.run(["migrate"], environment: ["DATABASE_URL": url])
        #expect(second.status == 0)
        #expect(second.stdout.contains("applied: none"))

        let pool = PostgresPool(configuration: database)
        _ = try await pool.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [9999, "future"])
        let refused = try await WorkerProcess.run(["migrate", "--database-url", url])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("newer than this binary knows"))
        await pool.close()
    }

    @Test func unreachableDatabaseIsAClearErrorWithoutThePassword() async throws {
        let result = try await WorkerProcess.run(
            ["migrate", "--database-url", "postgresql://app:Sup3rSecret@127.0.0.1:1/slots?connect_timeout=2"]
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("127.0.0.1:1"))
        #expect(!result.stderr.contains("Sup3rSecret"))
        #expect(!result.stdout.contains("Sup3rSecret"))
    }

    @Test func malformedURLIsAClearError() async throws {
        let result = try await WorkerProcess.run(["migrate", "--database-url", "postgresql://u:pw9876@host:port/db"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid database URL"))
        #expect(!result.stderr.contains("pw9876"))
    }

    @Test func missingDatabaseURLIsAClearError() async throws {
        let result = try await WorkerProcess.run(["migrate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("DATABASE_URL"))
    }

    @Test func malformedNumbersInTheEnvironmentAreNamed() async throws {
        let url = try TestDatabase.url(database: "postgres")
        let result = try await WorkerProcess.run(
            ["migrate"],
            environment: ["DATABASE_URL": url, "SLOT_WORKER_DATABASE_POOL_SIZE": "lots"]
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("SLOT_WORKER_DATABASE_POOL_SIZE"))
        #expect(result.stderr.contains("not an integer"))
    }
}
