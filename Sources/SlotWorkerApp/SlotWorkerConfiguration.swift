import Configuration
public import Foundation
public import JobQueue
public import PostgresClient
public import Tasks

/// Everything `slot-worker` can be configured with, resolved once at start-up.
///
/// Sources, highest priority first: command-line flags, environment variables (`SLOT_WORKER_*`, plus
/// `DATABASE_URL`), an optional JSON file (`--config FILE` or `SLOT_WORKER_CONFIG`, see
/// `config/slot-worker.json`), then the defaults below. A value that is present but malformed is an error naming
/// the key and the variable — never silently replaced by the default. Secrets (`database.url` passwords, the bot
/// token, the metrics token) are read as secrets and never printed; ``redactedSummary`` is what may be logged.
public struct SlotWorkerConfiguration: Sendable {
    public var databaseURL: String
    /// A direct (non-PgBouncer) URL for LISTEN; defaults to `databaseURL`.
    public var listenURL: String?
    public var poolSize: Int
    public var acquireTimeout: Duration
    public var connectTimeoutSeconds: Int
    /// `database.prepared_statements`: `named`, `unnamed`, or nil for auto (see ``preparedStatementMode``).
    public var preparedStatements: PostgresConfiguration.PreparedStatements?

    // Dead connections and runaway statements (`database.keepalives_*`, `database.tcp_user_timeout_ms`,
    // `database.statement_timeout_ms`, `database.idle_in_transaction_timeout_ms`): see ``PostgresTimeouts``.
    // Applied to the pool and the LISTEN connection of `slot-worker run`; `0` turns a session timeout off.
    public var databaseTimeouts: PostgresTimeouts

    public var httpHost: String
    public var httpPort: Int
    public var httpConnectionLimit: Int
    public var httpPerIPConnectionLimit: Int
    public var httpConnectionTimeoutSeconds: Int
    public var httpThreads: Int
    public var metricsBearerToken: String?

    public var workerID: String
    /// Jobs run at once (`worker.concurrency`).
    public var concurrency: Int
    /// Of those, jobs of kinds that use the database (`worker.database_concurrency`, default `database.pool_size`).
    public var databaseConcurrency = 10
    public var pollInterval: Duration
    public var listenForNotifications: Bool
    public var leaseDuration: Duration
    public var shutdownTimeout: Duration
    /// Releases at shutdown that give the attempt back, per job (`worker.max_releases`).
    public var maxReleases: Int
    public var statsInterval: Duration

    public var finishedRetention: Duration
    public var deadRetention: Duration

    public var releaseLapsedSchedule: PeriodicSchedule
    public var expirePastSchedule: PeriodicSchedule
    public var telegramBotToken: String?
    public var telegramAPIURL: String

    public var logLevel: String
    /// `text` (swift-log's stream format) or `json` (one object per line).
    public var logFormat: LogFormat

    // MARK: Issue 14: the operator's console

    /// Enables the console's actions (retry, cancel, delete, pause); nil: the console is read-only.
    public var consoleAdminToken: String?
    /// Whether job detail pages show payloads (they may hold personal data).
    public var consoleShowPayloads: Bool
    /// Statement timeout of every console query.
    public var consoleStatementTimeout: Duration
    /// Counts above this are estimated instead of counted.
    public var consoleExactCountLimit: Int

    /// Every key read, in reading order, with its effective value (secrets redacted) and where it came from.
    public var entries: [ConfigurationEntry] = []
    /// `SLOT_WORKER_*` variables that name no key (typos, removed keys): logged as warnings at start-up.
    public var unknownVariables: [String] = []

    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }

    // MARK: Reminders, Telegram limits, slot expiry (read in SlotWorkerConfiguration+Reminders.swift)
    /// `reminders.*`, `telegram.max_messages_per_second`, `tasks.notify_lapsed_reservations`.
    public var reminders = ReminderSettings()
    /// `telegram.timeout`: one Bot API request, connect to last byte.
    public var telegramTimeout: Duration = .seconds(10)
    /// `tasks.slot_stats_every_seconds`: how often slots per status are sampled.
    public var slotStatsInterval: Duration = .seconds(30)
    // MARK: -

    /// A value that could not be used, named by its configuration key and environment variable.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var key: String
        public var reason: String
        public var description: String {
            key == "config"
                ? "invalid configuration: \(reason)"
                : "invalid configuration \(key) (\(ConfigurationEntry.variable(for: key))): \(reason)"
        }
    }

    /// Pool options from the configuration, with at most `maxConnections` (operator commands need one).
    public func poolOptions(maxConnections: Int? = nil) -> PostgresPool.Options {
        .init(maxConnections: maxConnections.map { min($0, poolSize) } ?? poolSize, acquireTimeout: acquireTimeout)
    }

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - overrides: values from command-line flags.
    ///   - environment: the process environment (injectable for tests).
    ///   - configFile: a JSON file; when nil, `SLOT_WORKER_CONFIG` is consulted.
    public static func load(
        overrides: SlotWorkerOverrides = SlotWorkerOverrides(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) async throws -> SlotWorkerConfiguration {
        let reader = try await ConfigurationReader.make(
            overrides: overrides.values, environment: environment, configFile: configFile)
        var configuration = SlotWorkerConfiguration(
            databaseURL: try reader.requiredString("database.url", secret: true, unscoped: true),
            listenURL: try reader.string("database.listen_url", secret: true),
            poolSize: try reader.int("database.pool_size", default: 10, range: 1...500),
            acquireTimeout: .milliseconds(
                try reader.int("database.acquire_timeout_ms", default: 5000, range: 1...600_000)),
            connectTimeoutSeconds: try reader.int("database.connect_timeout_seconds", default: 5, range: 1...300),
            preparedStatements: try reader.preparedStatements("database.prepared_statements"),
            databaseTimeouts: PostgresTimeouts(
                keepalivesIdleSeconds: try reader.int("database.keepalives_idle_seconds", default: 10, range: 1...3600),
                keepalivesIntervalSeconds: try reader.int(
                    "database.keepalives_interval_seconds", default: 3, range: 1...600),
                keepalivesCount: try reader.int("database.keepalives_count", default: 3, range: 1...100),
                tcpUserTimeout: .milliseconds(
                    try reader.int("database.tcp_user_timeout_ms", default: 10_000, range: 100...600_000)),
                statementTimeout: .milliseconds(
                    try reader.int("database.statement_timeout_ms", default: 30_000, range: 0...86_400_000)),
                idleInTransactionTimeout: .milliseconds(
                    try reader.int(
                        "database.idle_in_transaction_timeout_ms", default: 60_000, range: 0...86_400_000))
            ),
            httpHost: try reader.string("http.host", default: "127.0.0.1"),
            httpPort: try reader.int("http.port", default: 9464, range: 0...65535),
            httpConnectionLimit: try reader.int("http.connection_limit", default: 512, range: 1...100_000),
            httpPerIPConnectionLimit: try reader.int("http.per_ip_connection_limit", default: 64, range: 0...100_000),
            httpConnectionTimeoutSeconds: try reader.int(
                "http.connection_timeout_seconds", default: 10, range: 1...3600),
            httpThreads: try reader.int("http.threads", default: 1, range: 1...64),
            metricsBearerToken: try reader.string("http.metrics_token", secret: true),
            workerID: try reader.string("worker.id") ?? JobRunnerConfiguration.makeWorkerID(),
            concurrency: try reader.int("worker.concurrency", default: Self.defaultConcurrency, range: 1...10_000),
            pollInterval: .milliseconds(try reader.int("worker.poll_interval_ms", default: 1000, range: 10...600_000)),
            listenForNotifications: try reader.bool("worker.listen", default: true),
            leaseDuration: .seconds(try reader.int("worker.lease_seconds", default: 30, range: 2...86_400)),
            shutdownTimeout: .seconds(try reader.int("worker.shutdown_timeout_seconds", default: 25, range: 0...3600)),
            maxReleases: try reader.int("worker.max_releases", default: 5, range: 0...1000),
            statsInterval: .milliseconds(
                try reader.int("worker.stats_interval_ms", default: 5000, range: 100...600_000)),
            finishedRetention: .seconds(
                3600 * (try reader.int("retention.finished_hours", default: 24, range: 0...87_600))),
            deadRetention: .seconds(86_400 * (try reader.int("retention.dead_days", default: 7, range: 0...3650))),
            releaseLapsedSchedule: try reader.schedule("tasks.release_lapsed.schedule", default: "every 60s"),
            expirePastSchedule: try reader.schedule("tasks.expire_past.schedule", default: "every 300s"),
            telegramBotToken: try reader.string("telegram.bot_token", secret: true),
            telegramAPIURL: try reader.string("telegram.api_url", default: "https://api.telegram.org"),
            logLevel: try reader.string("log.level", default: "info"),
            logFormat: try reader.choice("log.format", default: LogFormat.text),
            consoleAdminToken: try reader.string("console.admin_token", secret: true),
            consoleShowPayloads: try reader.bool("console.show_payloads", default: false),
            consoleStatementTimeout: .milliseconds(
                try reader.int("console.statement_timeout_ms", default: 2000, range: 10...600_000)),
            consoleExactCountLimit: try reader.int(
                "console.exact_count_limit", default: 100_000, range: 0...100_000_000)
        )
        configuration.databaseConcurrency = try reader.int(
            "worker.database_concurrency", default: configuration.poolSize, range: 1...10_000)
        try configuration.readReminderKeys(reader)
        configuration.entries = reader.entries
        let known = Set(reader.entries.flatMap { [$0.variable, $0.variable + "_FILE"] })
        configuration.unknownVariables = environment.keys.filter {
            $0.hasPrefix("SLOT_WORKER_") && !known.contains($0) && !Self.otherVariables.contains($0)
        }.sorted()
        if configuration.listenURL?.isEmpty == true { configuration.listenURL = nil }
        if configuration.metricsBearerToken?.isEmpty == true { configuration.metricsBearerToken = nil }
        if configuration.consoleAdminToken?.isEmpty == true { configuration.consoleAdminToken = nil }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(configuration.logLevel)
        else {
            throw Invalid(
                key: "log.level",
                reason:
                    "\"\(configuration.logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        return configuration
    }

    /// `worker.concurrency`'s default: jobs of kinds that need no connection run this many at once, the others
    /// only as many as `worker.database_concurrency` allows (see the README's "Performance").
    public static let defaultConcurrency = 1000

    /// `SLOT_WORKER_*` variables that are not configuration keys.
    static let otherVariables: Set<String> = ["SLOT_WORKER_CONFIG", "SLOT_WORKER_BINARY", "SLOT_WORKER_GIT_REVISION"]

    /// How `DATABASE_URL`'s connections send hot statements: the configured mode, or automatically `unnamed` when a
    /// separate `database.listen_url` is set (the documented PgBouncer setup: the main URL goes through a pooler,
    /// where named statements break) and `named` otherwise.
    public var preparedStatementMode: PostgresConfiguration.PreparedStatements {
        preparedStatements ?? (listenURL == nil ? .named : .unnamed)
    }

    /// `DATABASE_URL` parsed, with the connect timeout and the prepared-statement mode applied.
    ///
    /// - Parameter timeouts: keepalives and session timeouts (`slot-worker run` passes ``databaseTimeouts``; other
    ///   commands keep keepalives only, so a long migration is not cut by a statement timeout).
    public func postgresConfiguration(timeouts: PostgresTimeouts = PostgresTimeouts()) throws -> PostgresConfiguration {
        var postgres = try PostgresConfiguration(
            databaseURL, connectTimeoutSeconds: connectTimeoutSeconds, timeouts: timeouts)
        postgres.preparedStatements = preparedStatementMode
        return postgres
    }

    /// A one-line summary safe to log: no URLs with passwords, no tokens.
    public var redactedSummary: String {
        "http=\(httpHost):\(httpPort) pool=\(poolSize) prepared_statements=\(preparedStatementMode.rawValue) "
            + "concurrency=\(concurrency) database_concurrency=\(databaseConcurrency) worker=\(workerID) "
            + "listen=\(listenForNotifications) poll=\(pollInterval) lease=\(leaseDuration) "
            + "metrics_token=\(metricsBearerToken == nil ? "unset" : "set") "
            + "telegram_token=\(telegramBotToken == nil ? "unset" : "set")"
    }
}
