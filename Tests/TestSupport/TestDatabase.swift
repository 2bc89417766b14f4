import Foundation
import Logging
import Persistence
public import PostgresClient
import Schema

/// Databases for tests, on the throwaway server `scripts/test` starts (`DATABASE_URL`).
///
/// Each test gets its own database, copied from a template migrated once per test process, so tests can run in
/// parallel without seeing each other's rows.
public enum TestDatabase {
    /// The server's configuration from `DATABASE_URL`. Fails loudly when unset: tests never skip.
    ///
    /// Connects may take up to 30 s (the library's default is 5 s): while dozens of tests start at once, each
    /// copying the migrated template, the shared server can take longer than 5 s to accept a connection on a loaded
    /// machine (a CI run lost four tests to `timeout expired` that way). Tests of connect timeouts set their own.
    public static func serverConfiguration() throws -> PostgresConfiguration {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw TestSupportError("DATABASE_URL is not set: run the tests through scripts/test")
        }
        return try PostgresConfiguration(url, connectTimeoutSeconds: 30)
    }

    /// The `DATABASE_URL` of a database named `name` on the test server.
    public static func url(database name: String) throws -> String {
        let server = try serverConfiguration()
        return "postgresql://\(server.user ?? "postgres")@\(server.host):\(server.port)/\(name)"
    }

    /// Creates a fresh database; with `migrated`, it has the whole schema. Returns its configuration.
    public static func create(migrated: Bool = true) async throws -> PostgresConfiguration {
        let server = try serverConfiguration()
        let name = "t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased())"
        let template = migrated ? try await MigratedTemplate.shared.name() : "template0"
        let admin = try await PostgresConnection.connect(server)
        try await admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        await admin.close()
        return server.with(database: name)
    }

    /// A pool on a fresh database.
    public static func pool(
        migrated: Bool = true,
        maxConnections: Int = 4,
        acquireTimeout: Duration = .seconds(5),
        observer: (any PostgresPoolObserver)? = nil
    ) async throws -> PostgresPool {
        PostgresPool(
            configuration: try await create(migrated: migrated),
            options: .init(maxConnections: maxConnections, acquireTimeout: acquireTimeout),
            observer: observer
        )
    }

    /// Runs a statement as the superuser on the server's main database (for pg_terminate_backend and the like).
    public static func admin(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> PostgresRows {
        let admin = try await PostgresConnection.connect(try serverConfiguration())
        do {
            let rows = try await admin.query(sql, binds)
            await admin.close()
            return rows
        } catch {
            await admin.close()
            throw error
        }
    }
}

/// Builds the migrated template database once per process; concurrent callers share the one build.
actor MigratedTemplate {
    static let shared = MigratedTemplate()
    private var build: Task<String, any Error>?

    func name() async throws -> String {
        if let build { return try await build.value }
        // The only unstructured task in the test support: it is awaited by every caller, so it never outlives them.
        let task = Task<String, any Error> { try await Self.create() }
        build = task
        return try await task.value
    }

    private static func create() async throws -> String {
        let server = try TestDatabase.serverConfiguration()
        let name = "tpl_\(getpid())_\(UInt32.random(in: 0..<UInt32.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.execute("CREATE DATABASE \(name) TEMPLATE template0")
        await admin.close()
        let pool = PostgresPool(configuration: server.with(database: name), options: .init(maxConnections: 1))
        try await Migrator(migrations: Schema.migrations, logger: Logger(label: "test")).migrate(pool)
        await pool.close()
        return name
    }
}

/// A test-setup failure with a readable message.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
