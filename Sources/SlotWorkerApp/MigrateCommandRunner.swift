public import Logging
import Persistence
public import PostgresClient
import Schema

/// `slot-worker migrate`: applies pending migrations and reports the schema version.
public enum MigrateCommandRunner {
    /// Applies every pending migration. Safe to run from several processes at once.
    ///
    /// - Returns: the versions applied by this call and the resulting schema version.
    public static func run(configuration: PostgresConfiguration, logger: Logger) async throws
        -> (applied: [Int], version: Int)
    {
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 1), logger: logger)
        do {
            let migrator = Migrator(migrations: Schema.migrations, logger: logger)
            let applied = try await migrator.migrate(pool)
            let version = try await migrator.currentVersion(pool)
            await pool.close()
            return (applied, version)
        } catch {
            await pool.close()
            throw error
        }
    }
}
