public import Logging
public import PostgresClient

/// Applies ``Migration``s, tracked in `schema_migrations`.
///
/// Each migration runs in its own transaction that first takes a transaction-level advisory lock, so two
/// processes migrating at once apply every migration exactly once (the second waits, then sees it applied).
/// Transaction-level locks also work behind PgBouncer in transaction mode. Re-running is a no-op. A database
/// whose newest applied version is unknown to this binary is refused before anything runs.
public struct Migrator: Sendable {
    /// Why migrating failed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }

    /// The advisory lock key (an arbitrary constant: "slotwork" in ASCII).
    static let lockKey: Int64 = 0x736c_6f74_776f_726b

    public let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Applies every pending migration; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ pool: PostgresPool) async throws -> [Int] {
        // Under the advisory lock too: two concurrent `CREATE TABLE IF NOT EXISTS` can both miss the table and
        // the loser fails on pg_type's unique index (SQLSTATE 23505).
        try await pool.withTransaction { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [Migrator.lockKey])
            try await connection.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                operation: "migrate.bootstrap"
            )
        }
        let known = migrations.last?.version ?? 0
        let current = try await currentVersion(pool)
        if current > known {
            throw Failure(
                message: "the database schema is at version \(current), newer than this binary knows (\(known)); "
                    + "refusing to run — deploy a newer slot-worker"
            )
        }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await pool.withTransaction { connection in
                _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [Migrator.lockKey])
                let rows = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    [migration.version]
                )
                guard rows.isEmpty else { return false }
                try await connection.execute(migration.sql, operation: "migrate.\(migration.version)")
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    [migration.version, migration.name]
                )
                return true
            }
            if didApply {
                applied.append(migration.version)
                logger.info(
                    "applied migration",
                    metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
                )
            }
        }
        return applied
    }

    /// The highest applied version, 0 for an empty database.
    public func currentVersion(_ pool: PostgresPool) async throws -> Int {
        let rows = try await pool.query(
            "SELECT coalesce(max(version), 0)::int8 AS version FROM schema_migrations"
        )
        return try rows[0].decode("version", as: Int.self)
    }
}
