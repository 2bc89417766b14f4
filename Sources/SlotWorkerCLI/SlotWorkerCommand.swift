import ArgumentParser
import Foundation
import SlotWorkerApp

/// The `slot-worker` executable: parses the command line and hands over to `SlotWorkerApp`.
@main
struct SlotWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slot-worker",
        abstract: "SlotWorker: the recruiting backend's PostgreSQL-backed background worker.",
        subcommands: [
            RunCommand.self, MigrateCommand.self, EnqueueCommand.self, JobsCommand.self, DemoSeedCommand.self,
            TemplatesCommand.self,
        ]
    )
}

/// Options every subcommand takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "JSON configuration file (default: $SLOT_WORKER_CONFIG).")
    var config: String?

    /// Resolves the configuration with these flags (and `overrides` of the subcommand) and bootstraps logging.
    func load(_ overrides: SlotWorkerOverrides = SlotWorkerOverrides()) async throws -> SlotWorkerLaunch {
        var overrides = overrides
        overrides.databaseURL = databaseURL
        return try await SlotWorkerLaunch.start(overrides: overrides, configFile: config)
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (safe to run concurrently; refuses a newer database)."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let launch = try await options.load()
        let result = try await MigrateCommandRunner.run(
            configuration: try launch.configuration.postgresConfiguration(), logger: launch.logger)
        print(
            "schema at version \(result.version); applied: \(result.applied.isEmpty ? "none" : result.applied.map(String.init).joined(separator: ", "))"
        )
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker: job runner, rescuer, periodic tasks, pruner, metrics and health endpoints."
    )

    @OptionGroup var options: DatabaseOptions

    @Option(name: .long, help: "Address the metrics/health server binds (default 127.0.0.1).")
    var httpHost: String?

    @Option(name: .long, help: "Port of the metrics/health server (default 9464; 0 picks a free port).")
    var httpPort: Int?

    @Option(name: .long, help: "Jobs run at once by this process (default 32).")
    var concurrency: Int?

    @Option(name: .long, help: "Direct PostgreSQL URL for LISTEN (for pools behind PgBouncer in transaction mode).")
    var listenURL: String?

    @Flag(name: .long, help: "Do not LISTEN for new jobs; only poll.")
    var noListen = false

    @Flag(name: .long, help: "Exit (status 0) once no job is ready, none runs, and none is due.")
    var exitWhenIdle = false

    func run() async throws {
        let launch = try await options.load(
            SlotWorkerOverrides(
                listenURL: listenURL,
                httpHost: httpHost,
                httpPort: httpPort,
                concurrency: concurrency,
                noListen: noListen
            )
        )
        try await SlotWorkerApplication(configuration: launch.configuration, logger: launch.logger).run(
            exitWhenIdle: exitWhenIdle)
    }
}

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job, or JSON lines from standard input with --from -.",
        discussion: """
            JSON lines: one object per line with "kind" and optional "payload", "queue", "priority", "run_at" \
            (ISO 8601), "delay_seconds", "max_attempts", "unique_key". All lines go in one transaction.
            """
    )

    @OptionGroup var options: DatabaseOptions

    @Argument(help: "The job kind (e.g. noop, sleep, fail, reminders.send).")
    var kind: String?

    @Option(name: .long, help: "JSON payload (default {}).")
    var payload: String?

    @Option(name: .long, help: "When to run: ISO 8601 time or a delay like +30s, +5m, +2h.")
    var runAt: String?

    @Option(name: .long, help: "Deduplication key: while a job with this key is unfinished, no second one is made.")
    var uniqueKey: String?

    @Option(name: .long, help: "Priority; lower runs first (default 0).")
    var priority: Int = 0

    @Option(name: .long, help: "Queue name (default \"default\").")
    var queue: String = "default"

    @Option(name: .long, help: "Attempt limit (default: the kind's, else 20).")
    var maxAttempts: Int?

    @Option(name: .long, help: "Read JSON lines from this file; - is standard input.")
    var from: String?

    func validate() throws {
        if (kind == nil) == (from == nil) {
            throw ValidationError("give either a KIND or --from - (JSON lines), not both")
        }
    }

    func run() async throws {
        try await withJobs(options) { jobs in
            if let from {
                let data =
                    from == "-"
                    ? FileHandle.standardInput.readDataToEndOfFile()
                    : try Data(contentsOf: URL(fileURLWithPath: from))
                return try await jobs.enqueue(jsonLines: String(decoding: data, as: UTF8.self))
            }
            return try await jobs.enqueue(
                kind: kind ?? "",
                payload: payload,
                runAt: runAt,
                uniqueKey: uniqueKey,
                priority: priority,
                queue: queue,
                maxAttempts: maxAttempts
            )
        }
    }
}

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and steer jobs.",
        subcommands: [Status.self, Retry.self, Cancel.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts by state and kind, oldest ready age.")
        @OptionGroup var options: DatabaseOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            try await withJobs(options) { try await $0.status(json: json) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a dead or cancelled job available again.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            try await withJobs(options) { try await $0.retry(id: id) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job that has not finished.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            try await withJobs(options) { try await $0.cancel(id: id) }
        }
    }
}

/// Runs one jobs command and prints its answer.
func withJobs(_ options: DatabaseOptions, _ body: (JobsCommandRunner) async throws -> String) async throws {
    let launch = try await options.load()
    let jobs = JobsCommandRunner(configuration: try launch.configuration.postgresConfiguration(), logger: launch.logger)
    do {
        print(try await body(jobs))
        await jobs.close()
    } catch {
        await jobs.close()
        throw error
    }
}

struct DemoSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-seed",
        abstract: "Load demo data (used by scripts/demo on its throwaway database)."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let launch = try await options.load()
        print(try await DemoSeeder.seed(databaseURL: launch.configuration.databaseURL, logger: launch.logger))
    }
}
