public import Logging
import Persistence
import PostgresClient
import Tasks

/// `slot-worker templates check`: lists every broken message template (unknown placeholders) and every city
/// lacking a template the configuration needs.
public enum TemplatesCommandRunner {
    /// The report to print, and whether every template is usable.
    public static func check(configuration: SlotWorkerConfiguration, logger: Logger) async throws -> (
        report: String, ok: Bool
    ) {
        let pool = PostgresPool(
            configuration: try PostgresConfiguration(
                configuration.databaseURL, connectTimeoutSeconds: configuration.connectTimeoutSeconds),
            options: .init(maxConnections: 1),
            logger: logger
        )
        let problems: [TemplateCheck.Problem]
        do {
            problems = try await TemplateCheck.run(
                database: Database(pool: pool, logger: logger), settings: configuration.reminders)
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        guard !problems.isEmpty else { return ("every template is usable", true) }
        let lines = problems.map(\.description)
        return ("\(problems.count) broken template(s):\n" + lines.joined(separator: "\n"), false)
    }
}
