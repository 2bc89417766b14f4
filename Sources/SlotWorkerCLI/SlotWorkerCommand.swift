import ArgumentParser
import Foundation
import SlotWorkerApp

/// The `slot-worker` executable: parses the command line and hands over to `SlotWorkerApp`.
///
/// Exit status: 0 on success, 2 for bad usage or configuration (the message names the flag or key and the value),
/// 1 for anything else (database unreachable, a job in the wrong state, …).
@main
struct SlotWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slot-worker",
        abstract: "SlotWorker: the recruiting backend's PostgreSQL-backed background worker.",
        subcommands: [
            RunCommand.self, MigrateCommand.self, EnqueueCommand.self, JobsCommand.self, QueuesCommand.self,
            ConfigCommand.self, TemplatesCommand.self, DemoSeedCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let usage =
                error is SlotWorkerConfiguration.Invalid || error is JobsCommandRunner.UsageError
                || exitCode(for: error) == .validationFailure
            guard usage else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// Options every subcommand takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "JSON configuration file (default: $SLOT_WORKER_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Log format: text or json (default: $SLOT_WORKER_LOG_FORMAT, else text).")
    var logFormat: String?

    /// Resolves the configuration with these flags (and `overrides` of the subcommand) and bootstraps logging.
    func load(_ overrides: SlotWorkerOverrides = SlotWorkerOverrides()) async throws -> SlotWorkerLaunch {
        var overrides = overrides
        overrides.databaseURL = databaseURL
        overrides.logFormat = logFormat
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
        let result = try await MigrateCommandRunner.run(configuration: launch.configuration, logger: launch.logger)
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
        subcommands: [Status.self, List.self, Show.self, Retry.self, Cancel.self, Delete.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts by state and kind, oldest ready age.")
        @OptionGroup var options: DatabaseOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            try await withJobs(options) { try await $0.status(json: json) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var filter: FilterOptions
        @Option(name: .long, help: "Jobs to list (1...1000, default 50).") var limit = 50
        @Option(name: .long, help: "List jobs older than this id (the next page).") var before: Int64 = 0
        @Flag(name: .long, help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit \(limit) is outside 1...1000") }
        }

        func run() async throws {
            let filter = try self.filter.filter(ids: [])
            try await withJobs(options) { try await $0.list(filter, before: before, limit: limit, json: json) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job: its columns and the error of each attempt.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Job id.") var id: Int64
        @Flag(name: .long, help: "Also print the payload.") var payload = false
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            try await withJobs(options) { try await $0.show(id: id, showPayload: payload, json: json) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make dead or cancelled jobs available again: by id, or every one matching a filter.")
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var filter: FilterOptions
        @Argument(help: "Job ids.") var ids: [Int64] = []
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let filter = try self.filter.filter(ids: ids)
            try await withJobs(options) { try await $0.retry(filter, json: json) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel unfinished jobs (running ones are stopped): by id, or every one matching a filter.")
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var filter: FilterOptions
        @Argument(help: "Job ids.") var ids: [Int64] = []
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let filter = try self.filter.filter(ids: ids)
            try await withJobs(options) { try await $0.cancel(filter, json: json) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete jobs that are not running: by id, or every one matching a filter.")
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var filter: FilterOptions
        @Argument(help: "Job ids.") var ids: [Int64] = []
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let filter = try self.filter.filter(ids: ids)
            try await withJobs(options) { try await $0.delete(filter, json: json) }
        }
    }
}

/// `--state`, `--kind`, `--queue`.
struct FilterOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Only jobs in these states (comma-separated: scheduled, available, running, succeeded, dead, cancelled).")
    var state: String?
    @Option(name: .long, help: "Only jobs of this kind.") var kind: String?
    @Option(name: .long, help: "Only jobs of this queue.") var queue: String?

    func filter(ids: [Int64]) throws -> JobsCommandRunner.Selection {
        try JobsCommandRunner.Selection(states: state, kind: kind, queue: queue, ids: ids)
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Pause and resume queues (a paused queue is not claimed by any worker).",
        subcommands: [List.self, Pause.self, Resume.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The paused queues.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            try await withJobs(options) { try await $0.pausedQueues() }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every worker claiming from a queue.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Queue name.") var name: String

        func run() async throws {
            try await withJobs(options) { try await $0.setPaused(true, queue: name) }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let workers claim from a paused queue again.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Queue name.") var name: String

        func run() async throws {
            try await withJobs(options) { try await $0.setPaused(false, queue: name) }
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration.",
        subcommands: [Show.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every key's effective value and where it came from (secrets redacted).")
        @OptionGroup var options: DatabaseOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let launch = try await options.load()
            print(try launch.configuration.show(json: json))
        }
    }
}

/// Runs one jobs command and prints its answer.
func withJobs(_ options: DatabaseOptions, _ body: (JobsCommandRunner) async throws -> String) async throws {
    let launch = try await options.load()
    let jobs = try JobsCommandRunner(configuration: launch.configuration, logger: launch.logger)
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
        print(try await DemoSeeder.seed(configuration: launch.configuration, logger: launch.logger))
    }
}
