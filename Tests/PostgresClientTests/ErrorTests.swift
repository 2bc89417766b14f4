import Foundation
import PostgresClient
import TestSupport
import Testing

@Suite("Errors and configuration")
struct ErrorTests {
    @Test func syntaxErrorCarriesSQLState() async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        let error = await #expect(throws: PostgresError.self) {
            _ = try await pool.query("SELEC 1", operation: "probe")
        }
        #expect(error?.sqlState == "42601")
        #expect(error?.kind == .syntaxError)
        #expect(error?.operation == "probe")
    }

    @Test func uniqueViolationIsClassified() async throws {
        let pool = try await TestDatabase.pool(migrated: false)
        _ = try await pool.query("CREATE TABLE u (k text CONSTRAINT u_k_key UNIQUE)")
        _ = try await pool.query("INSERT INTO u VALUES ($1)", ["a"])
        let error = await #expect(throws: PostgresError.self) {
            _ = try await pool.query("INSERT INTO u VALUES ($1)", ["a"])
        }
        #expect(error?.kind == .uniqueViolation)
        #expect(error?.sqlState == "23505")
        #expect(error?.constraint == "u_k_key")
        #expect(error?.detail?.contains("already exists") == true)
    }

    @Test func malformedURLIsAClearErrorWithoutThePassword() throws {
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConfiguration("postgresql://bob:s3cretpw@host:notaport/db")
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.description.contains("s3cretpw") == false)
        let other = #expect(throws: PostgresError.self) {
            _ = try PostgresConfiguration("postgresql://bob:s3cret%zz@host/db")
        }
        #expect(other?.description.contains("s3cret") == false)
    }

    @Test func unreachableServerNamesHostAndPortButNotPassword() async throws {
        let configuration = try PostgresConfiguration(
            "postgresql://bob:topsecret@127.0.0.1:1/db",
            connectTimeoutSeconds: 2
        )
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration)
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(error?.message.contains(":1") == true)
        #expect(error?.description.contains("topsecret") == false)
        #expect(configuration.description == "127.0.0.1:1/db as bob")
    }

    @Test func wrongPasswordErrorDoesNotLeakIt() async throws {
        let server = try TestDatabase.serverConfiguration()
        _ = try await TestDatabase.admin(
            "DO $$ BEGIN CREATE ROLE pw_user LOGIN PASSWORD 'x'; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        // trust auth accepts any password; the point is that the password never appears in messages.
        let configuration = try PostgresConfiguration(
            "postgresql://pw_user:hunter2hunter2@\(server.host):\(server.port)/nonexistent_db_x"
        )
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration)
        }
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.message.contains("nonexistent_db_x") == true)
    }
}
