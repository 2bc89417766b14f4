import ArgumentParser
import Foundation
import Logging
import SlotWorkerApp

/// The `slot-worker` executable: parses the command line and hands over to `SlotWorkerApp`.
@main
struct SlotWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slot-worker",
        abstract: "SlotWorker: the recruiting backend's PostgreSQL-backed background worker.",
        subcommands: [MigrateCommand.self]
    )
}

/// Options every subcommand takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "JSON configuration file (default: $SLOT_WORKER_CONFIG).")
    var config: String?

    /// Flag values as configuration overrides.
    var overrides: [String: String] {
        var values: [String: String] = [:]
        if let databaseURL { values["database.url"] = databaseURL }
        return values
    }
}

/// Bootstraps swift-log once per process, writing to standard error.
func bootstrapLogging(level: String) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = Logger.Level(rawValue: level) ?? .info
        return handler
    }
    return Logger(label: "slot-worker")
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (safe to run concurrently; refuses a newer database)."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let configuration = try await SlotWorkerConfiguration.load(
            overrides: options.overrides,
            configFile: options.config
        )
        let logger = bootstrapLogging(level: configuration.logLevel)
        let result = try await MigrateCommandRunner.run(databaseURL: configuration.databaseURL, logger: logger)
        print(
            "schema at version \(result.version); applied: \(result.applied.isEmpty ? "none" : result.applied.map(String.init).joined(separator: ", "))"
        )
    }
}
